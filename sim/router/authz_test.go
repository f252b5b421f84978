package router

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestAuthzNote: what the trace says of the ext_authz filter for a route.
func TestAuthzNote(t *testing.T) {
	t.Parallel()
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	filter := func(failOpen bool) *hcmv3.HttpConnectionManager {
		cfg := &extauthzv3.ExtAuthz{FailureModeAllow: failOpen, Services: &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "extension/ns/auth"}}}}}
		return &hcmv3.HttpConnectionManager{HttpFilters: []*hcmv3.HttpFilter{
			{Name: authzFilter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: pack(cfg)}}, {Name: "envoy.filters.http.router"}}}
	}
	per := func(m *extauthzv3.ExtAuthzPerRoute) *routev3.Route {
		return &routev3.Route{TypedPerFilterConfig: map[string]*anypb.Any{authzFilter: pack(m)}}
	}
	without := &hcmv3.HttpConnectionManager{HttpFilters: []*hcmv3.HttpFilter{{Name: "envoy.filters.http.router"}}}
	for name, tc := range map[string]struct {
		hcm  *hcmv3.HttpConnectionManager
		rt   *routev3.Route
		want []string
	}{
		"no filter (port 80): nothing said": {without, &routev3.Route{}, nil},
		"checked": {filter(false), &routev3.Route{}, []string{"authorization: the request is checked by the authorization server extension/ns/auth; " +
			"when it fails, requests are denied with 403 (not called by the simulator: the request is routed as if it were allowed)"}},
		"checked with a context, failing open": {filter(true),
			per(&extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{CheckSettings: &extauthzv3.CheckSettings{
				ContextExtensions: map[string]string{"tier": "gold", "app": "shop"}}}}),
			[]string{"authorization: the request is checked by the authorization server extension/ns/auth with context app=shop, tier=gold; " +
				"when it fails, requests are allowed (failOpen) (not called by the simulator: the request is routed as if it were allowed)"}},
		"disabled": {filter(false), per(&extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_Disabled{Disabled: true}}),
			[]string{"authorization: disabled for this route (the authorization server is not called)"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := &Result{}
			authzNote(tc.hcm, tc.rt, res)
			if d := cmp.Diff(tc.want, res.Trace); d != "" {
				t.Errorf("trace (-want +got):\n%s", d)
			}
		})
	}
}
