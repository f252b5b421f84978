package xds_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

func TestMessages(t *testing.T) {
	l1, l2 := &listenerv3.Listener{Name: "l1"}, &listenerv3.Listener{Name: "l2"}
	r, c := &routev3.RouteConfiguration{Name: "r"}, &clusterv3.Cluster{Name: "c"}
	e, s := &endpointv3.ClusterLoadAssignment{ClusterName: "e"}, &tlsv3.Secret{Name: "s"}
	res := &xds.Resources{Listeners: []*listenerv3.Listener{l1, l2}, Routes: []*routev3.RouteConfiguration{r},
		Clusters: []*clusterv3.Cluster{c}, Endpoints: []*endpointv3.ClusterLoadAssignment{e}, Secrets: []*tlsv3.Secret{s}}
	want := []proto.Message{l1, l2, r, c, e, s}
	got := res.Messages()
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d is %v, want %v", i, got[i], want[i])
		}
	}
	if n := len((&xds.Resources{}).Messages()); n != 0 {
		t.Errorf("an empty set lists %d messages", n)
	}
}

// TestSortLargeSets: a set large enough for its lists to be sorted side by
// side comes out with every list sorted by name.
func TestSortLargeSets(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var res xds.Resources
	for _, i := range rng.Perm(3000) {
		name := fmt.Sprintf("ns/svc%d/80", i)
		res.Clusters = append(res.Clusters, &clusterv3.Cluster{Name: name})
		res.Endpoints = append(res.Endpoints, &endpointv3.ClusterLoadAssignment{ClusterName: name})
	}
	for _, i := range rng.Perm(300) {
		res.Routes = append(res.Routes, &routev3.RouteConfiguration{Name: fmt.Sprintf("https/h%d", i)})
		res.Secrets = append(res.Secrets, &tlsv3.Secret{Name: fmt.Sprintf("ns/s%d", i)})
	}
	res.Listeners = []*listenerv3.Listener{{Name: "ingress_https"}, {Name: "ingress_http"}}
	res.Sort()
	for kind, names := range map[string][]string{
		"listeners": names(res.Listeners, (*listenerv3.Listener).GetName),
		"routes":    names(res.Routes, (*routev3.RouteConfiguration).GetName),
		"clusters":  names(res.Clusters, (*clusterv3.Cluster).GetName),
		"endpoints": names(res.Endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName),
		"secrets":   names(res.Secrets, (*tlsv3.Secret).GetName),
	} {
		if !slices.IsSorted(names) || len(names) == 0 {
			t.Errorf("%s: %d, not sorted", kind, len(names))
		}
	}
}

func names[T any](list []T, name func(T) string) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = name(x)
	}
	return out
}
