package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/goldentest"
)

func compiled(t *testing.T, fixture string) *xds.Resources {
	t.Helper()
	idx, problems := source.Load(source.LoadOptions{}, filepath.Join(goldentest.Root(), fixture))
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	res, err := controlplane.Compile(idx, controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Resources
}

// start runs a server with res and returns a connected client.
func start(t *testing.T, res *xds.Resources) (*Server, *grpc.ClientConn) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := New(Options{Address: "127.0.0.1", Port: 0})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	if s.Addr() != nil {
		t.Fatal("the port opened before the first resource set")
	}
	if err := s.SetResources(ctx, res); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Listening():
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not listen")
	}
	conn, err := grpc.NewClient(s.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return s, conn
}

// inbox reads one stream on one goroutine, so that waiting for a message
// with a timeout never leaves a second reader behind.
type inbox[T any] struct {
	ch chan inboxItem[T]
}

type inboxItem[T any] struct {
	v   T
	err error
}

func pump[T any](f func() (T, error)) *inbox[T] {
	in := &inbox[T]{ch: make(chan inboxItem[T], 64)}
	go func() {
		for {
			v, err := f()
			in.ch <- inboxItem[T]{v, err}
			if err != nil {
				return
			}
		}
	}()
	return in
}

// next returns the next message, or false when none came within the time.
func (in *inbox[T]) next(t *testing.T, within time.Duration) (T, bool) {
	t.Helper()
	select {
	case r := <-in.ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.v, true
	case <-time.After(within):
		var zero T
		return zero, false
	}
}

func TestADSStateOfTheWorld(t *testing.T) {
	res := compiled(t, "fixtures/seeds/tls-delegation-wildcard")
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ads, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := pump(ads.Recv)
	want := map[string]int{resourcev3.ClusterType: len(res.Clusters), resourcev3.ListenerType: len(res.Listeners), resourcev3.SecretType: len(res.Secrets)}
	for typ, n := range want {
		if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: typ}); err != nil {
			t.Fatal(err)
		}
		r, ok := in.next(t, 5*time.Second)
		if !ok {
			t.Fatalf("%s: no response", typ)
		}
		if r.GetTypeUrl() != typ || len(r.GetResources()) != n {
			t.Fatalf("%s: got %d resources of %s, want %d", typ, len(r.GetResources()), r.GetTypeUrl(), n)
		}
		// ACK.
		if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: typ, VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
	}
	// Re-setting identical resources sends nothing.
	if err := s.SetResources(ctx, res); err != nil {
		t.Fatal(err)
	}
	if r, ok := in.next(t, 300*time.Millisecond); ok {
		t.Fatalf("an unchanged resource set was resent: %s", r.GetTypeUrl())
	}
	// A NACK is counted and not answered with a resend.
	if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ClusterType, ErrorDetail: &statuspb.Status{Message: "bad cluster"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.NACKs() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.NACKs() != 1 {
		t.Fatalf("NACKs = %d, want 1", s.NACKs())
	}
}

func TestDeltaEndpointFastPath(t *testing.T) {
	res := compiled(t, "fixtures/seeds/talk-delegation")
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn)
	delta, err := client.DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := pump(delta.Recv)
	for _, typ := range []string{resourcev3.EndpointType, resourcev3.ClusterType} {
		if err := delta.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	for i := 0; i < 2; i++ {
		r, ok := in.next(t, 5*time.Second)
		if !ok {
			t.Fatal("no initial delta response")
		}
		got[r.GetTypeUrl()] = len(r.GetResources())
		if err := delta.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
	}
	if got[resourcev3.EndpointType] != len(res.Endpoints) || got[resourcev3.ClusterType] != len(res.Clusters) {
		t.Fatalf("initial delta: %v", got)
	}
	// Change one ClusterLoadAssignment: exactly one resource arrives, and
	// no cluster is resent.
	changed := proto.Clone(res.Endpoints[0]).(*endpointv3.ClusterLoadAssignment)
	changed.Endpoints = nil
	if err := s.UpdateEndpoints(ctx, []*endpointv3.ClusterLoadAssignment{changed}); err != nil {
		t.Fatal(err)
	}
	r, ok := in.next(t, 5*time.Second)
	if !ok {
		t.Fatal("the endpoint change did not arrive")
	}
	if r.GetTypeUrl() != resourcev3.EndpointType || len(r.GetResources()) != 1 || r.GetResources()[0].GetName() != changed.GetClusterName() {
		t.Fatalf("got %s with %d resources", r.GetTypeUrl(), len(r.GetResources()))
	}
	if err := delta.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
		t.Fatal(err)
	}
	if r, ok := in.next(t, 300*time.Millisecond); ok {
		t.Fatalf("unexpected push of %s", r.GetTypeUrl())
	}
	// The same change again sends nothing.
	if err := s.UpdateEndpoints(ctx, []*endpointv3.ClusterLoadAssignment{changed}); err != nil {
		t.Fatal(err)
	}
	if r, ok := in.next(t, 300*time.Millisecond); ok {
		t.Fatalf("unchanged endpoints were resent: %s", r.GetTypeUrl())
	}
	// A delta NACK is counted and answered with nothing.
	if err := delta.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResponseNonce: r.GetNonce(),
		ErrorDetail: &statuspb.Status{Message: "bad endpoints"}}); err != nil {
		t.Fatal(err)
	}
	if r, ok := in.next(t, 300*time.Millisecond); ok {
		t.Fatalf("a NACK was answered with a resend of %s", r.GetTypeUrl())
	}
	if s.NACKs() != 1 {
		t.Fatalf("NACKs = %d, want 1", s.NACKs())
	}
}
