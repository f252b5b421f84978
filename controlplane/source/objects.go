package source

import (
	"iter"
	"maps"

	"k8s.io/apimachinery/pkg/types"
)

// objectShards is how many maps Objects spreads its values over.
const objectShards = 64

// Objects are values by namespace and name, held in shards so that a write
// after a Snapshot copies only the shard it touches (about 1/64th of them)
// instead of all: a live index takes a snapshot per build, and a build
// triggered by one HTTPProxy, or by one Service's EndpointSlices, would
// otherwise first copy every one of them. The index keeps its HTTPProxies
// and EndpointSlices so; its other maps change with full builds only. The
// zero value is empty and usable; only the index writes it.
type Objects[V any] struct {
	shards *[objectShards]map[types.NamespacedName]V
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
	return int(h % objectShards)
}

// Get returns the value of k.
func (p *Objects[V]) Get(k types.NamespacedName) (V, bool) {
	if p.shards == nil {
		var zero V
		return zero, false
	}
	v, ok := p.shards[shardOf(k)][k]
	return v, ok
}

// Len is the number of keys.
func (p *Objects[V]) Len() int { return p.n }

// All yields every key with its value, in no particular order.
func (p *Objects[V]) All() iter.Seq2[types.NamespacedName, V] {
	return func(yield func(types.NamespacedName, V) bool) {
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

// Shards is the number of parts Shard cuts the keys into.
const Shards = objectShards

// Shard yields the keys of part i (of Shards) with their values, in no
// particular order: the parts are disjoint, and together they are All.
func (p *Objects[V]) Shard(i int) iter.Seq2[types.NamespacedName, V] {
	return func(yield func(types.NamespacedName, V) bool) {
		if p.shards == nil {
			return
		}
		for k, v := range p.shards[i] {
			if !yield(k, v) {
				return
			}
		}
	}
}

// SortedKeys returns the keys sorted by namespace, then name.
func (p *Objects[V]) SortedKeys() []types.NamespacedName {
	keys := make([]types.NamespacedName, 0, p.n)
	for k := range p.All() {
		keys = append(keys, k)
	}
	sortKeys(keys)
	return keys
}

// share marks every shard shared with a snapshot: the next write copies
// the array of shards and the shard it writes.
func (p *Objects[V]) share() {
	p.shared, p.arrayShared = ^uint64(0), true
}

// own makes the shard of k writable and returns it.
func (p *Objects[V]) own(k types.NamespacedName) map[types.NamespacedName]V {
	if p.shards == nil {
		p.shards, p.shared, p.arrayShared = new([objectShards]map[types.NamespacedName]V), 0, false
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
func (p *Objects[V]) set(k types.NamespacedName, v V) {
	m := p.own(k)
	if _, had := m[k]; !had {
		p.n++
	}
	m[k] = v
}

// remove deletes k.
func (p *Objects[V]) remove(k types.NamespacedName) {
	if _, had := p.Get(k); !had {
		return
	}
	delete(p.own(k), k)
	p.n--
}

// clone returns a copy that shares no map with p; each value is copy(v),
// or v itself when copy is nil.
func (p *Objects[V]) clone(copy func(V) V) Objects[V] {
	c := Objects[V]{n: p.n}
	if p.shards == nil {
		return c
	}
	c.shards = new([objectShards]map[types.NamespacedName]V)
	for i, m := range p.shards {
		switch {
		case m == nil:
		case copy == nil:
			c.shards[i] = maps.Clone(m)
		default:
			c.shards[i] = make(map[types.NamespacedName]V, len(m))
			for k, v := range m {
				c.shards[i][k] = copy(v)
			}
		}
	}
	return c
}
