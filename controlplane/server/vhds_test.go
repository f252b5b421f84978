package server

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// deltaStream is one incremental stream in a test: its requests and the
// responses it reads.
type deltaStream struct {
	send func(*discoverygrpc.DeltaDiscoveryRequest) error
	in   *inbox[*discoverygrpc.DeltaDiscoveryResponse]
}

// adsStream opens a delta ADS stream subscribing to names of type typ.
func adsStream(ctx context.Context, t *testing.T, conn *grpc.ClientConn, typ string, names ...string) *deltaStream {
	t.Helper()
	st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: names}); err != nil {
		t.Fatal(err)
	}
	return &deltaStream{send: st.Send, in: pump(st.Recv)}
}

// vhdsStream opens a VHDS stream subscribing to names (none: the legacy
// wildcard).
func vhdsStream(ctx context.Context, t *testing.T, conn *grpc.ClientConn, names ...string) *deltaStream {
	t.Helper()
	st, err := routeservice.NewVirtualHostDiscoveryServiceClient(conn).DeltaVirtualHosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.VirtualHostType, ResourceNamesSubscribe: names}); err != nil {
		t.Fatal(err)
	}
	return &deltaStream{send: st.Send, in: pump(st.Recv)}
}

// answer waits for the next response, acknowledges it, and returns its
// resources decoded (by name) and its removed names.
func (d *deltaStream) answer(t *testing.T, what string) (map[string]*routev3.VirtualHost, []string) {
	t.Helper()
	r, ok := d.in.next(t, 5*time.Second)
	if !ok {
		t.Fatalf("%s: no response", what)
	}
	if err := d.send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
		t.Fatal(err)
	}
	got := map[string]*routev3.VirtualHost{}
	for _, res := range r.GetResources() {
		vh := &routev3.VirtualHost{}
		if err := res.GetResource().UnmarshalTo(vh); err != nil {
			t.Fatalf("%s: %s: %v", what, res.GetName(), err)
		}
		if err := vh.Validate(); err != nil {
			t.Fatalf("%s: %s does not validate: %v", what, res.GetName(), err)
		}
		got[res.GetName()] = vh
	}
	return got, r.GetRemovedResources()
}

// quiet fails when the stream receives anything within a short while.
func (d *deltaStream) quiet(t *testing.T, what string) {
	t.Helper()
	if r, ok := d.in.next(t, 300*time.Millisecond); ok {
		t.Fatalf("%s: unexpected response with %d resources, %d removed", what, len(r.GetResources()), len(r.GetRemovedResources()))
	}
}

// vhdsHosts is what a VHDS stream should hold of rc: each virtual host
// as a resource named ingress_http/<name>, its name set to that.
func vhdsHosts(rc *routev3.RouteConfiguration) map[string]*routev3.VirtualHost {
	want := map[string]*routev3.VirtualHost{}
	for _, vh := range rc.GetVirtualHosts() {
		c := proto.Clone(vh).(*routev3.VirtualHost)
		c.Name = "ingress_http/" + vh.GetName()
		want[c.Name] = c
	}
	return want
}

// TestVHDS: with VHDS on, ingress_http is sent without virtual hosts and
// with a vhds source; its hosts come one by one to VHDS streams that
// subscribe to its namespace, to everything, or to one host; a change to
// one host sends that host only, a removed host is removed, and the route
// configuration is not resent.
func TestVHDS(t *testing.T) {
	res := compiled(t, "fixtures/ingressroute-delegation")
	rc := res.RouteConfiguration("ingress_http")
	if len(rc.GetVirtualHosts()) < 3 {
		t.Fatalf("the fixture has %d insecure hosts, want at least 3", len(rc.GetVirtualHosts()))
	}
	s, conn := startWith(t, Options{VHDS: &VHDS{}}, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	rds := adsStream(ctx, t, conn, resourcev3.RouteType, "ingress_http")
	r, ok := rds.in.next(t, 5*time.Second)
	if !ok || len(r.GetResources()) != 1 {
		t.Fatalf("no ingress_http: %v", r)
	}
	if err := rds.send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
		t.Fatal(err)
	}
	stub := &routev3.RouteConfiguration{}
	if err := r.GetResources()[0].GetResource().UnmarshalTo(stub); err != nil {
		t.Fatal(err)
	}
	want := &routev3.RouteConfiguration{
		Name:                     rc.GetName(),
		RequestHeadersToAdd:      rc.GetRequestHeadersToAdd(),
		IgnorePortInHostMatching: true,
		Vhds: &routev3.Vhds{ConfigSource: &corev3.ConfigSource{
			ResourceApiVersion: corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_ApiConfigSource{ApiConfigSource: &corev3.ApiConfigSource{
				ApiType:             corev3.ApiConfigSource_DELTA_GRPC,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "contour"}}}},
			}},
		}},
	}
	if diff := cmp.Diff(want, stub, protocmp.Transform()); diff != "" {
		t.Fatalf("ingress_http as sent (-want +got):\n%s", diff)
	}
	if err := stub.Validate(); err != nil {
		t.Fatal(err)
	}

	hosts := rc.GetVirtualHosts()
	first, last := "ingress_http/"+hosts[0].GetName(), "ingress_http/"+hosts[len(hosts)-1].GetName()
	namespace := vhdsStream(ctx, t, conn, "ingress_http")
	wildcard := vhdsStream(ctx, t, conn)
	one := vhdsStream(ctx, t, conn, first)
	for _, c := range []struct {
		name string
		st   *deltaStream
		want map[string]*routev3.VirtualHost
	}{
		{"namespace", namespace, vhdsHosts(rc)},
		{"wildcard", wildcard, vhdsHosts(rc)},
		{"one host", one, map[string]*routev3.VirtualHost{first: vhdsHosts(rc)[first]}},
	} {
		got, removed := c.st.answer(t, c.name)
		if diff := cmp.Diff(c.want, got, protocmp.Transform()); diff != "" || len(removed) > 0 {
			t.Fatalf("%s: first answer (-want +got):\n%s\nremoved %v", c.name, diff, removed)
		}
	}

	// Change the first host, remove the last.
	next := *res
	next.Routes = slices.Clone(res.Routes)
	changed := proto.Clone(rc).(*routev3.RouteConfiguration)
	changed.VirtualHosts = slices.Clone(rc.GetVirtualHosts()[:len(hosts)-1])
	vh := proto.Clone(hosts[0]).(*routev3.VirtualHost)
	vh.IncludeRequestAttemptCount = true
	changed.VirtualHosts[0] = vh
	for i := 1; i < len(changed.VirtualHosts); i++ {
		changed.VirtualHosts[i] = hosts[i] // the same messages: unchanged
	}
	for i, r := range next.Routes {
		if r.GetName() == "ingress_http" {
			next.Routes[i] = changed
		}
	}
	if err := s.SetResources(ctx, &next); err != nil {
		t.Fatal(err)
	}
	wantChanged := map[string]*routev3.VirtualHost{first: vhdsHosts(changed)[first]}
	for _, c := range []struct {
		name    string
		st      *deltaStream
		removed []string
	}{{"namespace", namespace, []string{last}}, {"wildcard", wildcard, []string{last}}, {"one host", one, nil}} {
		got, removed := c.st.answer(t, c.name+" after the change")
		if len(c.removed) > 0 && len(removed) == 0 { // removals follow additions: maybe in an answer of their own
			var more map[string]*routev3.VirtualHost
			more, removed = c.st.answer(t, c.name+" after the change, removals")
			for n, vh := range more {
				got[n] = vh
			}
		}
		if diff := cmp.Diff(wantChanged, got, protocmp.Transform()); diff != "" || !slices.Equal(removed, c.removed) {
			t.Fatalf("%s after the change (-want +got):\n%s\nremoved %v, want %v", c.name, diff, removed, c.removed)
		}
	}
	rds.quiet(t, "ingress_http after a host changed")

	// The same content as new messages sends nothing.
	again := next
	again.Routes = slices.Clone(next.Routes)
	for i, r := range again.Routes {
		if r.GetName() == "ingress_http" {
			again.Routes[i] = proto.Clone(r).(*routev3.RouteConfiguration)
		}
	}
	if err := s.SetResources(ctx, &again); err != nil {
		t.Fatal(err)
	}
	namespace.quiet(t, "the same hosts again")
	rds.quiet(t, "the same ingress_http again")
}

// TestVHDSOff: without VHDS, ingress_http keeps its virtual hosts and a
// VHDS stream is refused.
func TestVHDSOff(t *testing.T) {
	res := compiled(t, "fixtures/ingressroute-delegation")
	_, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := vhdsStream(ctx, t, conn, "ingress_http")
	select {
	case r := <-st.in.ch:
		if r.err == nil {
			t.Fatalf("a VHDS stream was answered without VHDS: %d resources", len(r.v.GetResources()))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a VHDS stream was neither answered nor refused")
	}
}

// TestVHDSChangesAgainstCaches: a whole set (the first, or the one after a
// failed hand-over) encodes every host and removes the names the caches
// hold that it lacks; a set without the route configuration removes every
// host.
func TestVHDSChangesAgainstCaches(t *testing.T) {
	res := compiled(t, "fixtures/ingressroute-delegation")
	rc := res.RouteConfiguration("ingress_http")
	v := &vhdsSplit{opts: VHDS{RouteConfiguration: "ingress_http", Cluster: "contour"}}
	versions := versionMap{"ingress_http/gone.example.com": "x"}
	c, err := v.changes(res, versions, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.changed) != len(rc.GetVirtualHosts()) || !slices.Equal(c.removed, []string{"ingress_http/gone.example.com"}) {
		t.Fatalf("full: %d changed (want %d), removed %v", len(c.changed), len(rc.GetVirtualHosts()), c.removed)
	}
	for _, e := range c.changed {
		versions[e.name] = e.version
	}
	delete(versions, "ingress_http/gone.example.com")
	v.commit(c)
	// A set without ingress_http removes every host.
	empty := &xds.Resources{}
	c, err = v.changes(empty, versions, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.changed) != 0 || len(c.removed) != len(rc.GetVirtualHosts()) {
		t.Fatalf("without ingress_http: %d changed, removed %v", len(c.changed), c.removed)
	}
}

// versionMap holds versions by name for vhdsSplit.changes, as a cache does.
type versionMap map[string]string

func (m versionMap) version(name string) string { return m[name] }

func (m versionMap) names() []string { return slices.Collect(maps.Keys(m)) }
