package server

import (
	"context"
	"testing"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
	_, conn := start(t, res)
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
}

// TestSotWStreamRules: ADS needs a type URL; a request answering an older
// response is ignored; "*" asks for everything along with names; streams
// asking for the same names share one set, let go with the last stream.
func TestSotWStreamRules(t *testing.T) {
	res := compiled(t, "fixtures/seeds/talk-delegation")
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ads := func() (discoverygrpc.AggregatedDiscoveryService_StreamAggregatedResourcesClient, *inbox[*discoverygrpc.DiscoveryResponse]) {
		st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st, pump(st.Recv)
	}
	st, _ := ads()
	if err := st.Send(&discoverygrpc.DiscoveryRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); status.Code(err) != codes.InvalidArgument {
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

	// Two more streams asking for the same names hold one set.
	var streams []grpc.ClientStream
	for range 2 {
		st, in := ads()
		if err := st.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNames: []string{one, "x"}}); err != nil {
			t.Fatal(err)
		}
		if _, ok := in.next(t, 5*time.Second); !ok {
			t.Fatal("no answer")
		}
		streams = append(streams, st)
	}
	sets := &s.sotw.sets
	if sets.count(resourcev3.EndpointType) != 2 { // {one} of the first stream, {one, x} of the others
		t.Errorf("%d sets of endpoint names, want 2", sets.count(resourcev3.EndpointType))
	}
	for _, st := range streams {
		_ = st.CloseSend()
	}
	deadline := time.Now().Add(5 * time.Second)
	for sets.count(resourcev3.EndpointType) != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := sets.count(resourcev3.EndpointType); n != 1 {
		t.Errorf("%d sets of endpoint names once the two streams ended, want 1", n)
	}
}
