package translate

import (
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// hostOfTwoClusters is a graph with one, empty, virtual host (name) and two
// clusters for its routes: ns/web port 80 (named http) and ns/other 8080.
func hostOfTwoClusters(name string) (g *graph.Graph, vh *graph.VirtualHost, web, other *graph.Cluster) {
	web = &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}
	other = &graph.Cluster{Namespace: "ns", Service: "other", Port: corev1.ServicePort{Port: 8080}}
	g = graph.New(8080, 8443, graph.AccessLog{})
	return g, g.VirtualHost(name), web, other
}

// TestHostBlocks translates a wildcard host whose routes take header
// conditions and weighted clusters from the host's blocks: each route must
// get its own, after the :authority condition.
func TestHostBlocks(t *testing.T) {
	t.Parallel()
	g, vh, web, other := hostOfTwoClusters("*.a.com")
	vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/a"},
		Headers:  []graph.HeaderMatch{{Name: "x-a", Kind: graph.HeaderExact, Value: "1"}, {Name: "x-b", Kind: graph.HeaderPresent}},
		Backends: []graph.Backend{{Cluster: web, Weight: 1}, {Cluster: other, Weight: 3}}})
	vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/b"}, Backends: []graph.Backend{{Cluster: web}}})
	vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/c"}, HTTPSRedirect: true,
		Headers: []graph.HeaderMatch{{Name: "x-c", Kind: graph.HeaderContains, Value: "v", IgnoreCase: true}}})
	vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/d"},
		Backends: []graph.Backend{{Cluster: other, Weight: 2}, {Cluster: web, Weight: 2}}})
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	authority := &routev3.HeaderMatcher{Name: ":authority", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
		MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: `^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\.a\.com(:[0-9]+)?$`}}}}}
	match := func(prefix string, headers ...*routev3.HeaderMatcher) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}, Headers: append([]*routev3.HeaderMatcher{authority}, headers...)}
	}
	split := func(names []string, weights ...uint32) *routev3.Route_Route {
		wc := &routev3.WeightedCluster{}
		for i, n := range names {
			wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{Name: n, Weight: wrapperspb.UInt32(weights[i])})
		}
		return &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}}}
	}
	const webName, otherName = "ns/web/80/da39a3ee5e", "ns/other/8080/da39a3ee5e"
	want := []*routev3.Route{
		{Match: match("/d"), Action: split([]string{otherName, webName}, 2, 2)},
		{Match: match("/c", &routev3.HeaderMatcher{Name: "x-c", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Contains{Contains: "v"}, IgnoreCase: true}}}),
			Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true}}}},
		{Match: match("/b"), Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: webName}}}},
		{Match: match("/a",
			&routev3.HeaderMatcher{Name: "x-a", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "1"}}}},
			&routev3.HeaderMatcher{Name: "x-b", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}}),
			Action: split([]string{webName, otherName}, 1, 3)},
	}
	if d := cmp.Diff(want, res.Routes[0].GetVirtualHosts()[0].GetRoutes(), protocmp.Transform()); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
}

// TestPlainActionsShared translates a host whose routes forward to one
// cluster, some with options of their own: the plain ones share one
// action, the others each get theirs, and the host's blocks hold one
// action per cluster.
func TestPlainActionsShared(t *testing.T) {
	t.Parallel()
	g, vh, web, other := hostOfTwoClusters("a.com")
	add := func(prefix string, r graph.Route) {
		r.Path = graph.PathMatch{Kind: graph.PathPrefix, Value: prefix}
		if r.Backends == nil {
			r.Backends = []graph.Backend{{Cluster: web}}
		}
		vh.AddRoute(&r)
	}
	add("/a", graph.Route{})
	add("/b", graph.Route{Headers: []graph.HeaderMatch{{Name: "x-b", Kind: graph.HeaderPresent}}})
	add("/c", graph.Route{Timeouts: graph.Timeouts{Response: time.Second}})
	add("/d", graph.Route{GlobalRateLimits: []graph.RateLimitDescriptor{{Entries: []graph.RateLimitEntry{{Kind: graph.GenericKeyEntry, Value: "d"}}}}})
	add("/e", graph.Route{Backends: []graph.Backend{{Cluster: other}}})
	add("/f", graph.Route{Websocket: true})
	add("/g", graph.Route{})
	if got := newBlocks(graph.SortedRoutes(vh), false); len(got.forwards) != 2 {
		t.Errorf("newBlocks: %d forward slots, want 2, one per cluster (routes with options take theirs from new allocations)", len(got.forwards))
	}
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]*routev3.RouteAction{}
	for _, r := range res.Routes[0].GetVirtualHosts()[0].GetRoutes() {
		actions[r.GetMatch().GetPrefix()] = r.GetRoute()
	}
	for _, same := range []string{"/b", "/g"} {
		if actions[same] != actions["/a"] {
			t.Errorf("route %s has an action of its own, want the one of /a (plain, to the same cluster)", same)
		}
	}
	for _, own := range []string{"/c", "/d", "/e", "/f"} {
		if actions[own] == actions["/a"] {
			t.Errorf("route %s shares the action of /a, want its own", own)
		}
	}
	cluster := func(name string) *routev3.RouteAction_Cluster { return &routev3.RouteAction_Cluster{Cluster: name} }
	const webName = "ns/web/80/da39a3ee5e"
	want := map[string]*routev3.RouteAction{
		"/a": {ClusterSpecifier: cluster(webName)},
		"/b": {ClusterSpecifier: cluster(webName)},
		"/c": {ClusterSpecifier: cluster(webName), Timeout: durationpb.New(time.Second)},
		"/d": {ClusterSpecifier: cluster(webName), RateLimits: []*routev3.RateLimit{{Actions: []*routev3.RateLimit_Action{{
			ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorValue: "d"}}}}}}},
		"/e": {ClusterSpecifier: cluster("ns/other/8080/da39a3ee5e")},
		"/f": {ClusterSpecifier: cluster(webName), UpgradeConfigs: []*routev3.RouteAction_UpgradeConfig{{UpgradeType: "websocket"}}},
		"/g": {ClusterSpecifier: cluster(webName)},
	}
	if d := cmp.Diff(want, actions, protocmp.Transform()); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
}

// TestHeaderConditionsShared translates two hosts whose routes repeat
// header conditions: the routes share one message per distinct condition,
// across hosts, and each route's conditions are its own, in its order.
func TestHeaderConditionsShared(t *testing.T) {
	t.Parallel()
	g, vh, web, _ := hostOfTwoClusters("a.com")
	other := g.VirtualHost("b.com")
	v1 := graph.HeaderMatch{Name: "x-variant", Kind: graph.HeaderExact, Value: "v1"}
	v2 := graph.HeaderMatch{Name: "x-variant", Kind: graph.HeaderExact, Value: "v2"}
	notV1 := graph.HeaderMatch{Name: "x-variant", Kind: graph.HeaderExact, Value: "v1", Invert: true}
	add := func(vh *graph.VirtualHost, prefix string, headers ...graph.HeaderMatch) {
		vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: prefix}, Headers: headers,
			Backends: []graph.Backend{{Cluster: web}}})
	}
	add(vh, "/a", v1)
	add(vh, "/b", v2, v1)
	add(vh, "/c", notV1)
	add(other, "/a", v1)
	add(other, "/d")
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]*routev3.HeaderMatcher{}
	for _, h := range res.Routes[0].GetVirtualHosts() {
		for _, r := range h.GetRoutes() {
			got[h.GetName()+r.GetMatch().GetPrefix()] = r.GetMatch().GetHeaders()
		}
	}
	exact := func(value string, invert bool) *routev3.HeaderMatcher {
		return &routev3.HeaderMatcher{Name: "x-variant", InvertMatch: invert, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
			StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: value}}}}
	}
	want := map[string][]*routev3.HeaderMatcher{
		"a.com/a": {exact("v1", false)},
		"a.com/b": {exact("v2", false), exact("v1", false)},
		"a.com/c": {exact("v1", true)},
		"b.com/a": {exact("v1", false)},
		"b.com/d": nil,
	}
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		t.Fatalf("header conditions (-want +got):\n%s", d)
	}
	shared := got["a.com/a"][0]
	for _, at := range [][]*routev3.HeaderMatcher{got["a.com/b"][1:], got["b.com/a"]} {
		if at[0] != shared {
			t.Errorf("condition x-variant: v1 is a message of its own, want the one of a.com/a")
		}
	}
	if got["a.com/b"][0] == shared || got["a.com/c"][0] == shared {
		t.Errorf("a different condition shares the message of x-variant: v1")
	}
}

// TestTake: a block hands out disjoint slices without room to grow into
// the next, and allocates once it runs short.
func TestTake(t *testing.T) {
	t.Parallel()
	block := make([]int, 3)
	a, b := take(&block, 2), take(&block, 1)
	a[0], a[1], b[0] = 1, 2, 3
	if cap(a) != 2 || cap(b) != 1 || len(block) != 0 {
		t.Fatalf("cap(a) = %d, cap(b) = %d, %d left; want 2, 1, 0", cap(a), cap(b), len(block))
	}
	c := take(&block, 2)
	c[0] = 4
	if len(c) != 2 || a[0] != 1 || a[1] != 2 || b[0] != 3 {
		t.Errorf("after running short: c = %v, a = %v, b = %v", c, a, b)
	}
}
