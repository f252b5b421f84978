package translate

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestGlobalAuthorizationFilter: with a global authorization server,
// ingress_http's connection manager calls it, before the rate limit
// filter (Contour's order); the expectation is written by hand.
func TestGlobalAuthorizationFilter(t *testing.T) {
	t.Parallel()
	authz := &graph.Cluster{Namespace: "auth", Protocol: "h2c",
		Extension: &graph.ExtensionUpstream{Name: "authz", Targets: []graph.ExtensionTarget{{Service: "authz", Port: corev1.ServicePort{Port: 9000}}}}}
	rls := &graph.Cluster{Namespace: "rl", Protocol: "h2",
		Extension: &graph.ExtensionUpstream{Name: "rls", Targets: []graph.ExtensionTarget{{Service: "rls", Port: corev1.ServicePort{Port: 8081}}}}}
	g := globalRateLimitGraph(&graph.GlobalRateLimit{Cluster: rls, Service: graph.RateLimitService{Namespace: "rl", Name: "rls", Domain: "d"}})
	g.Extensions = append(g.Extensions, authz)
	g.GlobalAuthorization = &graph.ExternalAuthorization{Cluster: authz, FailOpen: true, Timeout: graph.Timeout{Duration: 2 * time.Second}}
	filters := httpManager(t, g).GetHttpFilters()
	n := len(filters)
	var names []string
	for _, f := range filters[n-3:] {
		names = append(names, f.GetName())
	}
	if d := cmp.Diff([]string{"envoy.filters.http.ext_authz", "envoy.filters.http.ratelimit", "envoy.filters.http.router"}, names); d != "" {
		t.Fatalf("ingress_http's last filters (-want +got):\n%s", d)
	}
	cfg, err := anypb.New(&extauthzv3.ExtAuthz{
		Services: &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "extension/auth/authz", Authority: "extension.auth.authz"}},
			Timeout:         durationpb.New(2 * time.Second),
		}},
		TransportApiVersion:    corev3.ApiVersion_V3,
		FailureModeAllow:       true,
		ClearRouteCache:        true,
		StatusOnError:          &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
		IncludePeerCertificate: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &hcmv3.HttpFilter{Name: "envoy.filters.http.ext_authz", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}}
	if d := cmp.Diff(want, filters[n-3], protocmp.Transform()); d != "" {
		t.Errorf("the global ext_authz filter (-want +got):\n%s", d)
	}
}

// TestHTTPAuthorizationFilter: an HTTP authorization server (serviceType
// http), as Contour writes it: the placeholder URI with the cluster, the
// timeout (0 when none: Envoy requires one), the path prefix, the client
// headers sent and the server headers kept; written by hand.
func TestHTTPAuthorizationFilter(t *testing.T) {
	t.Parallel()
	authz := &graph.Cluster{Namespace: "auth", Protocol: "h2c",
		Extension: &graph.ExtensionUpstream{Name: "authz", Targets: []graph.ExtensionTarget{{Service: "authz", Port: corev1.ServicePort{Port: 8080}}}}}
	for name, tc := range map[string]struct {
		az   *graph.ExternalAuthorization
		want *extauthzv3.ExtAuthz
	}{
		"settings": {
			az: &graph.ExternalAuthorization{Cluster: authz, Timeout: graph.Timeout{Duration: time.Second}, HTTP: &graph.HTTPAuthorization{
				PathPrefix:                  "/check",
				AllowedAuthorizationHeaders: []graph.HeaderNameMatch{{Kind: "exact", Value: "x-user"}, {Kind: "prefix", Value: "X-Team-", IgnoreCase: true}},
				AllowedUpstreamHeaders:      []graph.HeaderNameMatch{{Kind: "suffix", Value: "-id"}, {Kind: "contains", Value: "auth"}},
			}},
			want: &extauthzv3.ExtAuthz{
				Services: &extauthzv3.ExtAuthz_HttpService{HttpService: &extauthzv3.HttpService{
					ServerUri: &corev3.HttpUri{Uri: "http://dummy/", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: "extension/auth/authz"},
						Timeout: durationpb.New(time.Second)},
					PathPrefix: "/check",
					AuthorizationResponse: &extauthzv3.AuthorizationResponse{AllowedUpstreamHeaders: &matcherv3.ListStringMatcher{Patterns: []*matcherv3.StringMatcher{
						{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: "-id"}},
						{MatchPattern: &matcherv3.StringMatcher_Contains{Contains: "auth"}},
					}}},
				}},
				AllowedHeaders: &matcherv3.ListStringMatcher{Patterns: []*matcherv3.StringMatcher{
					{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "x-user"}},
					{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "X-Team-"}, IgnoreCase: true},
				}},
				TransportApiVersion: corev3.ApiVersion_V3, ClearRouteCache: true,
				StatusOnError: &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden}, IncludePeerCertificate: true,
			},
		},
		"none, no timeout": {
			az: &graph.ExternalAuthorization{Cluster: authz, FailOpen: true, HTTP: &graph.HTTPAuthorization{}},
			want: &extauthzv3.ExtAuthz{
				Services: &extauthzv3.ExtAuthz_HttpService{HttpService: &extauthzv3.HttpService{
					ServerUri: &corev3.HttpUri{Uri: "http://dummy/", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: "extension/auth/authz"},
						Timeout: durationpb.New(0)},
				}},
				TransportApiVersion: corev3.ApiVersion_V3, ClearRouteCache: true, FailureModeAllow: true,
				StatusOnError: &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden}, IncludePeerCertificate: true,
			},
		},
	} {
		g := globalRateLimitGraph(nil)
		g.Extensions, g.GlobalAuthorization = []*graph.Cluster{authz}, tc.az
		var got extauthzv3.ExtAuthz
		for _, f := range httpManager(t, g).GetHttpFilters() {
			if f.GetName() == "envoy.filters.http.ext_authz" {
				if err := f.GetTypedConfig().UnmarshalTo(&got); err != nil {
					t.Fatal(err)
				}
			}
		}
		if d := cmp.Diff(tc.want, &got, protocmp.Transform()); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// httpManager translates g and returns ingress_http's connection manager.
func httpManager(t *testing.T, g *graph.Graph) *hcmv3.HttpConnectionManager {
	t.Helper()
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	var hcm hcmv3.HttpConnectionManager
	if err := res.Listener("ingress_http").GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	return &hcm
}
