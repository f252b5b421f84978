package translate

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestCookieRewrites checks the route actions of routes with cookie
// rewrite rules; the expectations are proto literals written by hand, in
// the form Contour emits: weighted clusters (even for one backend), each
// with a LuaPerRoute naming cookie_rewrite.lua and its rules, the route's
// merged with the backend's.
func TestCookieRewrites(t *testing.T) {
	t.Parallel()
	str, boolean := structpb.NewStringValue, structpb.NewBoolValue
	obj := func(fields map[string]*structpb.Value) *structpb.Value {
		return structpb.NewStructValue(&structpb.Struct{Fields: fields})
	}
	lua := func(rules map[string]*structpb.Value) map[string]*anypb.Any {
		a, err := anypb.New(&luav3.LuaPerRoute{
			Override:      &luav3.LuaPerRoute_Name{Name: "cookie_rewrite.lua"},
			FilterContext: &structpb.Struct{Fields: map[string]*structpb.Value{"cookie_rewrite_rules": obj(rules)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return map[string]*anypb.Any{"envoy.filters.http.lua": a}
	}
	weighted := func(cs ...*routev3.WeightedCluster_ClusterWeight) *routev3.RouteAction_WeightedClusters {
		return &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: cs}}
	}
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}
	api := &graph.Cluster{Namespace: "ns", Service: "api", Port: corev1.ServicePort{Name: "http", Port: 80}}
	path := func(p string) graph.PathMatch { return graph.PathMatch{Kind: graph.PathPrefix, Value: p} }

	g := graph.New(8080, 8443, graph.AccessLog{})
	vh := g.VirtualHost("a.com")
	vh.AddRoute(&graph.Route{Path: path("/route"), Backends: []graph.Backend{{Cluster: web}},
		CookieRewrites: []graph.CookieRewrite{{Name: "a", SameSite: "Lax"}}})
	vh.AddRoute(&graph.Route{Path: path("/merged"),
		CookieRewrites: []graph.CookieRewrite{{Name: "a", Path: "/r", SameSite: "Lax"}, {Name: "b", Secure: ptr(true)}},
		Backends: []graph.Backend{
			{Cluster: web, Weight: 3, CookieRewrites: []graph.CookieRewrite{{Name: "a", Path: "/w", Domain: "w.example.com", Secure: ptr(false)}}},
			{Cluster: api, Weight: 1}}})
	vh.AddRoute(&graph.Route{Path: path("/service"), Backends: []graph.Backend{
		{Cluster: web, CookieRewrites: []graph.CookieRewrite{{Name: "c", Secure: ptr(true)}}}, {Cluster: api}}})
	vh.AddRoute(&graph.Route{Path: path("/limited"), RateLimit: &graph.LocalRateLimit{Requests: 1, Unit: graph.RateLimitSecond},
		Backends: []graph.Backend{{Cluster: web}}, CookieRewrites: []graph.CookieRewrite{{Name: "a", SameSite: "None"}}})
	vh.AddRoute(&graph.Route{Path: path("/"), Backends: []graph.Backend{{Cluster: web}}})
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	route := func(prefix string) *routev3.Route {
		for _, r := range res.RouteConfiguration("ingress_http").GetVirtualHosts()[0].GetRoutes() {
			if r.GetMatch().GetPrefix() == prefix {
				return r
			}
		}
		t.Fatalf("no route %s", prefix)
		return nil
	}
	const webName, apiName = "ns/web/80/da39a3ee5e", "ns/api/80/da39a3ee5e"
	laxA := map[string]*structpb.Value{"a": obj(map[string]*structpb.Value{"SameSite": str("Lax")})}
	for _, c := range []struct {
		prefix string
		want   any
	}{
		{"/route", weighted(&routev3.WeightedCluster_ClusterWeight{Name: webName, Weight: wrapperspb.UInt32(1), TypedPerFilterConfig: lua(laxA)})},
		{"/merged", weighted(
			&routev3.WeightedCluster_ClusterWeight{Name: webName, Weight: wrapperspb.UInt32(3), TypedPerFilterConfig: lua(map[string]*structpb.Value{
				"a": obj(map[string]*structpb.Value{"Path": str("/w"), "Domain": str("w.example.com"), "SameSite": str("Lax"), "Secure": boolean(false)}),
				"b": obj(map[string]*structpb.Value{"Secure": boolean(true)}),
			})},
			&routev3.WeightedCluster_ClusterWeight{Name: apiName, Weight: wrapperspb.UInt32(1), TypedPerFilterConfig: lua(map[string]*structpb.Value{
				"a": obj(map[string]*structpb.Value{"Path": str("/r"), "SameSite": str("Lax")}),
				"b": obj(map[string]*structpb.Value{"Secure": boolean(true)}),
			})})},
		{"/service", weighted(
			&routev3.WeightedCluster_ClusterWeight{Name: webName, Weight: wrapperspb.UInt32(1), TypedPerFilterConfig: lua(map[string]*structpb.Value{
				"c": obj(map[string]*structpb.Value{"Secure": boolean(true)})})},
			&routev3.WeightedCluster_ClusterWeight{Name: apiName, Weight: wrapperspb.UInt32(1)})},
		{"/limited", weighted(&routev3.WeightedCluster_ClusterWeight{Name: webName, Weight: wrapperspb.UInt32(1), TypedPerFilterConfig: lua(
			map[string]*structpb.Value{"a": obj(map[string]*structpb.Value{"SameSite": str("None")})})})},
		{"/", &routev3.RouteAction_Cluster{Cluster: webName}},
	} {
		got := route(c.prefix).GetRoute().GetClusterSpecifier()
		if d := cmp.Diff(c.want, got, protocmp.Transform()); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.prefix, d)
		}
		for _, w := range route(c.prefix).GetRoute().GetWeightedClusters().GetClusters() {
			for _, a := range w.GetTypedPerFilterConfig() {
				var per luav3.LuaPerRoute
				if err := a.UnmarshalTo(&per); err != nil {
					t.Fatal(err)
				}
				if err := per.ValidateAll(); err != nil {
					t.Errorf("%s: Envoy would refuse it: %v", c.prefix, err)
				}
			}
		}
	}
	// The route's own per-filter configuration (here its rate limit) stays
	// on the route; the rules are on its weighted cluster.
	if got := route("/limited").GetTypedPerFilterConfig(); len(got) != 1 || got["envoy.filters.http.local_ratelimit"] == nil {
		t.Errorf("/limited: route's typed_per_filter_config is %v, want only the local rate limit", got)
	}
}
