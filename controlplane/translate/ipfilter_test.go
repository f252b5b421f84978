package translate

import (
	"net/netip"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestIPFilters checks the RBAC per-route configuration of virtual hosts
// and routes; the expectations are proto literals written by hand, in the
// form Contour emits.
func TestIPFilters(t *testing.T) {
	t.Parallel()
	packed := func(m proto.Message) map[string]*anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]*anypb.Any{"envoy.filters.http.rbac": a}
	}
	ipRules := func(action rbacconfigv3.RBAC_Action, principals ...*rbacconfigv3.Principal) map[string]*anypb.Any {
		return packed(&rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: &rbacconfigv3.RBAC{
			Action: action,
			Policies: map[string]*rbacconfigv3.Policy{"ip-rules": {
				Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
				Principals:  principals,
			}},
		}}})
	}
	direct := func(addr string, bits uint32) *rbacconfigv3.Principal {
		return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_DirectRemoteIp{
			DirectRemoteIp: &corev3.CidrRange{AddressPrefix: addr, PrefixLen: wrapperspb.UInt32(bits)}}}
	}
	remote := func(addr string, bits uint32) *rbacconfigv3.Principal {
		return &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_RemoteIp{
			RemoteIp: &corev3.CidrRange{AddressPrefix: addr, PrefixLen: wrapperspb.UInt32(bits)}}}
	}
	rule := func(remote bool, cidr string) graph.IPFilterRule {
		return graph.IPFilterRule{Remote: remote, CIDR: netip.MustParsePrefix(cidr)}
	}
	hostFilter := &graph.IPFilter{Allow: true, Rules: []graph.IPFilterRule{rule(false, "10.0.0.0/8"), rule(true, "2001:db8::/32")}}
	routeFilter := &graph.IPFilter{Rules: []graph.IPFilterRule{rule(true, "192.0.2.7/32"), rule(false, "10.9.0.0/16")}}
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}
	path := func(p string) graph.PathMatch { return graph.PathMatch{Kind: graph.PathPrefix, Value: p} }

	g := graph.New(8080, 8443, graph.AccessLog{})
	vh := g.VirtualHost("a.com")
	vh.IPFilter = hostFilter
	vh.AddRoute(&graph.Route{Path: path("/own"), Backends: []graph.Backend{{Cluster: web}}, IPFilter: routeFilter})
	vh.AddRoute(&graph.Route{Path: path("/static"), DirectResponse: &graph.DirectResponse{Code: 200}, IPFilter: routeFilter})
	vh.AddRoute(&graph.Route{Path: path("/upgrade"), HTTPSRedirect: true, Backends: []graph.Backend{{Cluster: web}}, IPFilter: routeFilter})
	vh.AddRoute(&graph.Route{Path: path("/"), Backends: []graph.Backend{{Cluster: web}}})
	g.VirtualHost("plain.com").AddRoute(&graph.Route{Path: path("/"), Backends: []graph.Backend{{Cluster: web}}})
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	hosts := res.RouteConfiguration("ingress_http").GetVirtualHosts()
	if len(hosts) != 2 {
		t.Fatalf("want 2 virtual hosts, got %d", len(hosts))
	}
	route := func(prefix string) map[string]*anypb.Any {
		for _, r := range hosts[0].GetRoutes() {
			if r.GetMatch().GetPrefix() == prefix {
				return r.GetTypedPerFilterConfig()
			}
		}
		t.Fatalf("no route %s", prefix)
		return nil
	}
	allowHost := ipRules(rbacconfigv3.RBAC_ALLOW, direct("10.0.0.0", 8), remote("2001:db8::", 32))
	denyRoute := ipRules(rbacconfigv3.RBAC_DENY, remote("192.0.2.7", 32), direct("10.9.0.0", 16))
	for _, c := range []struct {
		what string
		got  map[string]*anypb.Any
		want map[string]*anypb.Any
	}{
		{"a.com", hosts[0].GetTypedPerFilterConfig(), allowHost},
		{"a.com /own", route("/own"), denyRoute},
		{"a.com /static (direct response)", route("/static"), denyRoute},
		{"a.com /upgrade (https redirect: the host's only)", route("/upgrade"), nil},
		{"a.com / (the host's)", route("/"), nil},
		{"plain.com", hosts[1].GetTypedPerFilterConfig(), nil},
	} {
		if d := cmp.Diff(c.want, c.got, protocmp.Transform()); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.what, d)
		}
		for _, a := range c.got {
			var per rbacv3.RBACPerRoute
			if err := a.UnmarshalTo(&per); err != nil {
				t.Fatal(err)
			}
			if err := per.ValidateAll(); err != nil {
				t.Errorf("%s: Envoy would refuse it: %v", c.what, err)
			}
		}
	}
}

// TestIPFiltersSecure: a secure virtual host carries its policy in its
// https/<fqdn> route configuration.
func TestIPFiltersSecure(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	svh := g.SecureVirtualHost("b.com")
	svh.Secret = &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("c"), Key: []byte("k")}
	svh.IPFilter = &graph.IPFilter{Rules: []graph.IPFilterRule{{Remote: true, CIDR: netip.MustParsePrefix("203.0.113.0/24")}}}
	svh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, DirectResponse: &graph.DirectResponse{Code: 200}})
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	want, err := anypb.New(&rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: &rbacconfigv3.RBAC{
		Action: rbacconfigv3.RBAC_DENY,
		Policies: map[string]*rbacconfigv3.Policy{"ip-rules": {
			Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
			Principals: []*rbacconfigv3.Principal{{Identifier: &rbacconfigv3.Principal_RemoteIp{
				RemoteIp: &corev3.CidrRange{AddressPrefix: "203.0.113.0", PrefixLen: wrapperspb.UInt32(24)}}}},
		}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	got := res.RouteConfiguration("https/b.com").GetVirtualHosts()[0]
	if got.GetName() != "b.com" {
		t.Fatalf("first virtual host is %q", got.GetName())
	}
	if d := cmp.Diff(map[string]*anypb.Any{"envoy.filters.http.rbac": want}, got.GetTypedPerFilterConfig(), protocmp.Transform()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
