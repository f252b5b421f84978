package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestMisdirectedCheck: the connection manager of a wildcard TLS host
// starts with the Lua filter comparing the Host with the TLS server name
// (its chain and virtual host take every name under the wildcard); an
// exact host's does not need it (its catch-all virtual host answers 421),
// nor does the fallback certificate's chain (no server name, as Contour),
// and a TCP proxy has no HTTP filters. Every https/<fqdn> configuration
// keeps its catch-all host. The expectations are written by hand.
func TestMisdirectedCheck(t *testing.T) {
	t.Parallel()
	check := &hcmv3.HttpFilter{Name: "isobar.filters.http.misdirected", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &luav3.Lua{
		DefaultSourceCode: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: envoy.MisdirectedSource}},
		StatPrefix:        "misdirected",
	})}}
	withCheck := func(lua bool) []*hcmv3.HttpFilter {
		return append([]*hcmv3.HttpFilter{check}, wantHTTPFilters(t, lua)...)
	}
	catchAll := &routev3.VirtualHost{Name: "misdirected", Domains: []string{"*"}, Routes: []*routev3.Route{{
		Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 421,
			Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "misdirected request: the Host does not match the TLS server name\n"}}}},
	}}}

	cert := &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("c"), Key: []byte("k")}
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}
	g := graph.New(8080, 8443, graph.AccessLog{})
	for _, name := range []string{"*.example.com", "shop.example.com", "*.cookies.example.com"} {
		vh := g.SecureVirtualHost(name)
		vh.Secret, vh.Fallback = cert, cert
		r := &graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}}}
		if name == "*.cookies.example.com" {
			r.CookieRewrites = []graph.CookieRewrite{{Name: "sid", SameSite: "Lax"}}
		}
		vh.AddRoute(r)
	}
	tcp := g.SecureVirtualHost("*.tcp.example.com")
	tcp.Secret, tcp.TCPProxy = cert, &graph.TCPProxy{Backends: []graph.Backend{{Cluster: web}}}

	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]*hcmv3.HttpFilter{ // by chain: server name, or the fallback chain's name
		"*.cookies.example.com": withCheck(true),
		"*.example.com":         withCheck(false),
		"*.tcp.example.com":     nil,
		"shop.example.com":      wantHTTPFilters(t, false),
		"fallback-certificate":  wantHTTPFilters(t, true), // *.cookies.example.com's routes rewrite cookies
	}
	chains := res.Listener("ingress_https").GetFilterChains()
	if len(chains) != len(want) {
		t.Fatalf("%d filter chains, want %d", len(chains), len(want))
	}
	for _, fc := range chains {
		name := fc.GetName()
		if names := fc.GetFilterChainMatch().GetServerNames(); len(names) > 0 {
			name = names[0]
		}
		var hcm hcmv3.HttpConnectionManager
		if a := fc.GetFilters()[0].GetTypedConfig(); a.MessageIs(&hcm) {
			if err := a.UnmarshalTo(&hcm); err != nil {
				t.Fatal(err)
			}
		}
		if d := cmp.Diff(want[name], hcm.GetHttpFilters(), protocmp.Transform()); d != "" {
			t.Errorf("chain %s: HTTP filters (-want +got):\n%s", name, d)
		}
	}
	for _, fqdn := range []string{"*.cookies.example.com", "*.example.com", "shop.example.com"} {
		vhs := res.RouteConfiguration("https/" + fqdn).GetVirtualHosts()
		if len(vhs) != 2 {
			t.Fatalf("https/%s: %d virtual hosts, want the host's and the catch-all", fqdn, len(vhs))
		}
		if d := cmp.Diff(catchAll, vhs[1], protocmp.Transform()); d != "" {
			t.Errorf("https/%s: catch-all host (-want +got):\n%s", fqdn, d)
		}
	}
}
