package source

import (
	"sort"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// Entry is one object of an Index with its reference.
type Entry struct {
	Ref    status.Ref
	Object any
}

// Kind names used in references for kinds the status package does not name.
const (
	KindLegacyDelegation = "TLSCertificateDelegation.contour.heptio.com"
)

// Entries returns every object in the index sorted by kind, namespace and
// name. Consumers that compare two states (diff, scenarios) use it.
func (idx *Index) Entries() []Entry {
	out := idx.EntriesUnordered()
	sort.Slice(out, func(i, j int) bool { return out[i].Ref.Less(out[j].Ref) })
	return out
}

// EntriesUnordered returns every object in the index in no particular
// order, for consumers that only look objects up.
func (idx *Index) EntriesUnordered() []Entry {
	var out []Entry
	add := func(kind, ns, name string, obj any) {
		out = append(out, Entry{Ref: status.Ref{Kind: kind, Namespace: ns, Name: name}, Object: obj})
	}
	for name, o := range idx.Namespaces {
		add(status.KindNamespace, "", name, o)
	}
	for k, o := range idx.Services {
		add(status.KindService, k.Namespace, k.Name, o.entry())
	}
	for _, slices := range idx.EndpointSlices.All() {
		for _, o := range slices {
			add(status.KindEndpointSlice, o.Namespace, o.Name, o.entry())
		}
	}
	for k, o := range idx.Endpoints {
		add(status.KindEndpoints, k.Namespace, k.Name, o)
	}
	for k, o := range idx.Secrets {
		add(status.KindSecret, k.Namespace, k.Name, o)
	}
	for k, o := range idx.Ingresses {
		add(status.KindIngress, k.Namespace, k.Name, o)
	}
	for name, o := range idx.IngressClasses {
		add(status.KindIngressClass, "", name, o)
	}
	for k, o := range idx.HTTPProxies.All() {
		add(status.KindHTTPProxy, k.Namespace, k.Name, o)
	}
	for k, o := range idx.Delegations {
		add(status.KindTLSCertificateDelegation, k.Namespace, k.Name, o)
	}
	for k, o := range idx.IngressRoutes {
		add(status.KindIngressRoute, k.Namespace, k.Name, o)
	}
	for k, o := range idx.ExtensionServices {
		add(status.KindExtensionService, k.Namespace, k.Name, o)
	}
	for k, o := range idx.LegacyDelegations {
		add(KindLegacyDelegation, k.Namespace, k.Name, o)
	}
	return out
}
