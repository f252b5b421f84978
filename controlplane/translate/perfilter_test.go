package translate

import (
	"net/netip"
	"slices"
	"sort"
	"testing"

	"google.golang.org/protobuf/types/known/anypb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestPerFilterConfigsTogether: a virtual host with a CORS policy, a local
// rate limit and an IP filter carries all three in its
// typed_per_filter_config, and a route with its own limit and filter both
// of those: no policy replaces another's entry. (Each entry's content is
// checked by the tests of its policy.)
func TestPerFilterConfigsTogether(t *testing.T) {
	t.Parallel()
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}
	filter := &graph.IPFilter{Allow: true, Rules: []graph.IPFilterRule{{CIDR: netip.MustParsePrefix("10.0.0.0/8")}}}
	limit := &graph.LocalRateLimit{Requests: 10, Unit: graph.RateLimitSecond}
	g := graph.New(8080, 8443, graph.AccessLog{})
	vh := g.VirtualHost("a.com")
	vh.CORS = &graph.CORSPolicy{AllowOrigin: []graph.OriginMatch{{Value: "*"}}, AllowMethods: []string{"GET"}}
	vh.RateLimit, vh.IPFilter = limit, filter
	vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}},
		RateLimit: limit, IPFilter: filter})
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]*anypb.Any) []string {
		var k []string
		for name := range m {
			k = append(k, name)
		}
		sort.Strings(k)
		return k
	}
	host := res.RouteConfiguration("ingress_http").GetVirtualHosts()[0]
	if got, want := keys(host.GetTypedPerFilterConfig()), []string{"envoy.filters.http.cors", "envoy.filters.http.local_ratelimit", "envoy.filters.http.rbac"}; !slices.Equal(got, want) {
		t.Errorf("virtual host: typed_per_filter_config has %v, want %v", got, want)
	}
	if got, want := keys(host.GetRoutes()[0].GetTypedPerFilterConfig()), []string{"envoy.filters.http.local_ratelimit", "envoy.filters.http.rbac"}; !slices.Equal(got, want) {
		t.Errorf("route: typed_per_filter_config has %v, want %v", got, want)
	}
}
