package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// TestSlowClientDoesNotStallOthers: one client subscribes and then stops
// reading while large cluster sets keep changing; another client still gets
// every update.
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
	for _, delta := range []bool{false, true} {
		t.Run(map[bool]string{false: "sotw", true: "delta"}[delta], func(t *testing.T) {
			s, conn := start(t, big(0))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			open := sotwClusters
			if delta {
				open = deltaClusters
			}
			open(ctx, t, conn) // the slow client never reads
			fast := open(ctx, t, conn)
			if !fast.next(t, 5*time.Second) {
				t.Fatal("no initial response")
			}
			// A server that waited on the stalled stream would never
			// answer the fast client: each round must reach it. (No
			// tighter bound: under the race detector on a loaded machine
			// one round's 2,000 clusters can take seconds to encode.)
			for round := 1; round <= 5; round++ {
				if err := s.SetResources(ctx, big(round)); err != nil {
					t.Fatal(err)
				}
				if !fast.next(t, 10*time.Second) {
					t.Fatalf("round %d: the fast client got nothing while another client stalls", round)
				}
			}
		})
	}
}

// clusterClient subscribes to clusters; next waits for a response and
// ACKs it.
type clusterClient struct {
	next func(t *testing.T, within time.Duration) bool
}

func sotwClusters(ctx context.Context, t *testing.T, conn *grpc.ClientConn) clusterClient {
	t.Helper()
	st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	var in *inbox[*discoverygrpc.DiscoveryResponse]
	return clusterClient{func(t *testing.T, within time.Duration) bool {
		if in == nil {
			in = pump(st.Recv)
		}
		r, ok := in.next(t, within)
		if ok {
			_ = st.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ClusterType, VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()})
		}
		return ok
	}}
}

func deltaClusters(ctx context.Context, t *testing.T, conn *grpc.ClientConn) clusterClient {
	t.Helper()
	st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.ClusterType, ResourceNamesSubscribe: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	var in *inbox[*discoverygrpc.DeltaDiscoveryResponse]
	return clusterClient{func(t *testing.T, within time.Duration) bool {
		if in == nil {
			in = pump(st.Recv)
		}
		r, ok := in.next(t, within)
		if ok {
			_ = st.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.ClusterType, ResponseNonce: r.GetNonce()})
		}
		return ok
	}}
}
