package router

import (
	"net/netip"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	ratelimitconfv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestGlobalRateLimitTrace: the trace lists the descriptors Envoy's
// ratelimit filter would send, from hand-written configuration: the
// route's rate_limits, else the virtual host's, none with the route's
// IGNORE; a descriptor an action finds nothing for is not sent.
func TestGlobalRateLimitTrace(t *testing.T) {
	t.Parallel()
	filter, err := anypb.New(&ratelimitv3.RateLimit{Domain: "d", FailureModeDeny: true, RateLimitService: &ratelimitconfv3.RateLimitServiceConfig{
		GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "extension/rl/rls"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := anypb.New(&ratelimitv3.RateLimitPerRoute{VhRateLimits: ratelimitv3.RateLimitPerRoute_IGNORE})
	if err != nil {
		t.Fatal(err)
	}
	hcm := &hcmv3.HttpConnectionManager{UseRemoteAddress: wrapperspb.Bool(true),
		HttpFilters: []*hcmv3.HttpFilter{{Name: "envoy.filters.http.ratelimit", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: filter}}}}
	action := func(a any) *routev3.RateLimit_Action {
		switch x := a.(type) {
		case *routev3.RateLimit_Action_GenericKey:
			return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: x}}
		case *routev3.RateLimit_Action_RequestHeaders:
			return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{RequestHeaders: x}}
		case *routev3.RateLimit_Action_HeaderValueMatch:
			return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_HeaderValueMatch_{HeaderValueMatch: x}}
		}
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}}
	}
	vhLimits := []*routev3.RateLimit{
		{Actions: []*routev3.RateLimit_Action{action(&routev3.RateLimit_Action_GenericKey{DescriptorValue: "host"}), action(nil)}},
		{Actions: []*routev3.RateLimit_Action{action(&routev3.RateLimit_Action_RequestHeaders{HeaderName: "X-Tenant", DescriptorKey: "tenant"})}},
	}
	routeLimits := []*routev3.RateLimit{
		{Actions: []*routev3.RateLimit_Action{action(&routev3.RateLimit_Action_GenericKey{DescriptorKey: "route", DescriptorValue: "api"}),
			action(&routev3.RateLimit_Action_HeaderValueMatch{DescriptorValue: "paid", ExpectMatch: wrapperspb.Bool(false),
				Headers: []*routev3.HeaderMatcher{{Name: "X-Plan", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}}})}},
	}
	const suffix = " would be sent to the rate limit service (extension/rl/rls), which the simulator does not call; if it fails the request is refused (failure_mode_deny)"
	for name, tc := range map[string]struct {
		route   *routev3.Route
		headers map[string]string
		client  string
		want    []string
	}{
		"the virtual host's, with the client address and a header": {route: &routev3.Route{}, headers: map[string]string{"x-tenant": "acme"}, client: "192.0.2.1",
			want: []string{`global rate limit: domain "d", descriptors [generic_key=host, remote_address=192.0.2.1], [tenant=acme]` + suffix}},
		"no client address, no header: nothing sent": {route: &routev3.Route{},
			want: []string{"global rate limit: no descriptor applies to this request; the rate limit service (extension/rl/rls) is not asked"}},
		"the route's own replace the virtual host's": {
			route:   &routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{RateLimits: routeLimits}}},
			headers: map[string]string{"x-tenant": "acme"},
			want:    []string{`global rate limit: domain "d", descriptors [route=api, header_match=paid]` + suffix},
		},
		"a header matching what must not match": {
			route:   &routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{RateLimits: routeLimits}}},
			headers: map[string]string{"x-plan": "free"},
			want:    []string{"global rate limit: no descriptor applies to this request; the rate limit service (extension/rl/rls) is not asked"},
		},
		"the route ignores the virtual host's": {
			route:   &routev3.Route{TypedPerFilterConfig: map[string]*anypb.Any{"envoy.filters.http.ratelimit": ignore}},
			headers: map[string]string{"x-tenant": "acme"}, client: "192.0.2.1",
			want: []string{"global rate limit: no descriptor applies to this request; the rate limit service (extension/rl/rls) is not asked"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := &parsed{headers: tc.headers}
			if tc.client != "" {
				p.clientIP = netip.MustParseAddr(tc.client)
			}
			m := &matcher{headers: tc.headers}
			res := &Result{Trace: []string{}}
			globalRateLimitNote(hcm, &routev3.VirtualHost{RateLimits: vhLimits}, tc.route, m, p, res)
			if d := cmp.Diff(tc.want, res.Trace); d != "" {
				t.Errorf("trace (-want +got):\n%s", d)
			}
		})
	}
	res := &Result{Trace: []string{}}
	globalRateLimitNote(&hcmv3.HttpConnectionManager{}, &routev3.VirtualHost{RateLimits: vhLimits}, &routev3.Route{}, &matcher{}, &parsed{}, res)
	if len(res.Trace) > 0 {
		t.Errorf("a connection manager without the filter: trace %q", res.Trace)
	}
}
