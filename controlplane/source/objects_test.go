package source

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

func proxyNamed(ns, name string) *contourv1.HTTPProxy {
	return &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

// TestProxiesCopyOneShard: after a snapshot, a write copies the one shard
// it touches; the snapshot keeps every other shard as the same map, and
// sees none of the writes.
func TestProxiesCopyOneShard(t *testing.T) {
	idx := NewIndex()
	for i := range 1000 {
		if err := idx.Upsert(proxyNamed("ns", fmt.Sprintf("p%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	snap := idx.Snapshot()
	changed := proxyNamed("ns", "p7")
	if err := idx.Upsert(changed); err != nil {
		t.Fatal(err)
	}
	written := shardOf(Key("ns", "p7"))
	for i := range objectShards {
		same := reflect.ValueOf(snap.HTTPProxies.shards[i]).Pointer() == reflect.ValueOf(idx.HTTPProxies.shards[i]).Pointer()
		if same == (i == written) {
			t.Errorf("shard %d: shared with the snapshot %v, want %v", i, same, i != written)
		}
	}
	if got, _ := snap.HTTPProxies.Get(Key("ns", "p7")); got == changed {
		t.Error("the snapshot sees the write")
	}
	if got, _ := idx.HTTPProxies.Get(Key("ns", "p7")); got != changed {
		t.Error("the index lost its write")
	}
	if err := idx.Delete(changed); err != nil {
		t.Fatal(err)
	}
	if snap.HTTPProxies.Len() != 1000 || idx.HTTPProxies.Len() != 999 {
		t.Errorf("lengths: snapshot %d, index %d; want 1000, 999", snap.HTTPProxies.Len(), idx.HTTPProxies.Len())
	}
	if _, ok := snap.HTTPProxies.Get(Key("ns", "p7")); !ok {
		t.Error("the snapshot lost a deleted proxy")
	}
}

// TestProxiesKeys: Len counts each key once, All yields each once,
// SortedKeys sorts by namespace then name, and deleting an absent key
// changes nothing.
func TestProxiesKeys(t *testing.T) {
	var p Objects[*contourv1.HTTPProxy]
	if _, ok := p.Get(Key("a", "b")); ok || p.Len() != 0 || len(p.SortedKeys()) != 0 {
		t.Fatal("the zero value is not empty")
	}
	p.remove(Key("a", "b"))
	for _, k := range []types.NamespacedName{{Namespace: "b", Name: "x"}, {Namespace: "a", Name: "z"}, {Namespace: "a", Name: "y"}, {Namespace: "b", Name: "x"}} {
		p.set(k, proxyNamed(k.Namespace, k.Name))
	}
	p.remove(Key("c", "none"))
	want := []types.NamespacedName{{Namespace: "a", Name: "y"}, {Namespace: "a", Name: "z"}, {Namespace: "b", Name: "x"}}
	if got := p.SortedKeys(); !slices.Equal(got, want) || p.Len() != 3 {
		t.Errorf("keys %v (len %d), want %v", got, p.Len(), want)
	}
	n := 0
	for range p.All() {
		n++
	}
	if n != 3 {
		t.Errorf("All yielded %d, want 3", n)
	}
	c := p.clone(nil)
	p.remove(Key("a", "y"))
	if _, ok := c.Get(Key("a", "y")); !ok || c.Len() != 3 {
		t.Error("a clone changed with the original")
	}
}

// TestShardsPartitionAll: the shards' keys, together, are All's, each
// once, with the same values; the zero value's shards are empty.
func TestShardsPartitionAll(t *testing.T) {
	var p Objects[*contourv1.HTTPProxy]
	for range p.Shard(0) {
		t.Fatal("the zero value's shard yielded a key")
	}
	for i := range 500 {
		k := Key(fmt.Sprintf("ns%d", i%7), fmt.Sprintf("p%d", i))
		p.set(k, proxyNamed(k.Namespace, k.Name))
	}
	seen := map[types.NamespacedName]int{}
	for i := range Shards {
		for k, v := range p.Shard(i) {
			seen[k]++
			if w, _ := p.Get(k); v != w {
				t.Errorf("shard %d: %v has another value than Get's", i, k)
			}
		}
	}
	for k := range p.All() {
		if seen[k] != 1 {
			t.Errorf("%v in %d shards, want 1", k, seen[k])
		}
	}
	if len(seen) != p.Len() {
		t.Errorf("shards yielded %d keys, want %d", len(seen), p.Len())
	}
}

// TestCloneCopiesSliceLists: an index never snapshotted writes a
// Service's list of EndpointSlices in place, so a Clone must not share
// those lists; and a list stays sorted by name through insertions,
// replacements and deletions.
func TestCloneCopiesSliceLists(t *testing.T) {
	idx := NewIndex()
	add := func(idx *Index, name string) *discoveryv1.EndpointSlice {
		t.Helper()
		s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{ServiceLabel: "svc"}}}
		if err := idx.Upsert(s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	names := func(idx *Index) []string {
		list, _ := idx.EndpointSlices.Get(Key("ns", "svc"))
		var out []string
		for _, s := range list {
			out = append(out, s.Name)
		}
		return out
	}
	a := add(idx, "a")
	c := idx.Clone()
	add(idx, "c")
	add(idx, "b")
	if d := cmp.Diff([]string{"a"}, names(c)); d != "" {
		t.Errorf("the clone's slices (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"a", "b", "c"}, names(idx)); d != "" {
		t.Errorf("the index's slices (-want +got):\n%s", d)
	}
	c2 := idx.Clone()
	a2 := add(idx, "a") // replaced in place: the clone keeps the first
	if list, _ := c2.EndpointSlices.Get(Key("ns", "svc")); list[0].Object != a {
		t.Error("replacing a slice in the index changed the clone's")
	}
	if list, _ := idx.EndpointSlices.Get(Key("ns", "svc")); list[0].Object != a2 {
		t.Error("the index did not take the new slice a")
	}
	if err := idx.Delete(a2); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"b", "c"}, names(idx)); d != "" {
		t.Errorf("after deleting a (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"a", "b", "c"}, names(c2)); d != "" {
		t.Errorf("the clone after the index's deletion (-want +got):\n%s", d)
	}
}
