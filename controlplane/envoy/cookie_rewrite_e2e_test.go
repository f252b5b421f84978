package envoy_test

import (
	"testing"

	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/translate"
)

// TestCookieRewriteEndToEnd: the filter context translate writes for a
// route's and a service's rules is the one the script reads: each weighted
// cluster's responses come out as the merged rules say.
func TestCookieRewriteEndToEnd(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}
	api := &graph.Cluster{Namespace: "ns", Service: "api", Port: corev1.ServicePort{Name: "http", Port: 80}}
	g := graph.New(8080, 8443, graph.AccessLog{})
	g.VirtualHost("a.com").AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"},
		CookieRewrites: []graph.CookieRewrite{{Name: "sid", Path: "/app", Domain: "a.com", Secure: &yes, SameSite: "Strict"}},
		Backends: []graph.Backend{
			{Cluster: web, CookieRewrites: []graph.CookieRewrite{{Name: "sid", Secure: &no, SameSite: "Lax"}}},
			{Cluster: api}}})
	res, _, err := translate.Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	clusters := res.RouteConfiguration("ingress_http").GetVirtualHosts()[0].GetRoutes()[0].GetRoute().GetWeightedClusters().GetClusters()
	want := map[string][]string{
		"ns/web/80/da39a3ee5e": {"sid=1; Path=/app; SameSite=Lax; HttpOnly; Domain=a.com", "other=2; Path=/; Secure"},
		"ns/api/80/da39a3ee5e": {"sid=1; Path=/app; Secure; SameSite=Strict; HttpOnly; Domain=a.com", "other=2; Path=/; Secure"},
	}
	for _, c := range clusters {
		var lua luav3.LuaPerRoute
		if err := c.GetTypedPerFilterConfig()[envoy.LuaFilter].UnmarshalTo(&lua); err != nil {
			t.Fatalf("%s: %v", c.GetName(), err)
		}
		if lua.GetName() != envoy.CookieRewriteScript {
			t.Errorf("%s: LuaPerRoute names %q, want %q", c.GetName(), lua.GetName(), envoy.CookieRewriteScript)
		}
		got := envoy.SetCookiesAfterRewrite(t, lua.GetFilterContext(), "sid=1; path=/; Secure; SameSite=None; HttpOnly", "other=2; Path=/; Secure")
		if d := cmp.Diff(want[c.GetName()], got); d != "" {
			t.Errorf("%s: Set-Cookie (-want +got):\n%s", c.GetName(), d)
		}
	}
	if len(clusters) != 2 {
		t.Errorf("%d weighted clusters, want 2", len(clusters))
	}
}
