package router

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestJWTNote: what the trace says of the jwt_authn filter for a route.
func TestJWTNote(t *testing.T) {
	t.Parallel()
	per := func(m *jwtv3.PerRouteConfig) *routev3.Route {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return &routev3.Route{TypedPerFilterConfig: map[string]*anypb.Any{jwtFilter: a}}
	}
	with := &hcmv3.HttpConnectionManager{HttpFilters: []*hcmv3.HttpFilter{{Name: jwtFilter}, {Name: "envoy.filters.http.router"}}}
	without := &hcmv3.HttpConnectionManager{HttpFilters: []*hcmv3.HttpFilter{{Name: "envoy.filters.http.router"}}}
	for name, tc := range map[string]struct {
		hcm  *hcmv3.HttpConnectionManager
		rt   *routev3.Route
		want []string
	}{
		"no filter: nothing said": {without, per(&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: "a"}}), nil},
		"a requirement": {with, per(&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: "staff"}}),
			[]string{`JWT: the route requires a JWT from provider "staff" (not verified by the simulator: the request is routed as if it had a valid one)`}},
		"no per-route configuration": {with, &routev3.Route{}, []string{"JWT: this route requires no token (verification disabled, or no default provider)"}},
		"disabled":                   {with, per(&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_Disabled{Disabled: true}}), []string{"JWT: verification is disabled for this route"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := &Result{}
			jwtNote(tc.hcm, tc.rt, res)
			if d := cmp.Diff(tc.want, res.Trace); d != "" {
				t.Errorf("trace (-want +got):\n%s", d)
			}
		})
	}
}
