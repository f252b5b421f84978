package server

import (
	"context"
	"runtime"
	"testing"
	"time"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestSharedAnswerLetGoOverGRPC: Envoys that connect at once share one
// framed answer per type, and once it has been sent to all of them over
// real gRPC streams the server keeps no copy of it (the streams stay open).
func TestSharedAnswerLetGoOverGRPC(t *testing.T) {
	res := compiled(t, "fixtures/seeds/talk-delegation")
	s, _ := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	types := []string{resourcev3.EndpointType, resourcev3.RouteType}
	for range 3 {
		conn, err := grpc.NewClient(s.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		delta, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range types {
			if err := delta.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{"*"}}); err != nil {
				t.Fatal(err)
			}
		}
		for range types {
			r, err := delta.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if len(r.GetResources()) == 0 {
				t.Fatalf("first %s answer is empty", r.GetTypeUrl())
			}
			if err := delta.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, typ := range types {
		c := s.deltas[typ]
		c.mu.Lock()
		_, cached := c.wholes["*"]
		c.mu.Unlock()
		if !cached {
			t.Fatalf("the first %s answers were not shared", typ)
		}
		held := func() bool {
			runtime.GC()
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.wholes["*"].Value() != nil
		}
		deadline := time.Now().Add(5 * time.Second)
		for held() {
			if time.Now().After(deadline) {
				t.Fatalf("the shared first %s answer is still held 5 s after every stream had it", typ)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
