package router

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// corsFixture is a listener on 8080 whose connection manager runs the CORS
// filter (or not, on 8081), with virtual hosts carrying CORS policies
// written by hand from Envoy's documentation.
func corsFixture(t *testing.T) *xds.Resources {
	t.Helper()
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	listener := func(name string, port uint32, filters ...string) *listenerv3.Listener {
		hcm := &hcmv3.HttpConnectionManager{StripPortMode: &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true},
			RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "http"}}}
		for _, f := range filters {
			hcm.HttpFilters = append(hcm.HttpFilters, &hcmv3.HttpFilter{Name: f})
		}
		return &listenerv3.Listener{Name: name, Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}},
			FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: pack(hcm)}}}}}}
	}
	exact := func(s string) *matcherv3.StringMatcher {
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}, IgnoreCase: true}
	}
	strict := &corsv3.CorsPolicy{
		AllowOriginStringMatch: []*matcherv3.StringMatcher{exact("https://app.com"),
			{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: `https://[a-z]+\.partner\.com`}}}},
		AllowMethods: "GET,POST", AllowHeaders: "authorization", ExposeHeaders: "x-total", MaxAge: "600",
		AllowCredentials: wrapperspb.Bool(true), AllowPrivateNetworkAccess: wrapperspb.Bool(false),
	}
	open := &corsv3.CorsPolicy{AllowOriginStringMatch: []*matcherv3.StringMatcher{exact("*")}, AllowMethods: "*", AllowHeaders: "*", MaxAge: "0",
		AllowPrivateNetworkAccess: wrapperspb.Bool(true)}
	closed := &corsv3.CorsPolicy{AllowOriginStringMatch: []*matcherv3.StringMatcher{exact("https://app.com")}, AllowMethods: "GET",
		ForwardNotMatchingPreflights: wrapperspb.Bool(false)}
	cfg := func(p *corsv3.CorsPolicy) map[string]*anypb.Any {
		return map[string]*anypb.Any{"envoy.filters.http.cors": pack(p)}
	}
	prefix := func(p string) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
	}
	rc := &routev3.RouteConfiguration{Name: "http", VirtualHosts: []*routev3.VirtualHost{
		{Name: "strict", Domains: []string{"strict.com"}, TypedPerFilterConfig: cfg(strict), Routes: []*routev3.Route{
			{Match: prefix("/moved"), Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{HostRedirect: "new.com"}}},
			// The route's policy changes the methods; the rest comes from the virtual host's.
			{Match: prefix("/admin"), Action: toCluster("ns/a/80/h"), TypedPerFilterConfig: cfg(&corsv3.CorsPolicy{AllowMethods: "DELETE"})},
			{Match: prefix("/"), Action: toCluster("ns/a/80/h")},
		}},
		{Name: "open", Domains: []string{"open.com"}, TypedPerFilterConfig: cfg(open), Routes: []*routev3.Route{{Match: prefix("/"), Action: toCluster("ns/a/80/h")}}},
		{Name: "closed", Domains: []string{"closed.com"}, TypedPerFilterConfig: cfg(closed), Routes: []*routev3.Route{{Match: prefix("/"), Action: toCluster("ns/a/80/h")}}},
		{Name: "none", Domains: []string{"none.com"}, Routes: []*routev3.Route{{Match: prefix("/"), Action: toCluster("ns/a/80/h")}}},
	}}
	res := &xds.Resources{
		Listeners: []*listenerv3.Listener{listener("with-cors", 8080, "envoy.filters.http.cors", "envoy.filters.http.router"), listener("without", 8081, "envoy.filters.http.router")},
		Routes:    []*routev3.RouteConfiguration{rc},
		Clusters:  []*clusterv3.Cluster{{Name: "ns/a/80/h", EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{ServiceName: "ns/a/http"}}},
		Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "ns/a/http", Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{}}}}}},
	}
	res.Sort()
	return res
}

func TestCORS(t *testing.T) {
	t.Parallel()
	rt := New(corsFixture(t), Options{})
	preflight := func(url, origin string, more ...string) Request {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": "PUT"}
		for i := 0; i+1 < len(more); i += 2 {
			h[more[i]] = more[i+1]
		}
		return Request{URL: url, Method: "OPTIONS", Headers: h}
	}
	type answer struct {
		Status   int
		Services string
		Headers  map[string]string
	}
	for name, tc := range map[string]struct {
		req  Request
		want answer
	}{
		"preflight from an exact origin is answered by Envoy": {preflight("http://strict.com/x", "https://app.com"), answer{200, "", map[string]string{
			"access-control-allow-origin": "https://app.com", "access-control-allow-credentials": "true", "access-control-allow-methods": "GET,POST",
			"access-control-allow-headers": "authorization", "access-control-max-age": "600"}}},
		"exact origins ignore case": {preflight("http://strict.com/x", "HTTPS://APP.COM"), answer{200, "", map[string]string{
			"access-control-allow-origin": "HTTPS://APP.COM", "access-control-allow-credentials": "true", "access-control-allow-methods": "GET,POST",
			"access-control-allow-headers": "authorization", "access-control-max-age": "600"}}},
		"preflight from a regex origin": {preflight("http://strict.com/x", "https://shop.partner.com"), answer{200, "", map[string]string{
			"access-control-allow-origin": "https://shop.partner.com", "access-control-allow-credentials": "true", "access-control-allow-methods": "GET,POST",
			"access-control-allow-headers": "authorization", "access-control-max-age": "600"}}},
		"a regex must match the whole origin":        {preflight("http://strict.com/x", "https://shop.partner.com.evil.org"), answer{200, "a", nil}},
		"preflight from another origin is forwarded": {preflight("http://strict.com/x", "https://evil.org"), answer{200, "a", nil}},
		"the route's policy overrides the methods": {preflight("http://strict.com/admin", "https://app.com"), answer{200, "", map[string]string{
			"access-control-allow-origin": "https://app.com", "access-control-allow-credentials": "true", "access-control-allow-methods": "DELETE",
			"access-control-allow-headers": "authorization", "access-control-max-age": "600"}}},
		"a redirect route is left alone": {preflight("http://strict.com/moved", "https://app.com"), answer{301, "", nil}},
		"simple request from an allowed origin": {Request{URL: "http://strict.com/x", Headers: map[string]string{"Origin": "https://app.com"}}, answer{200, "a", map[string]string{
			"access-control-allow-origin": "https://app.com", "access-control-allow-credentials": "true", "access-control-expose-headers": "x-total"}}},
		"simple request from another origin": {Request{URL: "http://strict.com/x", Headers: map[string]string{"Origin": "https://evil.org"}}, answer{200, "a", nil}},
		"OPTIONS without a requested method is not a preflight": {Request{URL: "http://strict.com/x", Method: "OPTIONS", Headers: map[string]string{"Origin": "https://app.com"}},
			answer{200, "a", map[string]string{"access-control-allow-origin": "https://app.com", "access-control-allow-credentials": "true", "access-control-expose-headers": "x-total"}}},
		"no Origin":      {Request{URL: "http://strict.com/x", Method: "OPTIONS", Headers: map[string]string{"Access-Control-Request-Method": "PUT"}}, answer{200, "a", nil}},
		"no policy":      {preflight("http://none.com/x", "https://app.com"), answer{200, "a", nil}},
		"no CORS filter": {preflight("http://strict.com:8081/x", "https://app.com"), answer{200, "a", nil}},
		"stars echo the request": {preflight("http://open.com/x", "https://any.org", "Access-Control-Request-Headers", "x-a,x-b", "Access-Control-Request-Private-Network", "true"),
			answer{200, "", map[string]string{"access-control-allow-origin": "https://any.org", "access-control-allow-methods": "PUT",
				"access-control-allow-headers": "x-a,x-b", "access-control-max-age": "0", "access-control-allow-private-network": "true"}}},
		"not forwarding other origins' preflights": {preflight("http://closed.com/x", "https://evil.org"), answer{200, "", map[string]string{"access-control-allow-methods": "GET"}}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := rt.Evaluate(tc.req)
			got := answer{Status: r.Status, Headers: r.ResponseHeaders}
			for _, b := range r.Backends {
				got.Services += b.Service
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("%s %s (-want +got):\n%s\ntrace: %q", tc.req.Method, tc.req.URL, d, r.Trace)
			}
		})
	}
}

func TestCheckResponseHeaders(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	got := Result{ResponseHeaders: map[string]string{"access-control-allow-origin": "https://app.com"}}
	for name, tc := range map[string]struct {
		want map[string]*string
		diff []string
	}{
		"equal, any case":   {map[string]*string{"Access-Control-Allow-Origin": str("https://app.com")}, nil},
		"other value":       {map[string]*string{"access-control-allow-origin": str("*")}, []string{`response header access-control-allow-origin: want "*", got "https://app.com"`}},
		"missing":           {map[string]*string{"access-control-max-age": str("600")}, []string{`response header access-control-max-age: want "600", got none`}},
		"null means absent": {map[string]*string{"access-control-allow-origin": nil, "access-control-max-age": nil}, []string{`response header access-control-allow-origin: want none, got "https://app.com"`}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if d := cmp.Diff(tc.diff, Check(Case{Expect: &Expect{ResponseHeaders: tc.want}}, got)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
