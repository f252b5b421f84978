package translate

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestLocalRateLimit: a virtual host's limit and a forwarding route's own
// are typed_per_filter_config of envoy.filters.http.local_ratelimit, as
// Contour writes them; redirects (to https or elsewhere) carry no route
// limit, only the virtual host's applies to them. Expectations are proto
// literals written by hand.
func TestLocalRateLimit(t *testing.T) {
	t.Parallel()
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}, LoadBalancer: graph.RoundRobin}
	routeRL := &graph.LocalRateLimit{Requests: 5, Unit: graph.RateLimitSecond, StatusCode: 503,
		ResponseHeaders: []graph.Header{{Name: "Retry-After", Value: "1"}, {Name: "X-Quota", Value: "5%%"}}}
	g := graph.New(8080, 8443, graph.AccessLog{})
	vh := g.VirtualHost("a.com")
	vh.RateLimit = &graph.LocalRateLimit{Requests: 100, Burst: 10, Unit: graph.RateLimitMinute}
	vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/api"}, Backends: []graph.Backend{{Cluster: web}}, RateLimit: routeRL})
	vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/old"}, Redirect: &graph.Redirect{Path: "/new", Code: 301}, RateLimit: routeRL})
	vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/s"}, HTTPSRedirect: true, Backends: []graph.Backend{{Cluster: web}}, RateLimit: routeRL})
	vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}}})
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	all := &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
	packed := func(m *localratelimitv3.LocalRateLimit) map[string]*anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]*anypb.Any{"envoy.filters.http.local_ratelimit": a}
	}
	prefix := func(p string) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
	}
	toWeb := &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "ns/web/80/da39a3ee5e"}}}
	want := &routev3.VirtualHost{
		Name: "a.com", Domains: []string{"a.com"},
		TypedPerFilterConfig: packed(&localratelimitv3.LocalRateLimit{
			StatPrefix:     "vhost.a.com",
			TokenBucket:    &typev3.TokenBucket{MaxTokens: 110, TokensPerFill: wrapperspb.UInt32(100), FillInterval: durationpb.New(time.Minute)},
			FilterEnabled:  all,
			FilterEnforced: all,
		}),
		Routes: []*routev3.Route{
			{Match: prefix("/old"), Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
				PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/new"}}}},
			{Match: prefix("/api"), Action: toWeb, TypedPerFilterConfig: packed(&localratelimitv3.LocalRateLimit{
				StatPrefix:     "vhost.a.com",
				TokenBucket:    &typev3.TokenBucket{MaxTokens: 5, TokensPerFill: wrapperspb.UInt32(5), FillInterval: durationpb.New(time.Second)},
				FilterEnabled:  all,
				FilterEnforced: all,
				Status:         &typev3.HttpStatus{Code: typev3.StatusCode_ServiceUnavailable},
				ResponseHeadersToAdd: []*corev3.HeaderValueOption{
					{Header: &corev3.HeaderValue{Key: "Retry-After", Value: "1"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD},
					{Header: &corev3.HeaderValue{Key: "X-Quota", Value: "5%%"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD},
				},
			})},
			{Match: prefix("/s"), Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
				SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true}}}},
			{Match: prefix("/"), Action: toWeb},
		},
	}
	if d := cmp.Diff(want, res.Routes[0].GetVirtualHosts()[0], protocmp.Transform()); d != "" {
		t.Errorf("virtual host (-want +got):\n%s", d)
	}
}

// TestLocalRateLimitSecure: a secure virtual host gets the same limit
// (the graph puts it on both hosts of a TLS HTTPProxy).
func TestLocalRateLimitSecure(t *testing.T) {
	t.Parallel()
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}, LoadBalancer: graph.RoundRobin}
	svh := &graph.SecureVirtualHost{VirtualHost: graph.VirtualHost{Name: "a.com", Routes: map[graph.MatchKey]*graph.Route{},
		RateLimit: &graph.LocalRateLimit{Requests: 3, Unit: graph.RateLimitHour, StatusCode: 429}},
		Secret: &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("c"), Key: []byte("k")}}
	svh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}}})
	h, err := TranslateHost(source.NewIndex(), nil, svh, graph.AccessLog{}, graph.Connections{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
	a, err := anypb.New(&localratelimitv3.LocalRateLimit{
		StatPrefix:     "vhost.a.com",
		TokenBucket:    &typev3.TokenBucket{MaxTokens: 3, TokensPerFill: wrapperspb.UInt32(3), FillInterval: durationpb.New(time.Hour)},
		FilterEnabled:  all,
		FilterEnforced: all,
		Status:         &typev3.HttpStatus{Code: typev3.StatusCode_TooManyRequests},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := h.Routes.GetVirtualHosts()[0]
	if got.GetName() != "a.com" {
		t.Fatalf("first virtual host of %s is %q, want a.com", h.Routes.GetName(), got.GetName())
	}
	if d := cmp.Diff(map[string]*anypb.Any{"envoy.filters.http.local_ratelimit": a}, got.GetTypedPerFilterConfig(), protocmp.Transform()); d != "" {
		t.Errorf("typed_per_filter_config (-want +got):\n%s", d)
	}
}
