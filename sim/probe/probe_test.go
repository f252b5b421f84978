package probe

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

func exact(v string) *routev3.HeaderMatcher_StringMatch {
	return &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: v}}}
}

func TestDerive(t *testing.T) {
	t.Parallel()
	res := &xds.Resources{Routes: []*routev3.RouteConfiguration{
		{Name: "https/secure.example.com", VirtualHosts: []*routev3.VirtualHost{{
			Name: "secure.example.com", Domains: []string{"secure.example.com"},
			Routes: []*routev3.Route{{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/exact"}}}},
		}}},
		{Name: "ingress_http", VirtualHosts: []*routev3.VirtualHost{
			{Name: "*", Domains: []string{"*"}, Routes: []*routev3.Route{
				{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}},
			}},
			{Name: "*.wild.com", Domains: []string{"*.wild.com"}, Routes: []*routev3.Route{
				{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/seg"}}},
			}},
			{Name: "a.com", Domains: []string{"a.com"}, Routes: []*routev3.Route{
				{Match: &routev3.RouteMatch{
					PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/api"},
					Headers:       []*routev3.HeaderMatcher{{Name: "X-Variant", HeaderMatchSpecifier: exact("v2")}, {Name: "x-debug", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}},
					QueryParameters: []*routev3.QueryParameterMatcher{{Name: "q", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{
						StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "ab"}}}}},
				}},
				{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "^/v[0-9]+/x"}}}},
				{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: `/static\.files/.*`}}}},
				{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}},
				{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}},
			}},
		}},
	}}
	want := []Probe{
		{Name: "ingress_http/a.com#3", RouteConfig: "ingress_http", VirtualHost: "a.com", URL: "http://a.com/", Method: "GET", Headers: map[string]string{}, Key: "GET http://a.com/ "},
		{Name: "ingress_http/a.com#0", RouteConfig: "ingress_http", VirtualHost: "a.com", URL: "http://a.com/api?q=abprobe", Method: "GET", Headers: map[string]string{"x-variant": "v2", "x-debug": "probe"}, Key: "GET http://a.com/api?q=abprobe x-debug=probe&x-variant=v2"},
		{Name: "ingress_http/a.com#2", RouteConfig: "ingress_http", VirtualHost: "a.com", URL: "http://a.com/static.files/", Method: "GET", Headers: map[string]string{}, Key: "GET http://a.com/static.files/ "},
		{Name: "ingress_http/*#0", RouteConfig: "ingress_http", VirtualHost: "*", URL: "http://probe.invalid/", Method: "GET", Headers: map[string]string{}, Key: "GET http://probe.invalid/ "},
		{Name: "ingress_http/*.wild.com#0", RouteConfig: "ingress_http", VirtualHost: "*.wild.com", URL: "http://probe.wild.com/seg", Method: "GET", Headers: map[string]string{}, Key: "GET http://probe.wild.com/seg "},
		{Name: "https/secure.example.com/secure.example.com#0", RouteConfig: "https/secure.example.com", VirtualHost: "secure.example.com", URL: "https://secure.example.com/exact", Method: "GET", Headers: map[string]string{}, Key: "GET https://secure.example.com/exact "},
	}
	if d := cmp.Diff(want, Derive(res)); d != "" {
		t.Errorf("probes (-want +got):\n%s", d)
	}
}
