package graph

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Reasons and finding codes of the Ingress processor.
const (
	ReasonPathNotValid        = "PathNotValid"
	ReasonHostNotValid        = "HostNotValid"
	ReasonHostOwnedByRoot     = "HostOwnedByRoot"
	ReasonAnnotationNotValid  = "AnnotationNotValid"
	ReasonBackendNotSupported = "BackendNotSupported"
	// FindingIngressHostOwnedByRoot: an Ingress rule names a host a root
	// HTTPProxy or IngressRoute owns.
	FindingIngressHostOwnedByRoot = "IngressHostOwnedByRoot"
	// FindingIgnoredByIngressClass: an object asks for another ingress class.
	FindingIgnoredByIngressClass = "IgnoredByIngressClass"
)

// processIngresses adds the Ingresses whose class matches, the oldest first
// so that the oldest keeps a contested TLS host. As in Contour, the TLS hosts
// of every Ingress are made first: a rule of any Ingress for a host another
// Ingress serves over TLS is served over HTTPS too.
func (b *builder) processIngresses() {
	var ings []*networkingv1.Ingress
	for _, o := range sortedIngresses(b) {
		ing, ref := o.ing, o.ref
		class := objectClass(ing.Annotations, ing.Spec.IngressClassName)
		if !b.classMatches(class) {
			b.ignoredByClass(b.report, ref, class)
			continue
		}
		ings = append(ings, ing)
	}
	anns := make([]ingressAnnotations, len(ings))
	own := make([]map[string]bool, len(ings))
	secure := map[string]bool{}
	for i, ing := range ings {
		ref := status.Ref{Kind: status.KindIngress, Namespace: ing.Namespace, Name: ing.Name}
		b.report.Valid(ref)
		anns[i] = b.ingressAnnotations(ref, ing.Annotations)
		own[i] = b.ingressTLS(ref, ing, anns[i], secure)
	}
	for i, ing := range ings {
		b.processIngress(ing, anns[i], tlsHosts{any: secure, own: own[i]})
	}
}

// tlsHosts are the hosts Ingresses serve over TLS: any Ingress, and the
// Ingress at hand.
type tlsHosts struct{ any, own map[string]bool }

// agedIngress is an Ingress with its reference and age, read once for
// sorting.
type agedIngress struct {
	ing *networkingv1.Ingress
	ref status.Ref
	age Age
}

// sortedIngresses returns the Ingresses oldest first, then by
// namespace/name.
func sortedIngresses(b *builder) []agedIngress {
	list := make([]agedIngress, 0, len(b.idx.Ingresses))
	for _, ing := range b.idx.Ingresses {
		list = append(list, agedIngress{ing, status.Ref{Kind: status.KindIngress, Namespace: ing.Namespace, Name: ing.Name}, ageOf(ing)})
	}
	sort.Slice(list, func(i, j int) bool { return Older(list[i].ref, list[i].age, list[j].ref, list[j].age) })
	return list
}

// ignoredByClass reports, in rep, an object skipped for its ingress class.
func (b *builder) ignoredByClass(rep *status.Report, ref status.Ref, class string) {
	want := `no class or "contour"`
	if b.opts.IngressClass != "" {
		want = fmt.Sprintf("%q", b.opts.IngressClass)
		if strings.Contains(b.opts.IngressClass, ",") {
			want = fmt.Sprintf("the classes %q", strings.Split(b.opts.IngressClass, ","))
		}
	}
	rep.Find(status.Finding{Code: FindingIgnoredByIngressClass, Severity: status.SeverityInfo, Objects: []status.Ref{ref},
		Message: fmt.Sprintf("%s asks for ingress class %q; this control plane serves %s, so it is ignored", ref, class, want)})
}

// processIngress adds the rules of one Ingress. The default backend is a
// rule with no host and path "/", placed first; a rule of the Ingress with
// no host and that path replaces it, as in Contour.
func (b *builder) processIngress(ing *networkingv1.Ingress, ann ingressAnnotations, tls tlsHosts) {
	ref := status.Ref{Kind: status.KindIngress, Namespace: ing.Namespace, Name: ing.Name}
	rules := ing.Spec.Rules
	offset := 0
	if db := ing.Spec.DefaultBackend; db != nil {
		if field, ok := noHostRootPath(rules); ok {
			b.report.Find(status.Finding{Code: ReasonIgnoredField, Severity: status.SeverityInfo, Objects: []status.Ref{ref},
				Message: fmt.Sprintf("%s: spec.defaultBackend is not used: %s (no host, path \"/\") takes every request it would get", ref, field)})
		} else {
			rules = append([]networkingv1.IngressRule{{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", Backend: *db}},
			}}}}, rules...)
			offset = -1
		}
	}
	for i, rule := range rules {
		b.ingressRule(ref, ing, i+offset, rule, ann, tls)
	}
}

// noHostRootPath finds the first path of rules with no host whose match is
// the default backend's (prefix "/"), and names it.
func noHostRootPath(rules []networkingv1.IngressRule) (string, bool) {
	for i, rule := range rules {
		if rule.Host != "" || rule.HTTP == nil {
			continue
		}
		for j, p := range rule.HTTP.Paths {
			if pm, err := ingressPath(p); err == nil && p.Backend.Service != nil && pm == (PathMatch{Kind: PathPrefix, Value: "/"}) {
				return fmt.Sprintf("%s.http.paths[%d]", ruleField(i), j), true
			}
		}
	}
	return "", false
}

// ruleField names rule i of an Ingress in messages; -1 is its default
// backend.
func ruleField(i int) string {
	if i < 0 {
		return "spec.defaultBackend"
	}
	return fmt.Sprintf("spec.rules[%d]", i)
}

// ingressRule adds the paths of rule i (see ruleField).
func (b *builder) ingressRule(ref status.Ref, ing *networkingv1.Ingress, i int, rule networkingv1.IngressRule, ann ingressAnnotations, tls tlsHosts) {
	host := "*"
	if rule.Host != "" {
		h, err := normalizeFQDN(rule.Host, true)
		if err != nil {
			b.report.Error(ref, status.RuleError, ReasonHostNotValid, "%s host %q: %s", ruleField(i), rule.Host, err)
			return
		}
		host = h
	}
	b.pin(host)
	if owner, ok := b.owners[host]; ok {
		b.report.Error(ref, status.RuleError, ReasonHostOwnedByRoot, "%s host %q is owned by %s; the rule is ignored", ruleField(i), host, owner)
		b.report.Find(status.Finding{Code: FindingIngressHostOwnedByRoot, Severity: status.SeverityError, Objects: []status.Ref{owner, ref},
			Message: fmt.Sprintf("%s claims host %q, which %s owns; only the root's routes are served", ref, host, owner)})
		return
	}
	if rule.HTTP == nil {
		return
	}
	for j, p := range rule.HTTP.Paths {
		r, err := b.ingressRoute(ref, ing, p, ann)
		if err != nil {
			reason := ReasonPathNotValid
			if le, ok := err.(*LookupError); ok {
				reason = le.Reason
			} else if be, ok := err.(backendError); ok {
				reason = be.reason
			}
			b.report.Error(ref, status.RuleError, reason, "%s.http.paths[%d] path %q: %s", ruleField(i), j, p.Path, err)
			if r == nil {
				continue
			}
		}
		b.addIngressRoute(host, r, ann, tls.any[host] && host != "*", tls.own[host])
	}
}

// addIngressRoute adds r, a path of an Ingress rule for host, as Contour
// does: to the host's secure virtual host when an Ingress (this one or
// another) serves the host over TLS, and on port 80 unless the Ingress has
// kubernetes.io/ingress.allow-http "false". On port 80 it answers 301 to
// https when the Ingress has ingress.kubernetes.io/force-ssl-redirect "true"
// (with TLS for the host or not, and even with allow-http "false"), or, with
// permitInsecure disabled globally (Isobar's reading of the setting), when
// the Ingress itself has TLS for the host (own).
func (b *builder) addIngressRoute(host string, r *Route, ann ingressAnnotations, secure, own bool) {
	key := r.Key()
	if secure {
		b.addTo(&b.g.SecureVirtualHost(host).VirtualHost, key, r)
	}
	if !ann.allowHTTP && !ann.forceSSLRedirect {
		return
	}
	if !ann.forceSSLRedirect && (!own || b.insecureAllowed(true)) {
		b.addTo(b.g.VirtualHost(host), key, r)
		return
	}
	redirect := b.newRoute()
	*redirect = *r
	redirect.HTTPSRedirect = true
	b.addTo(b.g.VirtualHost(host), key, redirect)
}

type backendError struct{ reason, msg string }

func (e backendError) Error() string { return e.msg }

// ingressRoute builds the route of one path. A backend that cannot be
// resolved gives the route with no backends (503) and the error.
func (b *builder) ingressRoute(ref status.Ref, ing *networkingv1.Ingress, p networkingv1.HTTPIngressPath, ann ingressAnnotations) (*Route, error) {
	pm, err := ingressPath(p)
	if err != nil {
		return nil, err
	}
	r := b.newRoute()
	*r = Route{Path: pm, Source: ref, Age: ageOf(ing), Retry: ann.retry, Timeouts: ann.timeouts}
	r.Websocket = ann.websocketPaths[p.Path] || (p.Path == "" && ann.websocketPaths["/"])
	svc := p.Backend.Service
	if svc == nil {
		return nil, backendError{ReasonBackendNotSupported, "only Service backends are supported"}
	}
	port := intstr.FromInt32(svc.Port.Number)
	if svc.Port.Name != "" {
		port = intstr.FromString(svc.Port.Name)
	}
	c, err := b.lookupService(ing.Namespace, svc.Name, port)
	if err != nil {
		return r, err
	}
	r.Backends = []Backend{{Cluster: c, Weight: 1}}
	if b.opts.Headers.ApplyToIngress {
		b.opts.Headers.applyTo(&r.Backends[0], ing.Namespace, &contourv1.Service{Name: svc.Name, Port: int(svc.Port.Number)})
	}
	return r, nil
}

// ingressPath maps an Ingress path and pathType to a path match.
func ingressPath(p networkingv1.HTTPIngressPath) (PathMatch, error) {
	path := p.Path
	if path == "" {
		path = "/"
	}
	kind := networkingv1.PathTypeImplementationSpecific
	if p.PathType != nil {
		kind = *p.PathType
	}
	var pm PathMatch
	switch kind {
	case networkingv1.PathTypeExact:
		pm = PathMatch{Kind: PathExact, Value: path}
	case networkingv1.PathTypePrefix:
		trimmed := trimTrailingSlash(path)
		pm = PathMatch{Kind: PathSegmentPrefix, Value: trimmed}
		if trimmed == "/" {
			pm.Kind = PathPrefix
		}
	case networkingv1.PathTypeImplementationSpecific:
		pm = PathMatch{Kind: PathPrefix, Value: path}
		if isImplementationSpecificRegex(path) {
			pm.Kind = PathRegex
		}
	default:
		return pm, fmt.Errorf("unknown pathType %q", kind)
	}
	if err := validatePath(pm.Kind, pm.Value); err != nil {
		return pm, err
	}
	return pm, nil
}

func trimTrailingSlash(p string) string {
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}

// ingressTLS creates the secure virtual hosts of spec.tls and returns the
// hosts the Ingress serves over HTTPS, which it also adds to secure. With a
// minimum TLS version above the maximum it serves none (as Contour), and
// says so.
func (b *builder) ingressTLS(ref status.Ref, ing *networkingv1.Ingress, ann ingressAnnotations, secure map[string]bool) map[string]bool {
	if ann.minTLS != "" && ann.maxTLS != "" && ann.minTLS > ann.maxTLS {
		effect := "the Ingress has no spec.tls, so they have no effect"
		if len(ing.Spec.TLS) > 0 {
			effect = "no TLS version is left, so the hosts of spec.tls are not served over HTTPS"
			for _, t := range ing.Spec.TLS {
				for _, h := range t.Hosts {
					if host, err := normalizeFQDN(h, true); err == nil {
						b.pin(host)
					}
				}
			}
		}
		b.report.Error(ref, status.TLSError, ReasonAnnotationNotValid, "annotation %s %q is above %s %q: %s",
			annTLSMinimum, ann.minTLS, annTLSMaximum, ann.maxTLS, effect)
		return nil
	}
	own := map[string]bool{}
	for i, t := range ing.Spec.TLS {
		secretRef := t.SecretName
		if ann.certNamespace != "" {
			secretRef = ann.certNamespace + "/" + t.SecretName
		}
		secret, err := b.lookupTLSSecret(secretRef, ing.Namespace)
		if err != nil {
			le := err.(*LookupError)
			b.report.Error(ref, status.TLSError, le.Reason, "spec.tls[%d]: %s", i, le.Message)
			continue
		}
		b.checkCertificateTime(ref, fmt.Sprintf("spec.tls[%d].secretName", i), secret)
		for _, h := range t.Hosts {
			host, err := normalizeFQDN(h, true)
			if err != nil {
				b.report.Error(ref, status.TLSError, ReasonHostNotValid, "spec.tls[%d] host %q: %s", i, h, err)
				continue
			}
			b.pin(host)
			if _, owned := b.owners[host]; owned {
				continue // reported with the rules
			}
			vh := b.g.SecureVirtualHost(host)
			if vh.Secret != nil && (vh.Secret.Namespace != secret.Namespace || vh.Secret.Name != secret.Name) {
				b.report.Warning(ref, status.TLSError, "TLSHostConflict",
					"spec.tls[%d] host %q already uses Secret %s/%s from %s (older); this Secret is ignored for it",
					i, host, vh.Secret.Namespace, vh.Secret.Name, vh.Owner)
				secure[host], own[host] = true, true
				continue
			}
			if vh.Secret == nil {
				vh.Secret, vh.Owner, vh.MinTLS, vh.MaxTLS = secret, ref, ann.minTLS, ann.maxTLS
			}
			secure[host], own[host] = true, true
		}
	}
	return own
}
