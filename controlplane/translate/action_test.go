package translate

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	previousroutesv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/internal_redirect/previous_routes/v3"
	safecrossschemev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/internal_redirect/safe_cross_scheme/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestRouteActions checks the match and action of one route per case; the
// expectations are proto literals written by hand.
func TestRouteActions(t *testing.T) {
	t.Parallel()
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}
	cookie := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}, LoadBalancer: graph.Cookie}
	hashed := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}, LoadBalancer: graph.RequestHash}
	other := &graph.Cluster{Namespace: "ns", Service: "other", Port: corev1.ServicePort{Port: 8080}}
	prefix := func(p string) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
	}
	toWeb := func(a *routev3.RouteAction) *routev3.Route_Route {
		a.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: "ns/web/80/da39a3ee5e"}
		return &routev3.Route_Route{Route: a}
	}
	for _, tc := range []struct {
		name  string
		route graph.Route
		want  *routev3.Route
	}{
		{
			name:  "no backends: 503",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}},
			want:  &routev3.Route{Match: prefix("/"), Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 503}}},
		},
		{
			name:  "direct response with a body",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathExact, Value: "/x"}, DirectResponse: &graph.DirectResponse{Code: 418, Body: "teapot"}},
			want: &routev3.Route{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/x"}},
				Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 418,
					Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "teapot"}}}}},
		},
		{
			name: "redirect",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/old"},
				Redirect: &graph.Redirect{Scheme: "https", Host: "b.com", Port: 8443, Prefix: "/new", Code: 302}},
			want: &routev3.Route{Match: prefix("/old"), Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
				SchemeRewriteSpecifier: &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: "https"},
				HostRedirect:           "b.com", PortRedirect: 8443,
				PathRewriteSpecifier: &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: "/new"},
				ResponseCode:         routev3.RedirectAction_FOUND,
			}}},
		},
		{
			name:  "https redirect wins over backends",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, HTTPSRedirect: true, Backends: []graph.Backend{{Cluster: web}}},
			want: &routev3.Route{Match: prefix("/"), Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
				SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true}}}},
		},
		{
			name: "policies",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/api"},
				Backends:        []graph.Backend{{Cluster: web}},
				Timeouts:        graph.Timeouts{ResponseInfinite: true, Idle: time.Minute},
				Retry:           &graph.RetryPolicy{RetryOn: []string{"5xx", "reset"}, NumRetries: 3, PerTryTimeout: time.Second},
				PrefixRewrite:   &graph.PrefixRewrite{Prefix: "/api", Replacement: "/"},
				RequestHeaders:  &graph.HeadersPolicy{Set: []graph.Header{{Name: "X-A", Value: "1"}}, Remove: []string{"X-B"}, HostRewrite: "internal"},
				ResponseHeaders: &graph.HeadersPolicy{Remove: []string{"Server"}},
				Mirror:          &graph.Mirror{Cluster: other, Percent: 25},
				Websocket:       true,
			},
			want: &routev3.Route{Match: prefix("/api"),
				Action: toWeb(&routev3.RouteAction{
					Timeout:              durationpb.New(0),
					IdleTimeout:          durationpb.New(time.Minute),
					RetryPolicy:          &routev3.RetryPolicy{RetryOn: "5xx,reset", NumRetries: wrapperspb.UInt32(3), PerTryTimeout: durationpb.New(time.Second)},
					PrefixRewrite:        "/",
					HostRewriteSpecifier: &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: "internal"},
					RequestMirrorPolicies: []*routev3.RouteAction_RequestMirrorPolicy{{Cluster: "ns/other/8080/da39a3ee5e",
						RuntimeFraction: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 25, Denominator: typev3.FractionalPercent_HUNDRED}}}},
					UpgradeConfigs: []*routev3.RouteAction_UpgradeConfig{{UpgradeType: "websocket"}},
				}),
				RequestHeadersToAdd: []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "X-A", Value: "1"},
					AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}},
				RequestHeadersToRemove:  []string{"X-B"},
				ResponseHeadersToRemove: []string{"Server"},
			},
		},
		{
			name: "no retry (count -1) is written as 0: Envoy retries once when it is left out",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}},
				Retry: &graph.RetryPolicy{RetryOn: []string{"5xx"}, NumRetries: 0, PerTryTimeout: 105 * time.Second}},
			want: &routev3.Route{Match: prefix("/"), Action: toWeb(&routev3.RouteAction{
				RetryPolicy: &routev3.RetryPolicy{RetryOn: "5xx", NumRetries: wrapperspb.UInt32(0), PerTryTimeout: durationpb.New(105 * time.Second)},
			})},
		},
		{
			name: "Host from a request header",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}},
				RequestHeaders: &graph.HeadersPolicy{HostRewriteHeader: "X-Goodbye-Planet"}},
			want: &routev3.Route{Match: prefix("/"), Action: toWeb(&routev3.RouteAction{
				HostRewriteSpecifier: &routev3.RouteAction_HostRewriteHeader{HostRewriteHeader: "X-Goodbye-Planet"}})},
		},
		{
			name: "a service's Host rewrite goes on its weighted cluster",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{
				{Cluster: web, Weight: 1, RequestHeaders: &graph.HeadersPolicy{HostRewrite: "web.internal"}}, {Cluster: other, Weight: 1}}},
			want: &routev3.Route{Match: prefix("/"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
					{Name: "ns/web/80/da39a3ee5e", Weight: wrapperspb.UInt32(1),
						HostRewriteSpecifier: &routev3.WeightedCluster_ClusterWeight_HostRewriteLiteral{HostRewriteLiteral: "web.internal"}},
					{Name: "ns/other/8080/da39a3ee5e", Weight: wrapperspb.UInt32(1)},
				}}},
			}}},
		},
		{
			name: "internal redirects: cross-scheme SafeOnly, repeated routes refused",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}},
				InternalRedirect: &graph.InternalRedirect{MaxRedirects: 2, Codes: []uint32{302, 307}, CrossScheme: graph.CrossSchemeSafeOnly, DenyRepeatedRouteRedirect: true}},
			want: &routev3.Route{Match: prefix("/"), Action: toWeb(&routev3.RouteAction{InternalRedirectPolicy: &routev3.InternalRedirectPolicy{
				MaxInternalRedirects: wrapperspb.UInt32(2), RedirectResponseCodes: []uint32{302, 307}, AllowCrossSchemeRedirect: true,
				Predicates: []*corev3.TypedExtensionConfig{
					{Name: "envoy.internal_redirect_predicates.safe_cross_scheme", TypedConfig: mustAny(t, &safecrossschemev3.SafeCrossSchemeConfig{})},
					{Name: "envoy.internal_redirect_predicates.previous_routes", TypedConfig: mustAny(t, &previousroutesv3.PreviousRoutesConfig{})},
				}}})},
		},
		{
			name: "internal redirects: cross-scheme Always, no predicate",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}},
				InternalRedirect: &graph.InternalRedirect{CrossScheme: graph.CrossSchemeAlways}},
			want: &routev3.Route{Match: prefix("/"), Action: toWeb(&routev3.RouteAction{InternalRedirectPolicy: &routev3.InternalRedirectPolicy{
				AllowCrossSchemeRedirect: true}})},
		},
		{
			name: "internal redirects: cross-scheme Never, repeated routes refused",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}},
				InternalRedirect: &graph.InternalRedirect{CrossScheme: graph.CrossSchemeNever, DenyRepeatedRouteRedirect: true}},
			want: &routev3.Route{Match: prefix("/"), Action: toWeb(&routev3.RouteAction{InternalRedirectPolicy: &routev3.InternalRedirectPolicy{
				Predicates: []*corev3.TypedExtensionConfig{
					{Name: "envoy.internal_redirect_predicates.previous_routes", TypedConfig: mustAny(t, &previousroutesv3.PreviousRoutesConfig{})},
				}}})},
		},
		{
			name:  "cookie affinity",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: cookie}}},
			want: &routev3.Route{Match: prefix("/"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "ns/web/80/b06df8c7c5"},
				HashPolicy: []*routev3.RouteAction_HashPolicy{{PolicySpecifier: &routev3.RouteAction_HashPolicy_Cookie_{
					Cookie: &routev3.RouteAction_HashPolicy_Cookie{Name: "X-Contour-Session-Affinity", Ttl: durationpb.New(0), Path: "/"}}}},
			}}},
		},
		{
			name: "request hash",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: hashed}},
				HashPolicies: []graph.HashPolicy{{Header: "X-User", Terminal: true}, {Query: "id"}, {SourceIP: true}}},
			want: &routev3.Route{Match: prefix("/"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "ns/web/80/696a00d7e0"},
				HashPolicy: []*routev3.RouteAction_HashPolicy{
					{Terminal: true, PolicySpecifier: &routev3.RouteAction_HashPolicy_Header_{Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: "X-User"}}},
					{PolicySpecifier: &routev3.RouteAction_HashPolicy_QueryParameter_{QueryParameter: &routev3.RouteAction_HashPolicy_QueryParameter{Name: "id"}}},
					{PolicySpecifier: &routev3.RouteAction_HashPolicy_ConnectionProperties_{ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true}}},
				},
			}}},
		},
		{
			name: "weights all zero: equal split; per-backend headers",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{
				{Cluster: web, ResponseHeaders: &graph.HeadersPolicy{Set: []graph.Header{{Name: "X-Backend", Value: "web"}}}}, {Cluster: other}}},
			want: &routev3.Route{Match: prefix("/"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
					{Name: "ns/web/80/da39a3ee5e", Weight: wrapperspb.UInt32(1), ResponseHeadersToAdd: []*corev3.HeaderValueOption{{
						Header: &corev3.HeaderValue{Key: "X-Backend", Value: "web"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}}},
					{Name: "ns/other/8080/da39a3ee5e", Weight: wrapperspb.UInt32(1)},
				}}},
			}}},
		},
		{
			name: "weight 0 beside weighted backends gets no traffic",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{
				{Cluster: web, Weight: 100}, {Cluster: other}}},
			want: &routev3.Route{Match: prefix("/"), Action: toWeb(&routev3.RouteAction{})},
		},
		{
			name: "five weighted backends, those of weight 0 left out",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{
				{Cluster: web, Weight: 2}, {Cluster: other}, {Cluster: other, Weight: 3}, {Cluster: web}, {Cluster: web, Weight: 5}}},
			want: &routev3.Route{Match: prefix("/"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
					{Name: "ns/web/80/da39a3ee5e", Weight: wrapperspb.UInt32(2)},
					{Name: "ns/other/8080/da39a3ee5e", Weight: wrapperspb.UInt32(3)},
					{Name: "ns/web/80/da39a3ee5e", Weight: wrapperspb.UInt32(5)},
				}}},
			}}},
		},
		{
			name: "one backend of weight 0 beside one with per-backend headers",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{
				{Cluster: web}, {Cluster: other, Weight: 1, RequestHeaders: &graph.HeadersPolicy{Remove: []string{"X-A"}}}}},
			want: &routev3.Route{Match: prefix("/"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
					{Name: "ns/other/8080/da39a3ee5e", Weight: wrapperspb.UInt32(1), RequestHeadersToRemove: []string{"X-A"}},
				}}},
			}}},
		},
		{
			name: "header and query matches",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathRegex, Value: "/v[0-9]+"},
				Headers: []graph.HeaderMatch{
					{Name: "x-a", Kind: graph.HeaderExact, Value: "1", IgnoreCase: true},
					{Name: "x-b", Kind: graph.HeaderContains, Value: "z", Invert: true, TreatMissingAsEmpty: true},
					{Name: "x-c", Kind: graph.HeaderPresent},
				},
				Query:          []graph.QueryMatch{{Name: "q", Kind: graph.QuerySuffix, Value: "s", IgnoreCase: true}, {Name: "p", Kind: graph.QueryPresent}},
				DirectResponse: &graph.DirectResponse{Code: 200}},
			want: &routev3.Route{Match: &routev3.RouteMatch{
				PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "/v[0-9]+"}},
				Headers: []*routev3.HeaderMatcher{
					{Name: "x-a", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
						MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "1"}, IgnoreCase: true}}},
					{Name: "x-b", InvertMatch: true, TreatMissingHeaderAsEmpty: true, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
						MatchPattern: &matcherv3.StringMatcher_Contains{Contains: "z"}}}},
					{Name: "x-c", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}},
				},
				QueryParameters: []*routev3.QueryParameterMatcher{
					{Name: "q", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
						MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: "s"}, IgnoreCase: true}}},
					{Name: "p", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}},
				},
			}, Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200}}},
		},
		{
			name:  "segment prefix without its trailing slash",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathSegmentPrefix, Value: "/docs/"}},
			want: &routev3.Route{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/docs"}},
				Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 503}}},
		},
		{
			name:  "segment prefix / is a plain prefix",
			route: graph.Route{Path: graph.PathMatch{Kind: graph.PathSegmentPrefix, Value: "/"}},
			want:  &routev3.Route{Match: prefix("/"), Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 503}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := graph.New(8080, 8443, graph.AccessLog{})
			r := tc.route
			g.VirtualHost("a.com").AddRoute(&r)
			res, _, err := Translate(g, source.NewIndex())
			if err != nil {
				t.Fatal(err)
			}
			got := res.RouteConfiguration("ingress_http").GetVirtualHosts()[0].GetRoutes()[0]
			if d := cmp.Diff(tc.want, got, protocmp.Transform()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
