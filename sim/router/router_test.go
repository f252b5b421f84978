package router

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// The configuration below is written by hand from Envoy's documented
// semantics, not produced by Isobar's translate.

func anyOf(t *testing.T, m *hcmv3.HttpConnectionManager) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func sm(exact string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: exact}}
}

func toCluster(name string) *routev3.Route_Route {
	return &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: name}}}
}

func fixture(t *testing.T) *xds.Resources {
	hcm := &hcmv3.HttpConnectionManager{NormalizePath: wrapperspb.Bool(true), MergeSlashes: true,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "http"}}}
	l := &listenerv3.Listener{Name: "http", Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: anyOf(t, hcm)}}}}}}
	weighted := &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{
		Clusters: []*routev3.WeightedCluster_ClusterWeight{
			{Name: "ns/a/80/h", Weight: wrapperspb.UInt32(1)}, {Name: "ns/b/80/h", Weight: wrapperspb.UInt32(1)}, {Name: "ns/c/80/h", Weight: wrapperspb.UInt32(2)}}}}}}
	rc := &routev3.RouteConfiguration{Name: "http", IgnorePortInHostMatching: true, VirtualHosts: []*routev3.VirtualHost{
		{Name: "exact", Domains: []string{"foo.com"}, Routes: []*routev3.Route{
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/exact"}}, Action: toCluster("ns/a/80/h")},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/seg"}}, Action: toCluster("ns/b/80/h")},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/CI"}, CaseSensitive: wrapperspb.Bool(false)}, Action: toCluster("ns/c/80/h")},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "/v[0-9]+"}}}, Action: toCluster("ns/a/80/h")},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/h"}, Headers: []*routev3.HeaderMatcher{
				{Name: "x-env", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm("prod")}, InvertMatch: true}}}, Action: toCluster("ns/a/80/h")},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/h"}, Headers: []*routev3.HeaderMatcher{
				{Name: "x-env", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}}}, Action: toCluster("ns/b/80/h")},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/q"}, QueryParameters: []*routev3.QueryParameterMatcher{
				{Name: "debug", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}}}}, Action: toCluster("ns/b/80/h")},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/split"}}, Action: weighted},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/empty"}}, Action: toCluster("ns/empty/80/h")},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/old"}}, Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
				HostRedirect: "new.com", PathRewriteSpecifier: &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: "/new"}, ResponseCode: routev3.RedirectAction_FOUND}}},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/teapot"}}, Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
				Status: 418, Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "short and stout"}}}}},
		}},
		{Name: "wild-long", Domains: []string{"*.bar.foo.com"}, Routes: []*routev3.Route{{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, Action: toCluster("ns/b/80/h")}}},
		{Name: "wild-short", Domains: []string{"*.foo.com"}, Routes: []*routev3.Route{{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, Action: toCluster("ns/c/80/h")}}},
	}}
	cla := func(name string, n int) *endpointv3.ClusterLoadAssignment {
		c := &endpointv3.ClusterLoadAssignment{ClusterName: name}
		if n > 0 {
			loc := &endpointv3.LocalityLbEndpoints{}
			for i := 0; i < n; i++ {
				loc.LbEndpoints = append(loc.LbEndpoints, &endpointv3.LbEndpoint{})
			}
			c.Endpoints = []*endpointv3.LocalityLbEndpoints{loc}
		}
		return c
	}
	eds := func(name, svc string) *clusterv3.Cluster {
		return &clusterv3.Cluster{Name: name, EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{ServiceName: svc}}
	}
	res := &xds.Resources{Listeners: []*listenerv3.Listener{l}, Routes: []*routev3.RouteConfiguration{rc},
		Clusters:  []*clusterv3.Cluster{eds("ns/a/80/h", "ns/a/http"), eds("ns/b/80/h", "ns/b/http"), eds("ns/c/80/h", "ns/c/http"), eds("ns/empty/80/h", "ns/empty/http")},
		Endpoints: []*endpointv3.ClusterLoadAssignment{cla("ns/a/http", 2), cla("ns/b/http", 1), cla("ns/c/http", 3), cla("ns/empty/http", 0)}}
	res.Sort()
	return res
}

type answer struct {
	Status   int
	Routed   bool
	Services string // comma-separated service:weight
	Redirect string
}

func summarize(r Result) answer {
	a := answer{Status: r.Status, Routed: r.Routed, Redirect: r.Redirect}
	for i, b := range r.Backends {
		if i > 0 {
			a.Services += ","
		}
		a.Services += b.Service + ":" + itoa(b.Weight)
	}
	return a
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	rt := New(fixture(t), Options{})
	for name, tc := range map[string]struct {
		req  Request
		want answer
	}{
		"exact path":                     {Request{URL: "http://foo.com/exact"}, answer{200, true, "a:100", ""}},
		"exact path does not prefix":     {Request{URL: "http://foo.com/exactly"}, answer{404, false, "", ""}},
		"segment prefix itself":          {Request{URL: "http://foo.com/seg"}, answer{200, true, "b:100", ""}},
		"segment prefix child":           {Request{URL: "http://foo.com/seg/x"}, answer{200, true, "b:100", ""}},
		"segment prefix is not a string": {Request{URL: "http://foo.com/segment"}, answer{404, false, "", ""}},
		"case-insensitive prefix":        {Request{URL: "http://foo.com/ci/x"}, answer{200, true, "c:100", ""}},
		"regex matches whole path":       {Request{URL: "http://foo.com/v12"}, answer{200, true, "a:100", ""}},
		"regex is anchored":              {Request{URL: "http://foo.com/v12/x"}, answer{404, false, "", ""}},
		"inverted header, header absent": {Request{URL: "http://foo.com/h"}, answer{404, false, "", ""}}, // Envoy: a missing header matches no inverted matcher
		"inverted header, other value":   {Request{URL: "http://foo.com/h", Headers: map[string]string{"X-Env": "dev"}}, answer{200, true, "a:100", ""}},
		"inverted header fails, next":    {Request{URL: "http://foo.com/h", Headers: map[string]string{"x-env": "prod"}}, answer{200, true, "b:100", ""}},
		"query present":                  {Request{URL: "http://foo.com/q?debug"}, answer{200, true, "b:100", ""}},
		"query absent":                   {Request{URL: "http://foo.com/q?other=1"}, answer{404, false, "", ""}},
		"full weighted split":            {Request{URL: "http://foo.com/split"}, answer{200, true, "a:25,b:25,c:50", ""}},
		"cluster without endpoints":      {Request{URL: "http://foo.com/empty"}, answer{503, false, "empty:100", ""}},
		"redirect composition":           {Request{URL: "http://foo.com/old/page?x=1"}, answer{302, true, "", "http://new.com/new/page?x=1"}},
		"direct response":                {Request{URL: "http://foo.com/teapot"}, answer{418, false, "", ""}},
		"authority with port":            {Request{URL: "http://foo.com:80/exact"}, answer{200, true, "a:100", ""}},
		"host header overrides URL host": {Request{URL: "http://10.0.0.1/exact", Headers: map[string]string{"Host": "foo.com"}}, answer{200, true, "a:100", ""}},
		"longest wildcard wins":          {Request{URL: "http://x.bar.foo.com/"}, answer{200, true, "b:100", ""}},
		"shorter wildcard":               {Request{URL: "http://x.foo.com/"}, answer{200, true, "c:100", ""}},
		"no virtual host":                {Request{URL: "http://other.org/"}, answer{404, false, "", ""}},
		"dot segments are normalised":    {Request{URL: "http://foo.com/x/../exact"}, answer{200, true, "a:100", ""}},
		"repeated slashes are merged":    {Request{URL: "http://foo.com//seg///x"}, answer{200, true, "b:100", ""}},
		"then dot segments, then merged": {Request{URL: "http://foo.com/x/..//exact"}, answer{200, true, "a:100", ""}},
		"no listener":                    {Request{URL: "http://foo.com:9999/"}, answer{0, false, "", ""}},
		"https to a plain listener":      {Request{URL: "https://foo.com:8080/exact"}, answer{0, false, "", ""}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := summarize(rt.Evaluate(tc.req))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("%s (-want +got):\n%s", tc.req.URL, d)
			}
		})
	}
}

func TestTraceNamesRejectedRoutes(t *testing.T) {
	t.Parallel()
	r := New(fixture(t), Options{}).Evaluate(Request{URL: "http://foo.com/h", Headers: map[string]string{"x-env": "prod"}})
	want := []string{
		"listener http on port 8080 (request port 80)",
		"filter chain 0 (no server name match)",
		`route configuration http, virtual host exact for :authority "foo.com"`,
		`route 0 exact:/exact (-): path "/h" is not "/exact"`,
		`route 1 segment:/seg (-): path "/h" is not "/seg" and not below "/seg"/`,
		`route 2 prefix:/CI (-): path "/h" does not start with "/CI"`,
		`route 3 regex:/v[0-9]+ (-): path "/h" does not match regex "/v[0-9]+"`,
		`route 4 prefix:/h header:x-env !="prod" (-): header condition x-env !="prod" is not met`,
		`route 5 prefix:/h header:x-env present (-) matches`,
		"forward to ns/b/80/h 100%",
	}
	if d := cmp.Diff(want, r.Trace); d != "" {
		t.Errorf("trace (-want +got):\n%s", d)
	}
}

// TestClusterHostRewrite: a weighted cluster's Host rewrite is what its
// requests carry, over the route's; with one cluster it is the request's.
func TestClusterHostRewrite(t *testing.T) {
	t.Parallel()
	res := fixture(t)
	cw := func(name, host string) *routev3.WeightedCluster_ClusterWeight {
		w := &routev3.WeightedCluster_ClusterWeight{Name: name, Weight: wrapperspb.UInt32(1)}
		if host != "" {
			w.HostRewriteSpecifier = &routev3.WeightedCluster_ClusterWeight_HostRewriteLiteral{HostRewriteLiteral: host}
		}
		return w
	}
	route := func(prefix string, clusters ...*routev3.WeightedCluster_ClusterWeight) *routev3.Route {
		return &routev3.Route{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				HostRewriteSpecifier: &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: "route.example"},
				ClusterSpecifier:     &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: clusters}}}}}
	}
	vh := res.Routes[0].VirtualHosts[0]
	vh.Routes = append([]*routev3.Route{
		route("/one", cw("ns/a/80/h", "backend.internal")),
		route("/two", cw("ns/a/80/h", "backend.internal"), cw("ns/b/80/h", "")),
	}, vh.Routes...)
	rt := New(res, Options{})
	for _, tc := range []struct {
		url, host     string
		backendsHosts []string
	}{
		{"http://foo.com/one", "backend.internal", []string{"backend.internal"}},
		{"http://foo.com/two", "route.example", []string{"backend.internal", ""}},
	} {
		got := rt.Evaluate(Request{URL: tc.url})
		var hosts []string
		for _, b := range got.Backends {
			hosts = append(hosts, b.UpstreamHost)
		}
		if got.UpstreamHost != tc.host || !cmp.Equal(hosts, tc.backendsHosts) {
			t.Errorf("%s: upstream host %q, backends' %q; want %q, %q", tc.url, got.UpstreamHost, hosts, tc.host, tc.backendsHosts)
		}
	}
}

// TestHostPortKept: a virtual host is chosen ignoring the Host's port
// (ignore_port_in_host_matching, as Isobar and Contour write route
// configurations), and the Host goes upstream with its port; a connection
// manager stripping ports (strip_any_host_port) sends it without.
func TestHostPortKept(t *testing.T) {
	t.Parallel()
	r := New(fixture(t), Options{}).Evaluate(Request{URL: "http://foo.com:8080/exact"})
	if r.VirtualHost != "exact" || r.UpstreamHost != "foo.com:8080" {
		t.Errorf("virtual host %q, upstream Host %q; want exact, foo.com:8080", r.VirtualHost, r.UpstreamHost)
	}
	res := fixture(t)
	res.Routes[0].IgnorePortInHostMatching = false
	if r := New(res, Options{}).Evaluate(Request{URL: "http://foo.com:8080/exact"}); r.VirtualHost == "exact" {
		t.Errorf("without ignore_port_in_host_matching foo.com:8080 matched the virtual host of foo.com")
	}
	var hcm hcmv3.HttpConnectionManager
	a := res.Listeners[0].FilterChains[0].Filters[0].GetTypedConfig()
	if err := a.UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	hcm.StripPortMode = &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true}
	res.Listeners[0].FilterChains[0].Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: anyOf(t, &hcm)}
	if r := New(res, Options{}).Evaluate(Request{URL: "http://foo.com:8080/exact"}); r.VirtualHost != "exact" || r.UpstreamHost != "foo.com" {
		t.Errorf("strip_any_host_port: virtual host %q, upstream Host %q; want exact, foo.com", r.VirtualHost, r.UpstreamHost)
	}
}
