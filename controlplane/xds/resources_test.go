package xds_test

import (
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
