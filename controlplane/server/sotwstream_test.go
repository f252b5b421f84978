package server

import (
	"context"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// sotwStream is what the per-type services' and ADS's client streams
// share.
type sotwStream interface {
	Send(*discoverygrpc.DiscoveryRequest) error
	Recv() (*discoverygrpc.DiscoveryResponse, error)
}

// TestSotWPerTypeServices: each of the five per-type services answers a
// first request with every resource of its type (listeners and clusters
// naming nothing, the others by name), and an ACK with nothing.
func TestSotWPerTypeServices(t *testing.T) {
	res := compiled(t, "fixtures/seeds/tls-delegation-wildcard")
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	routes, endpoints, secrets := []string{}, []string{}, []string{}
	for _, r := range res.Routes {
		routes = append(routes, r.GetName())
	}
	for _, e := range res.Endpoints {
		endpoints = append(endpoints, e.GetClusterName())
	}
	for _, s := range res.Secrets {
		secrets = append(secrets, s.GetName())
	}
	for _, tc := range []struct {
		typ   string
		names []string
		want  int
		open  func() (sotwStream, error)
	}{
		{resourcev3.ListenerType, nil, len(res.Listeners), func() (sotwStream, error) {
			return listenerservice.NewListenerDiscoveryServiceClient(conn).StreamListeners(ctx)
		}},
		{resourcev3.ClusterType, nil, len(res.Clusters), func() (sotwStream, error) {
			return clusterservice.NewClusterDiscoveryServiceClient(conn).StreamClusters(ctx)
		}},
		{resourcev3.RouteType, routes, len(res.Routes), func() (sotwStream, error) {
			return routeservice.NewRouteDiscoveryServiceClient(conn).StreamRoutes(ctx)
		}},
		{resourcev3.EndpointType, endpoints, len(res.Endpoints), func() (sotwStream, error) {
			return endpointservice.NewEndpointDiscoveryServiceClient(conn).StreamEndpoints(ctx)
		}},
		{resourcev3.SecretType, secrets, len(res.Secrets), func() (sotwStream, error) {
			return secretservice.NewSecretDiscoveryServiceClient(conn).StreamSecrets(ctx)
		}},
	} {
		st, err := tc.open()
		if err != nil {
			t.Fatal(err)
		}
		in := pump(st.Recv)
		// The type URL may be left out on a per-type service.
		if err := st.Send(&discoverygrpc.DiscoveryRequest{ResourceNames: tc.names}); err != nil {
			t.Fatal(err)
		}
		r, ok := in.next(t, 5*time.Second)
		if !ok || r.GetTypeUrl() != tc.typ || len(r.GetResources()) != tc.want {
			t.Fatalf("%s: got %d resources of %q, want %d", tc.typ, len(r.GetResources()), r.GetTypeUrl(), tc.want)
		}
		if err := st.Send(&discoverygrpc.DiscoveryRequest{VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce(), ResourceNames: tc.names}); err != nil {
			t.Fatal(err)
		}
		if r, ok := in.next(t, 200*time.Millisecond); ok {
			t.Fatalf("%s: an ACK was answered with %d resources", tc.typ, len(r.GetResources()))
		}
	}
	if n := s.sotw.ids.Load(); n != 5 {
		t.Errorf("Isobar's handler ran %d streams, want the 5 (not go-control-plane's)", n)
	}
	if n := testutil.ToFloat64(s.metrics.streams.WithLabelValues("sotw")); n != 5 {
		t.Errorf("isobar_xds_streams{protocol=\"sotw\"} = %v, want 5", n)
	}
}

// TestSotWStreamRules: ADS needs a type URL; a request answering an older
// response is ignored; "*" asks for everything along with names; streams
// asking for the same names share one set, let go with the last stream.
func TestSotWStreamRules(t *testing.T) {
	res := compiled(t, "fixtures/seeds/talk-delegation")
	_, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ads := func() (discoverygrpc.AggregatedDiscoveryService_StreamAggregatedResourcesClient, *inbox[*discoverygrpc.DiscoveryResponse]) {
		st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st, pump(st.Recv)
	}
	bare, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := bare.Send(&discoverygrpc.DiscoveryRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := bare.Recv(); status.Code(err) != codes.InvalidArgument {
		t.Errorf("an ADS request without a type URL: %v, want InvalidArgument", err)
	}

	one := res.Endpoints[0].GetClusterName()
	st, in := ads()
	send := func(version, nonce string, names ...string) {
		t.Helper()
		if err := st.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, VersionInfo: version, ResponseNonce: nonce, ResourceNames: names}); err != nil {
			t.Fatal(err)
		}
	}
	send("", "", one)
	r, ok := in.next(t, 5*time.Second)
	if !ok || len(r.GetResources()) != 1 {
		t.Fatalf("first answer: %v", r)
	}
	send(r.GetVersionInfo(), "not-the-last-nonce", one, "*")
	if r, ok := in.next(t, 300*time.Millisecond); ok {
		t.Fatalf("a request naming an older response was answered (%d resources)", len(r.GetResources()))
	}
	send(r.GetVersionInfo(), r.GetNonce(), one, "*")
	r, ok = in.next(t, 5*time.Second)
	if !ok || len(r.GetResources()) != len(res.Endpoints)-1 {
		t.Fatalf(`after "*": %d resources, want the %d not sent yet`, len(r.GetResources()), len(res.Endpoints)-1)
	}
	// Asking for no name is not asking for all: the name asked for again
	// after it is sent again.
	send(r.GetVersionInfo(), r.GetNonce())
	r, ok = in.next(t, 5*time.Second)
	if !ok || len(r.GetResources()) != 0 {
		t.Fatalf("asking for no name: %v", r)
	}
	send(r.GetVersionInfo(), r.GetNonce(), one)
	r, ok = in.next(t, 5*time.Second)
	if !ok || len(r.GetResources()) != 1 {
		t.Fatalf("asking for a name dropped before: %v", r)
	}

	// Two more streams asking for the same names hold one set, requests
	// (ACKs) included; it goes with the last stream.
	const marker = "only-in-TestSotWStreamRules"
	var streams []grpc.ClientStream
	for range 2 {
		st, in := ads()
		names := []string{one, marker}
		if err := st.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNames: names}); err != nil {
			t.Fatal(err)
		}
		r, ok := in.next(t, 5*time.Second)
		if !ok {
			t.Fatal("no answer")
		}
		if err := st.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNames: names,
			VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, st)
	}
	waitSets := func(want, holders int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			sets, refs := setsNaming(resourcev3.EndpointType, marker)
			if sets == want && refs == holders {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d sets naming the marker held %d times, want %d held %d times", sets, refs, want, holders)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSets(1, 2)
	for _, st := range streams {
		_ = st.CloseSend()
	}
	waitSets(0, 0)
}

// setsNaming returns how many shared sets of names of typ name name, and
// how many holders they have.
func setsNaming(typ, name string) (sets, refs int) {
	sotwNames.mu.Lock()
	defer sotwNames.mu.Unlock()
	for k, set := range sotwNames.sets {
		if _, ok := set.names[name]; ok && k.typ == typ {
			sets, refs = sets+1, refs+set.refs
		}
	}
	return sets, refs
}

// TestReadRequest: a state-of-the-world request reads as protobuf reads
// it, except that the names of a set some stream holds are not built: the
// request then comes with that set, held once more.
func TestReadRequest(t *testing.T) {
	typ := resourcev3.EndpointType
	names := []string{"ns/a/80", "ns/b/http", "only-in-TestReadRequest"}
	reqs := []*discoverygrpc.DiscoveryRequest{
		{TypeUrl: typ, VersionInfo: "3.x", ResponseNonce: "7", ResourceNames: names, Node: &corev3.Node{Id: "envoy-1"}},
		{TypeUrl: typ, ResourceNames: append([]string{"*"}, names...)},
		{TypeUrl: typ},
		{ResourceNames: names}, // a per-type service's request may leave the type out
		{TypeUrl: typ, ResourceNames: names[:2], ErrorDetail: &statuspb.Status{Message: "bad"}},
	}
	// read decodes r as gRPC may hand it over: in two pieces, or in one
	// piece per byte (every name straddles pieces); both must agree.
	read := func(r *discoverygrpc.DiscoveryRequest) (*discoverygrpc.DiscoveryRequest, *nameSet) {
		t.Helper()
		b, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var bytewise mem.BufferSlice
		for i := range b {
			bytewise = append(bytewise, mem.SliceBuffer(b[i:i+1]))
		}
		var got [2]*discoverygrpc.DiscoveryRequest
		var sets [2]*nameSet
		for i, data := range []mem.BufferSlice{{mem.SliceBuffer(b[:len(b)/2]), mem.SliceBuffer(b[len(b)/2:])}, bytewise} {
			got[i] = &discoverygrpc.DiscoveryRequest{}
			if err := (wireCodec{}).Unmarshal(data, got[i]); err != nil {
				t.Fatal(err)
			}
			sets[i] = takeRequestNames(got[i])
		}
		if !proto.Equal(got[0], got[1]) || sets[0] != sets[1] {
			t.Errorf("read in two pieces and byte by byte differ: %v (%v), %v (%v)", got[0], sets[0] != nil, got[1], sets[1] != nil)
		}
		if sets[1] != nil {
			sotwNames.release(sets[1])
		}
		return got[0], sets[0]
	}
	for i, r := range reqs {
		got, set := read(r)
		if set != nil || !proto.Equal(got, r) {
			t.Errorf("request %d with no set held: read %v (set %v), want %v", i, got, set != nil, r)
		}
	}
	held := sotwNames.acquire(typ, names)
	defer sotwNames.release(held)
	for i, r := range reqs {
		got, set := read(r)
		knows := i == 0 // the held names, with a type and no "*"
		if (set != nil) != knows {
			t.Errorf("request %d: came with a set %v, want %v", i, set != nil, knows)
		}
		want := proto.Clone(r).(*discoverygrpc.DiscoveryRequest)
		if knows {
			want.ResourceNames = nil
			if set != held || set.refs != 2 {
				t.Errorf("request %d: not the held set, or not held once more (%d)", i, set.refs)
			}
			sotwNames.release(set)
		}
		if !proto.Equal(got, want) {
			t.Errorf("request %d with the set held: read %v, want %v", i, got, want)
		}
	}
	if _, err := readBack([]byte{0x1a, 0x05, 'a'}); err == nil {
		t.Error("a truncated request was read without error")
	}
}

func readBack(b []byte) (*discoverygrpc.DiscoveryRequest, error) {
	var got discoverygrpc.DiscoveryRequest
	err := (wireCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &got)
	return &got, err
}
