package snapshot

import (
	"reflect"
	"slices"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// TestRefCacheRoutes: the answers for route configurations are Outgoing's,
// and virtual hosts kept as the same messages are not walked again (shown
// by breaking the contract: a host changed in place keeps its old answer).
func TestRefCacheRoutes(t *testing.T) {
	t.Parallel()
	host := func(name string, clusters ...string) *routev3.VirtualHost {
		vh := &routev3.VirtualHost{Name: name}
		for _, c := range clusters {
			vh.Routes = append(vh.Routes, &routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: c}}}})
		}
		return vh
	}
	first := &routev3.RouteConfiguration{Name: "r", VirtualHosts: []*routev3.VirtualHost{host("a", "c1"), host("b"), host("c", "c2", "c3")}}
	second := &routev3.RouteConfiguration{Name: "r", VirtualHosts: slices.Clone(first.VirtualHosts)}
	second.VirtualHosts[1] = host("b", "c4")
	var c RefCache
	for i, rc := range []*routev3.RouteConfiguration{first, second} {
		want, err := Outgoing(rc, References)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Outgoing(rc)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("step %d: got %v, want %v", i, got, want)
		}
	}
	second.VirtualHosts[2].Routes = host("c", "c9").Routes
	third := &routev3.RouteConfiguration{Name: "r", VirtualHosts: second.VirtualHosts}
	got, _ := c.Outgoing(third)
	if want := [][]Ref{{{KindCluster, "c1"}}, {{KindCluster, "c4"}}, {{KindCluster, "c2"}, {KindCluster, "c3"}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("a kept virtual host was walked again: got %v, want %v", got, want)
	}
	again, _ := c.Outgoing(&routev3.RouteConfiguration{Name: "r", VirtualHosts: third.VirtualHosts})
	if &again[0][0] != &got[0][0] {
		t.Error("a kept virtual host's group is not the same slice")
	}
	c.Forget(KindRoute, "r")
	if got, _ := c.Outgoing(third); !reflect.DeepEqual(got[2], []Ref{{KindCluster, "c9"}}) {
		t.Errorf("after Forget: got %v, want cluster c9 last", got)
	}
}
