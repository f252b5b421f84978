package source

import (
	"iter"
	"maps"

	"k8s.io/apimachinery/pkg/types"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// proxyShards is how many maps Proxies spreads its HTTPProxies over.
const proxyShards = 64

// Proxies are an index's HTTPProxies by namespace and name. Unlike the
// index's other maps they are held in shards, so that a write after a
// Snapshot copies only the shard it touches (about 1/64th of them) instead
// of every HTTPProxy: a live index takes a snapshot per build, and a build
// triggered by one HTTPProxy would otherwise first copy all of them. The
// zero value is empty and usable; only the index writes it.
type Proxies struct {
	shards *[proxyShards]map[types.NamespacedName]*contourv1.HTTPProxy
	// shared has a bit per shard shared with a snapshot; arrayShared is
	// set while shards itself is.
	shared      uint64
	arrayShared bool
	n           int
}

// shardOf spreads keys over the shards (FNV-1a of namespace and name).
func shardOf(k types.NamespacedName) int {
	h := uint32(2166136261)
	for i := 0; i < len(k.Namespace); i++ {
		h = (h ^ uint32(k.Namespace[i])) * 16777619
	}
	h *= 16777619 // a separator: ("ab", "c") and ("a", "bc") differ
	for i := 0; i < len(k.Name); i++ {
		h = (h ^ uint32(k.Name[i])) * 16777619
	}
	return int(h % proxyShards)
}

// Get returns the HTTPProxy called k.
func (p *Proxies) Get(k types.NamespacedName) (*contourv1.HTTPProxy, bool) {
	if p.shards == nil {
		return nil, false
	}
	v, ok := p.shards[shardOf(k)][k]
	return v, ok
}

// Len is the number of HTTPProxies.
func (p *Proxies) Len() int { return p.n }

// All yields every HTTPProxy with its key, in no particular order.
func (p *Proxies) All() iter.Seq2[types.NamespacedName, *contourv1.HTTPProxy] {
	return func(yield func(types.NamespacedName, *contourv1.HTTPProxy) bool) {
		if p.shards == nil {
			return
		}
		for _, m := range p.shards {
			for k, v := range m {
				if !yield(k, v) {
					return
				}
			}
		}
	}
}

// SortedKeys returns the keys sorted by namespace, then name.
func (p *Proxies) SortedKeys() []types.NamespacedName {
	keys := make([]types.NamespacedName, 0, p.n)
	for k := range p.All() {
		keys = append(keys, k)
	}
	sortKeys(keys)
	return keys
}

// share marks every shard shared with a snapshot: the next write copies
// the array of shards and the shard it writes.
func (p *Proxies) share() {
	p.shared, p.arrayShared = ^uint64(0), true
}

// own makes the shard of k writable and returns it.
func (p *Proxies) own(k types.NamespacedName) map[types.NamespacedName]*contourv1.HTTPProxy {
	if p.shards == nil {
		p.shards, p.shared, p.arrayShared = new([proxyShards]map[types.NamespacedName]*contourv1.HTTPProxy), 0, false
	}
	if p.arrayShared {
		a := *p.shards
		p.shards, p.arrayShared = &a, false
	}
	i := shardOf(k)
	if p.shared&(1<<i) != 0 || p.shards[i] == nil {
		p.shards[i] = cloneMap(p.shards[i])
		p.shared &^= 1 << i
	}
	return p.shards[i]
}

// set stores v as k.
func (p *Proxies) set(k types.NamespacedName, v *contourv1.HTTPProxy) {
	m := p.own(k)
	if _, had := m[k]; !had {
		p.n++
	}
	m[k] = v
}

// remove deletes k.
func (p *Proxies) remove(k types.NamespacedName) {
	if _, had := p.Get(k); !had {
		return
	}
	delete(p.own(k), k)
	p.n--
}

// clone returns a copy that shares nothing with p but the HTTPProxies.
func (p *Proxies) clone() Proxies {
	c := Proxies{n: p.n}
	if p.shards != nil {
		c.shards = new([proxyShards]map[types.NamespacedName]*contourv1.HTTPProxy)
		for i, m := range p.shards {
			if m != nil {
				c.shards[i] = maps.Clone(m)
			}
		}
	}
	return c
}
