package source

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

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

// TestCloneCopiesSliceMaps: an index never snapshotted writes a Service's
// map of EndpointSlices in place, so a Clone must not share those maps.
func TestCloneCopiesSliceMaps(t *testing.T) {
	idx := NewIndex()
	add := func(name string) {
		t.Helper()
		s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{ServiceLabel: "svc"}}}
		if err := idx.Upsert(s); err != nil {
			t.Fatal(err)
		}
	}
	add("a")
	c := idx.Clone()
	add("b")
	if got, _ := c.EndpointSlices.Get(Key("ns", "svc")); len(got) != 1 {
		t.Errorf("the clone holds %d slices of ns/svc, want 1", len(got))
	}
	if got, _ := idx.EndpointSlices.Get(Key("ns", "svc")); len(got) != 2 {
		t.Errorf("the index holds %d slices of ns/svc, want 2", len(got))
	}
}
