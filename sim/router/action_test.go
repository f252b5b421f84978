package router

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestUpstreamRequest: the path and Host a backend receives, as Envoy
// rewrites them (its documented prefix_rewrite example: /prefix rewritten
// to / sends /prefix/etc as //etc), for hand-written route actions.
func TestUpstreamRequest(t *testing.T) {
	t.Parallel()
	prefix := func(p string) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
	}
	weighted := func(hosts ...string) *routev3.RouteAction {
		wc := &routev3.WeightedCluster{}
		for _, h := range hosts {
			c := &routev3.WeightedCluster_ClusterWeight{Name: "ns/a/80/h", Weight: wrapperspb.UInt32(1)}
			if h != "" {
				c.HostRewriteSpecifier = &routev3.WeightedCluster_ClusterWeight_HostRewriteLiteral{HostRewriteLiteral: h}
			}
			wc.Clusters = append(wc.Clusters, c)
		}
		return &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}}
	}
	for name, tc := range map[string]struct {
		action             *routev3.RouteAction
		match              *routev3.RouteMatch
		url                string
		headers            map[string]string
		wantPath, wantHost string
	}{
		"prefix rewrite": {action: &routev3.RouteAction{PrefixRewrite: "/api/v1"}, match: prefix("/api"),
			url: "http://a.com/api/foo?q=1", wantPath: "/api/v1/foo?q=1", wantHost: "a.com"},
		"slashes are not merged after the rewrite": {action: &routev3.RouteAction{PrefixRewrite: "/"}, match: prefix("/foo"),
			url: "http://a.com/foo/bar", wantPath: "//bar", wantHost: "a.com"},
		"the /p/ route rewriting to /": {action: &routev3.RouteAction{PrefixRewrite: "/"}, match: prefix("/foo/"),
			url: "http://a.com/foo/bar", wantPath: "/bar", wantHost: "a.com"},
		"Host literal": {action: &routev3.RouteAction{HostRewriteSpecifier: &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: "internal"}},
			match: prefix("/"), url: "http://a.com/", wantPath: "/", wantHost: "internal"},
		"Host from a request header": {action: &routev3.RouteAction{HostRewriteSpecifier: &routev3.RouteAction_HostRewriteHeader{HostRewriteHeader: "X-Up"}},
			match: prefix("/"), url: "http://a.com/", headers: map[string]string{"x-up": "b.com"}, wantPath: "/", wantHost: "b.com"},
		"Host kept without the header": {action: &routev3.RouteAction{HostRewriteSpecifier: &routev3.RouteAction_HostRewriteHeader{HostRewriteHeader: "X-Up"}},
			match: prefix("/"), url: "http://a.com/", wantPath: "/", wantHost: "a.com"},
		"every weighted cluster rewrites the Host alike": {action: weighted("w.internal", "w.internal"), match: prefix("/"),
			url: "http://a.com/", wantPath: "/", wantHost: "w.internal"},
		"weighted clusters rewriting differently": {action: weighted("w.internal", ""), match: prefix("/"),
			url: "http://a.com/", wantPath: "/", wantHost: "a.com"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := parseRequest(Request{URL: tc.url, Headers: tc.headers})
			if err != nil {
				t.Fatal(err)
			}
			res := &Result{}
			if got := rewrite(tc.action, p.path, p, tc.match); got != tc.wantPath {
				t.Errorf("path = %q, want %q", got, tc.wantPath)
			}
			if got := upstreamHost(tc.action, p, res); got != tc.wantHost {
				t.Errorf("host = %q, want %q", got, tc.wantHost)
			}
		})
	}
}
