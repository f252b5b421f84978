package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

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
	return startWith(t, Options{}, res)
}

// startWith is start with options (the address is set here).
func startWith(t *testing.T, opts Options, res *xds.Resources) (*Server, *grpc.ClientConn) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts.Address, opts.Port = "127.0.0.1", 0
	s := New(opts)
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

// TestDeltaNewEnvoyAfterNACK: once an Envoy rejects a new cluster set, an
// Envoy that connects gets the set that was accepted, then is offered the
// new one.
func TestDeltaNewEnvoyAfterNACK(t *testing.T) {
	res := compiled(t, "fixtures/seeds/talk-delegation")
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	open := func() (discoverygrpc.AggregatedDiscoveryService_DeltaAggregatedResourcesClient, *inbox[*discoverygrpc.DeltaDiscoveryResponse]) {
		st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.ClusterType, ResourceNamesSubscribe: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
		return st, pump(st.Recv)
	}
	answer := func(st discoverygrpc.AggregatedDiscoveryService_DeltaAggregatedResourcesClient, r *discoverygrpc.DeltaDiscoveryResponse, nack string) {
		req := &discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}
		if nack != "" {
			req.ErrorDetail = &statuspb.Status{Message: nack}
		}
		if err := st.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	timeoutOf := func(r *discoverygrpc.DeltaDiscoveryResponse, name string) time.Duration {
		for _, x := range r.GetResources() {
			if x.GetName() == name {
				var c clusterv3.Cluster
				if err := x.GetResource().UnmarshalTo(&c); err != nil {
					t.Fatal(err)
				}
				return c.GetConnectTimeout().AsDuration()
			}
		}
		t.Fatalf("%s not in the response", name)
		return 0
	}
	name := res.Clusters[0].GetName()
	old := res.Clusters[0].GetConnectTimeout().AsDuration()

	first, in := open()
	r, ok := in.next(t, 5*time.Second)
	if !ok {
		t.Fatal("no initial response")
	}
	answer(first, r, "")
	if err := s.SetResources(ctx, withConnectTimeout(res, old+7*time.Second)); err != nil {
		t.Fatal(err)
	}
	r, ok = in.next(t, 5*time.Second)
	if !ok || timeoutOf(r, name) != old+7*time.Second {
		t.Fatal("the change did not arrive")
	}
	answer(first, r, "rejected")
	waitForNACK(s)
	// The clusters' revisions: 1 accepted, 2 current and rejected.
	want := map[string]float64{"isobar_xds_revision/clusters": 2, "isobar_xds_acked_revision/clusters": 1,
		"isobar_xds_nacked_revision/clusters": 2, "isobar_xds_nacked_revision/routes": 0}
	got := revisionGauges(t, s)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}

	late, lin := open()
	r, ok = lin.next(t, 5*time.Second)
	if !ok {
		t.Fatal("no response to the new Envoy")
	}
	if got := timeoutOf(r, name); got != old {
		t.Errorf("the new Envoy got connect_timeout %s, want the accepted %s", got, old)
	}
	answer(late, r, "")
	r, ok = lin.next(t, 5*time.Second)
	if !ok || timeoutOf(r, name) != old+7*time.Second {
		t.Fatal("the new Envoy was not offered the newer set after its ACK")
	}
}

// TestSotWNewEnvoyAfterNACK: the same rule for state-of-the-world streams.
func TestSotWNewEnvoyAfterNACK(t *testing.T) {
	res := compiled(t, "fixtures/seeds/talk-delegation")
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	open := func() (discoverygrpc.AggregatedDiscoveryService_StreamAggregatedResourcesClient, *inbox[*discoverygrpc.DiscoveryResponse]) {
		st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ClusterType}); err != nil {
			t.Fatal(err)
		}
		return st, pump(st.Recv)
	}
	// accepted is the version the client holds after r: r's when it ACKs.
	answer := func(st discoverygrpc.AggregatedDiscoveryService_StreamAggregatedResourcesClient, r *discoverygrpc.DiscoveryResponse, held, nack string) {
		req := &discoverygrpc.DiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce(), VersionInfo: r.GetVersionInfo()}
		if nack != "" {
			req.VersionInfo, req.ErrorDetail = held, &statuspb.Status{Message: nack}
		}
		if err := st.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	name := res.Clusters[0].GetName()
	old := res.Clusters[0].GetConnectTimeout().AsDuration()
	timeoutOf := func(r *discoverygrpc.DiscoveryResponse) time.Duration {
		for _, a := range r.GetResources() {
			var c clusterv3.Cluster
			if err := a.UnmarshalTo(&c); err != nil {
				t.Fatal(err)
			}
			if c.GetName() == name {
				return c.GetConnectTimeout().AsDuration()
			}
		}
		t.Fatalf("%s not in the response", name)
		return 0
	}

	first, in := open()
	r, ok := in.next(t, 5*time.Second)
	if !ok {
		t.Fatal("no initial response")
	}
	held := r.GetVersionInfo()
	answer(first, r, held, "")
	if err := s.SetResources(ctx, withConnectTimeout(res, old+7*time.Second)); err != nil {
		t.Fatal(err)
	}
	r, ok = in.next(t, 5*time.Second)
	if !ok || timeoutOf(r) != old+7*time.Second {
		t.Fatal("the change did not arrive")
	}
	answer(first, r, held, "rejected")
	waitForNACK(s)

	late, lin := open()
	r, ok = lin.next(t, 5*time.Second)
	if !ok {
		t.Fatal("no response to the new Envoy")
	}
	if got := timeoutOf(r); got != old {
		t.Errorf("the new Envoy got connect_timeout %s, want the accepted %s", got, old)
	}
	answer(late, r, "", "")
	r, ok = lin.next(t, 5*time.Second)
	if !ok || timeoutOf(r) != old+7*time.Second {
		t.Fatal("the new Envoy was not offered the newer set after its ACK")
	}
}

// withConnectTimeout returns res with its first cluster's connect_timeout
// set to d.
func withConnectTimeout(res *xds.Resources, d time.Duration) *xds.Resources {
	next := *res
	next.Clusters = append([]*clusterv3.Cluster(nil), res.Clusters...)
	changed := proto.Clone(res.Clusters[0]).(*clusterv3.Cluster)
	changed.ConnectTimeout = durationpb.New(d)
	next.Clusters[0] = changed
	return &next
}

// waitForNACK waits up to 5 s for the server to have counted a NACK.
func waitForNACK(s *Server) {
	deadline := time.Now().Add(5 * time.Second)
	for s.NACKs() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// revisionGauges gathers the server's revision gauges, by name/type.
func revisionGauges(t *testing.T, s *Server) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(revisions(s.deltas))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			out[f.GetName()+"/"+m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return out
}
