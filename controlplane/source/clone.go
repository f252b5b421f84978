package source

import (
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// Clone returns a copy of the index that can be changed with Upsert and
// Delete without touching idx. Objects themselves are shared: callers never
// mutate stored objects, they replace them.
func (idx *Index) Clone() *Index {
	c := &Index{
		Namespaces:        cloneMap(idx.Namespaces),
		Services:          cloneMap(idx.Services),
		EndpointSlices:    make(map[types.NamespacedName]map[string]*discoveryv1.EndpointSlice, len(idx.EndpointSlices)),
		Endpoints:         cloneMap(idx.Endpoints),
		Secrets:           cloneMap(idx.Secrets),
		Ingresses:         cloneMap(idx.Ingresses),
		IngressClasses:    cloneMap(idx.IngressClasses),
		HTTPProxies:       cloneMap(idx.HTTPProxies),
		Delegations:       cloneMap(idx.Delegations),
		IngressRoutes:     cloneMap(idx.IngressRoutes),
		LegacyDelegations: cloneMap(idx.LegacyDelegations),
		Origins:           cloneMap(idx.Origins),
		Notes:             append([]status.Finding(nil), idx.Notes...),
	}
	for k, v := range idx.EndpointSlices {
		c.EndpointSlices[k] = cloneMap(v)
	}
	return c
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
