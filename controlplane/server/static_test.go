package server

import (
	"context"
	"slices"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/isobar-dev/isobar/controlplane/bootstrap"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// TestStaticListeners: the stats listener is served beside the
// configuration's listeners, to state-of-the-world and delta streams, and
// a new resource set (here without ingress_https) never removes it.
func TestStaticListeners(t *testing.T) {
	res := compiled(t, "fixtures/seeds/tls-delegation-wildcard")
	stats := bootstrap.StatsListenerAt("0.0.0.0", 8002)
	s, conn := startWith(t, Options{StaticListeners: []*listenerv3.Listener{stats}}, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sotw, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	delta, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sotwIn, deltaIn := pump(sotw.Recv), pump(delta.Recv)
	sotwNames := func(step string) []string {
		r, ok := sotwIn.next(t, 5*time.Second)
		if !ok {
			t.Fatalf("%s: no state-of-the-world answer", step)
		}
		var names []string
		for _, a := range r.GetResources() {
			var l listenerv3.Listener
			if err := a.UnmarshalTo(&l); err != nil {
				t.Fatal(err)
			}
			names = append(names, l.GetName())
		}
		slices.Sort(names)
		if err := sotw.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ListenerType, VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
		return names
	}
	deltaNames := func(step string) (put, removed []string) {
		r, ok := deltaIn.next(t, 5*time.Second)
		if !ok {
			t.Fatalf("%s: no delta answer", step)
		}
		for _, x := range r.GetResources() {
			put = append(put, x.GetName())
		}
		slices.Sort(put)
		if err := delta.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.ListenerType, ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
		return put, r.GetRemovedResources()
	}
	if err := sotw.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ListenerType}); err != nil {
		t.Fatal(err)
	}
	if err := delta.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.ListenerType}); err != nil {
		t.Fatal(err)
	}
	all := []string{"ingress_http", "ingress_https", "stats-health"}
	if got := sotwNames("first"); !slices.Equal(got, all) {
		t.Fatalf("state of the world: listeners %v, want %v", got, all)
	}
	if got, _ := deltaNames("first"); !slices.Equal(got, all) {
		t.Fatalf("delta: listeners %v, want %v", got, all)
	}
	fewer := &xds.Resources{Routes: res.Routes, Clusters: res.Clusters, Endpoints: res.Endpoints, Secrets: res.Secrets}
	for _, l := range res.Listeners {
		if l.GetName() != "ingress_https" {
			fewer.Listeners = append(fewer.Listeners, l)
		}
	}
	if err := s.SetResources(ctx, fewer); err != nil {
		t.Fatal(err)
	}
	if got := sotwNames("without ingress_https"); !slices.Equal(got, []string{"ingress_http", "stats-health"}) {
		t.Fatalf("state of the world, without ingress_https: listeners %v", got)
	}
	if put, removed := deltaNames("without ingress_https"); len(put) != 0 || !slices.Equal(removed, []string{"ingress_https"}) {
		t.Fatalf("delta, without ingress_https: put %v, removed %v", put, removed)
	}
}

// TestCheckStaticListeners: a name the configuration uses or two listeners
// of one name are refused.
func TestCheckStaticListeners(t *testing.T) {
	stats := bootstrap.StatsListenerAt("0.0.0.0", 8002)
	if err := CheckStaticListeners([]*listenerv3.Listener{stats}, "ingress_http"); err != nil {
		t.Fatal(err)
	}
	if err := CheckStaticListeners([]*listenerv3.Listener{stats, stats}); err == nil {
		t.Error("two listeners of one name were accepted")
	}
	if err := CheckStaticListeners([]*listenerv3.Listener{stats}, "stats-health"); err == nil {
		t.Error("a taken name was accepted")
	}
}
