package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// TestSlowClientDoesNotStallOthers: one client subscribes and then stops
// reading while large cluster sets keep changing; another client still gets
// every update promptly.
func TestSlowClientDoesNotStallOthers(t *testing.T) {
	base := compiled(t, "fixtures/seeds/talk-delegation")
	// Inflate the cluster set so that responses exceed gRPC's flow-control
	// window and the stalled stream really blocks.
	big := func(round int) *xds.Resources {
		res := *base
		res.Clusters = nil
		res.Endpoints = append(res.Endpoints[:0:0], base.Endpoints...)
		for i := 0; i < 2000; i++ {
			c := proto.Clone(base.Clusters[0]).(*clusterv3.Cluster)
			c.Name = fmt.Sprintf("%s-%d-%d", c.GetName(), i, round)
			res.Clusters = append(res.Clusters, c)
		}
		res.Clusters = append(res.Clusters, base.Clusters...)
		return &res
	}
	s, conn := start(t, big(0))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn)
	slow, err := client.StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := slow.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	// The slow client never calls Recv again.
	fast, err := client.StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fast.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	r, ok := recv(t, fast.Recv, 5*time.Second)
	if !ok {
		t.Fatal("no initial response")
	}
	for round := 1; round <= 5; round++ {
		if err := fast.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ClusterType, VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := s.SetResources(ctx, big(round)); err != nil {
			t.Fatal(err)
		}
		if r, ok = recv(t, fast.Recv, 5*time.Second); !ok {
			t.Fatalf("round %d: the fast client got nothing while another client stalls", round)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("round %d took %s", round, d)
		}
	}
}
