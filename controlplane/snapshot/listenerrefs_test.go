package snapshot

import (
	"reflect"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
)

// TestListenerRefs: the answers are References', and filter chains kept
// as the same messages are not decoded again (shown by breaking the
// contract: a chain changed in place keeps its old answer).
func TestListenerRefs(t *testing.T) {
	t.Parallel()
	a, b, c := listenerWith("l", "s1", "r1", ""), listenerWith("l", "", "", "c1"), listenerWith("l", "s2", "r2", "")
	first := &listenerv3.Listener{Name: "l", FilterChains: append(a.FilterChains, b.FilterChains...)}
	second := &listenerv3.Listener{Name: "l", FilterChains: append(c.FilterChains, first.FilterChains[1])}
	var lr ListenerRefs
	for i, l := range []*listenerv3.Listener{first, second} {
		want, err := References(l)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lr.References(l)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("step %d: got %+v, want %+v", i, got, want)
		}
	}
	second.FilterChains[1].Filters = listenerWith("l", "", "", "c9").FilterChains[0].Filters
	got, err := lr.References(&listenerv3.Listener{Name: "l", FilterChains: second.FilterChains})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Refs{Secrets: []string{"s2"}, Routes: []string{"r2"}, Clusters: []string{"c1"}}); !reflect.DeepEqual(got, want) {
		t.Errorf("a kept filter chain was decoded again: got %+v, want %+v", got, want)
	}
	lr.Forget("l")
	if got, _ := lr.References(second); got.Clusters[0] != "c9" {
		t.Errorf("after Forget: got %+v, want cluster c9", got)
	}
}
