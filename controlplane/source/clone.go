package source

import (
	"maps"
	"slices"

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
		EndpointSlices:    idx.EndpointSlices.clone(slices.Clone[[]*EndpointSlice]),
		Endpoints:         cloneMap(idx.Endpoints),
		Secrets:           cloneMap(idx.Secrets),
		Ingresses:         cloneMap(idx.Ingresses),
		IngressClasses:    cloneMap(idx.IngressClasses),
		HTTPProxies:       idx.HTTPProxies.clone(nil),
		Delegations:       cloneMap(idx.Delegations),
		IngressRoutes:     cloneMap(idx.IngressRoutes),
		LegacyDelegations: cloneMap(idx.LegacyDelegations),
		ExtensionServices: cloneMap(idx.ExtensionServices),
		Origins:           cloneMap(idx.Origins),
		Notes:             append([]status.Finding(nil), idx.Notes...),
	}
	return c
}

// cloneMap copies m (maps.Clone copies the table as it is, without
// hashing every key again); a nil map gives an empty one.
func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return maps.Clone(m)
}

// Bits of Index.shared, one per map Upsert and Delete write.
const (
	bitNamespaces uint16 = 1 << iota
	bitServices
	bitEndpoints
	bitSecrets
	bitIngresses
	bitIngressClasses
	bitDelegations
	bitIngressRoutes
	bitLegacyDelegations
	bitExtensionServices
	bitAll = 1<<iota - 1
)

// Snapshot returns an index that shares idx's maps and never changes: idx
// copies a map before its next Upsert or Delete into it (copy on write), so
// a snapshot costs a struct, and the writes after it one copy of each map
// they touch. Only Upsert and Delete may change idx after a Snapshot;
// writing its maps directly would change the snapshot too. A snapshot
// itself is also copied on write.
func (idx *Index) Snapshot() *Index {
	idx.shared, idx.snapshotted = bitAll, true
	idx.HTTPProxies.share()
	idx.EndpointSlices.share()
	s := *idx
	return &s
}

// own makes *m, the map of bit, idx's own before a write.
func own[K comparable, V any](idx *Index, bit uint16, m *map[K]V) {
	if idx.shared&bit != 0 {
		*m = cloneMap(*m)
		idx.shared &^= bit
	}
}

// Change is a snapshot of an index with what changed since the previous
// one a source handed out.
type Change struct {
	Index *Index
	// Full is set when objects other than HTTPProxies, EndpointSlices and
	// Endpoints changed: only a full compile is right then.
	Full bool
	// Proxies are the HTTPProxies added, updated or deleted, sorted.
	Proxies []types.NamespacedName
	// Services are the Services whose EndpointSlices or Endpoints changed,
	// sorted.
	Services []types.NamespacedName
}
