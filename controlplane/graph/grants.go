package graph

import (
	"strings"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// IncludeFromAnnotation, on a Namespace, lists the namespaces whose
// HTTPProxies may include the HTTPProxies of this one (and whose
// IngressRoutes may delegate to its IngressRoutes), comma-separated, or
// "*" for any. It is read only with Options.IncludeGrants.
const IncludeFromAnnotation = "isobar.dev/include-from"

// ReasonIncludeNotPermitted is given when Options.IncludeGrants is set and
// an include names a namespace that does not grant the includer's (an
// Isobar reason: Contour has no such rule).
const ReasonIncludeNotPermitted = "IncludeNotPermitted"

// includeGranted reports whether an object of namespace from may include
// (or delegate to) the objects of namespace to: always without
// Options.IncludeGrants or within one namespace; otherwise only when to's
// Namespace object lists from, or "*", in IncludeFromAnnotation. A missing
// Namespace object grants nothing.
func (b *builder) includeGranted(from, to string) bool {
	if !b.opts.IncludeGrants || from == to {
		return true
	}
	ns, ok := b.idx.Namespaces[to]
	if !ok {
		return false
	}
	for _, item := range strings.Split(ns.Annotations[IncludeFromAnnotation], ",") {
		if item = strings.TrimSpace(item); item == "*" || item == from {
			return true
		}
	}
	return false
}

// refuseInclude reports, when parent's include of child (found or not) is
// not granted, why: an error of kind t on parent and, when child exists, a
// warning on child, which no walk from parent reaches (a squatter's object
// says it was refused, not only orphaned).
func (b *builder) refuseInclude(parent, child status.Ref, found bool, t status.ConditionType) {
	what := "include"
	if parent.Kind == status.KindIngressRoute {
		what = "delegate"
	}
	b.report.Error(parent, t, ReasonIncludeNotPermitted,
		"%s %s/%s not permitted: namespace %s does not grant includes from namespace %s (annotation %s on the Namespace)",
		what, child.Namespace, child.Name, child.Namespace, parent.Namespace, IncludeFromAnnotation)
	if found {
		b.report.Warning(child, t, ReasonIncludeNotPermitted,
			"not included by %s/%s: namespace %s does not grant includes from namespace %s (annotation %s on the Namespace)",
			parent.Namespace, parent.Name, child.Namespace, parent.Namespace, IncludeFromAnnotation)
	}
}
