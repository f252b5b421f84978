package translate

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	ratelimitconfv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// globalRateLimitGraph is a graph with a rate limit service, a plain
// virtual host with descriptors and a secure one; rl nil leaves the
// service out.
func globalRateLimitGraph(rl *graph.GlobalRateLimit) *graph.Graph {
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}, LoadBalancer: graph.RoundRobin}
	path := func(p string) graph.PathMatch { return graph.PathMatch{Kind: graph.PathPrefix, Value: p} }
	g := graph.New(8080, 8443, graph.AccessLog{})
	g.RateLimit = rl
	if rl != nil {
		g.Extensions = []*graph.Cluster{rl.Cluster}
	}
	vh := g.VirtualHost("a.com")
	vh.GlobalRateLimits = []graph.RateLimitDescriptor{
		{Entries: []graph.RateLimitEntry{{Kind: graph.GenericKeyEntry, Value: "a"}, {Kind: graph.RemoteAddressEntry}}},
		{Entries: []graph.RateLimitEntry{{Kind: graph.HeaderValueMatchEntry, Value: "debug", ExpectMatch: true,
			Headers: []graph.HeaderMatch{{Name: "X-Debug", Kind: graph.HeaderPresent}}}}},
	}
	vh.AddRoute(&graph.Route{Path: path("/api"), Backends: []graph.Backend{{Cluster: web}}, GlobalRateLimits: []graph.RateLimitDescriptor{
		{Entries: []graph.RateLimitEntry{{Kind: graph.GenericKeyEntry, Key: "route", Value: "api"},
			{Kind: graph.RequestHeaderEntry, Header: "X-Tenant", Key: "tenant"}}}}})
	vh.AddRoute(&graph.Route{Path: path("/off"), Backends: []graph.Backend{{Cluster: web}}, IgnoreHostRateLimits: true,
		RateLimit: &graph.LocalRateLimit{Requests: 1, Unit: graph.RateLimitSecond}})
	vh.AddRoute(&graph.Route{Path: path("/"), Backends: []graph.Backend{{Cluster: web}}})
	svh := g.SecureVirtualHost("b.com")
	svh.Secret = &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("c"), Key: []byte("k")}
	svh.AddRoute(&graph.Route{Path: path("/"), Backends: []graph.Backend{{Cluster: web}}})
	return g
}

// TestGlobalRateLimit: with a rate limit service, the ratelimit filter is
// in ingress_http's connection manager and each TLS host's, before the
// router, as Contour writes it; the virtual host's descriptors are its
// rate_limits, a route's its action's, and a route ignoring its host's
// adds RateLimitPerRoute IGNORE beside its other per-filter
// configurations. Expectations are proto literals written by hand.
func TestGlobalRateLimit(t *testing.T) {
	t.Parallel()
	rls := &graph.Cluster{Namespace: "rl", Protocol: "h2", SNI: "rls.example.com",
		Extension: &graph.ExtensionUpstream{Name: "rls", Targets: []graph.ExtensionTarget{{Service: "rls", Port: corev1.ServicePort{Name: "grpc", Port: 8081}}}}}
	rl := &graph.GlobalRateLimit{Cluster: rls, Timeout: graph.Timeout{Duration: 100 * time.Millisecond},
		Service: graph.RateLimitService{Namespace: "rl", Name: "rls", Domain: "contour", XRateLimitHeaders: true}}
	res, _, err := Translate(globalRateLimitGraph(rl), source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	wantFilter := &hcmv3.HttpFilter{Name: "envoy.filters.http.ratelimit", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: pack(&ratelimitv3.RateLimit{
		Domain:          "contour",
		Timeout:         durationpb.New(100 * time.Millisecond),
		FailureModeDeny: true,
		RateLimitService: &ratelimitconfv3.RateLimitServiceConfig{
			GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "extension/rl/rls", Authority: "rls.example.com"}}},
			TransportApiVersion: corev3.ApiVersion_V3,
		},
		EnableXRatelimitHeaders: ratelimitv3.RateLimit_DRAFT_VERSION_03,
	})}}
	for _, l := range []string{"ingress_http", "ingress_https"} {
		var hcm hcmv3.HttpConnectionManager
		if err := res.Listener(l).GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
			t.Fatal(err)
		}
		fs := hcm.GetHttpFilters()
		if n := len(fs); n < 2 || fs[n-1].GetName() != "envoy.filters.http.router" {
			t.Fatalf("%s: the router is not last: %v", l, fs)
		}
		if d := cmp.Diff(wantFilter, fs[len(fs)-2], protocmp.Transform()); d != "" {
			t.Errorf("%s: the filter before the router (-want +got):\n%s", l, d)
		}
	}

	prefix := func(p string) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
	}
	toWeb := func(limits ...*routev3.RateLimit) *routev3.Route_Route {
		return &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "ns/web/80/da39a3ee5e"}, RateLimits: limits}}
	}
	all := &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
	want := &routev3.VirtualHost{
		Name: "a.com", Domains: []string{"a.com"},
		RateLimits: []*routev3.RateLimit{
			{Actions: []*routev3.RateLimit_Action{
				{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorValue: "a"}}},
				{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}},
			}},
			{Actions: []*routev3.RateLimit_Action{
				{ActionSpecifier: &routev3.RateLimit_Action_HeaderValueMatch_{HeaderValueMatch: &routev3.RateLimit_Action_HeaderValueMatch{
					DescriptorValue: "debug", ExpectMatch: wrapperspb.Bool(true),
					Headers: []*routev3.HeaderMatcher{{Name: "X-Debug", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}},
				}}},
			}},
		},
		Routes: []*routev3.Route{
			{Match: prefix("/off"), Action: toWeb(), TypedPerFilterConfig: map[string]*anypb.Any{
				"envoy.filters.http.local_ratelimit": pack(&localratelimitv3.LocalRateLimit{StatPrefix: "vhost.a.com",
					TokenBucket:   &typev3.TokenBucket{MaxTokens: 1, TokensPerFill: wrapperspb.UInt32(1), FillInterval: durationpb.New(time.Second)},
					FilterEnabled: all, FilterEnforced: all}),
				"envoy.filters.http.ratelimit": pack(&ratelimitv3.RateLimitPerRoute{VhRateLimits: ratelimitv3.RateLimitPerRoute_IGNORE}),
			}},
			{Match: prefix("/api"), Action: toWeb(&routev3.RateLimit{Actions: []*routev3.RateLimit_Action{
				{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorKey: "route", DescriptorValue: "api"}}},
				{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{HeaderName: "X-Tenant", DescriptorKey: "tenant"}}},
			}})},
			{Match: prefix("/"), Action: toWeb()},
		},
	}
	for _, rc := range res.Routes {
		if rc.GetName() == "ingress_http" {
			if d := cmp.Diff(want, rc.GetVirtualHosts()[0], protocmp.Transform()); d != "" {
				t.Errorf("virtual host (-want +got):\n%s", d)
			}
		}
	}
}

// TestGlobalRateLimitUnconfigured: without a service, no connection
// manager has the filter.
func TestGlobalRateLimitUnconfigured(t *testing.T) {
	t.Parallel()
	res, _, err := Translate(globalRateLimitGraph(nil), source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Listeners {
		for _, fc := range l.GetFilterChains() {
			var hcm hcmv3.HttpConnectionManager
			if err := fc.GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
				t.Fatal(err)
			}
			for _, f := range hcm.GetHttpFilters() {
				if f.GetName() == "envoy.filters.http.ratelimit" {
					t.Errorf("%s: a ratelimit filter without a rate limit service", l.GetName())
				}
			}
		}
	}
}

// TestGlobalRateLimitHost: TranslateHost puts the filter in the host's
// connection manager and registers the service's cluster, so that the
// incremental compiler counts it.
func TestGlobalRateLimitHost(t *testing.T) {
	t.Parallel()
	rls := &graph.Cluster{Namespace: "rl", Protocol: "h2c", Extension: &graph.ExtensionUpstream{Name: "rls"}}
	g := globalRateLimitGraph(nil)
	h, err := TranslateHost(source.NewIndex(), nil, g.SecureVirtualHosts["b.com"], graph.AccessLog{}, graph.Connections{},
		&graph.GlobalRateLimit{Cluster: rls, Service: graph.RateLimitService{Namespace: "rl", Name: "rls", Domain: "d", FailOpen: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Clusters["extension/rl/rls"]; !ok {
		t.Errorf("clusters %v lack extension/rl/rls", h.Clusters)
	}
	var hcm hcmv3.HttpConnectionManager
	if err := h.Chain.GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	fs := hcm.GetHttpFilters()
	var got ratelimitv3.RateLimit
	if fs[len(fs)-2].GetName() != "envoy.filters.http.ratelimit" || fs[len(fs)-2].GetTypedConfig().UnmarshalTo(&got) != nil {
		t.Fatalf("the filter before the router is %s", fs[len(fs)-2].GetName())
	}
	want := &ratelimitv3.RateLimit{Domain: "d", RateLimitService: &ratelimitconfv3.RateLimitServiceConfig{
		GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
			EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "extension/rl/rls", Authority: "extension.rl.rls"}}},
		TransportApiVersion: corev3.ApiVersion_V3}}
	if d := cmp.Diff(want, &got, protocmp.Transform()); d != "" {
		t.Errorf("filter (-want +got):\n%s", d)
	}
}
