package translate

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
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
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	var hcm hcmv3.HttpConnectionManager
	if err := res.Listener("ingress_http").GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	filters := hcm.GetHttpFilters()
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
