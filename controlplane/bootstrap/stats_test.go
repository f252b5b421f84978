package bootstrap

import (
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

func TestStatsListener(t *testing.T) {
	t.Parallel()
	o := Defaults()
	o.StatsPort = 8002
	b, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	ls := b.GetStaticResources().GetListeners()
	if len(ls) != 1 || ls[0].GetName() != "stats-health" {
		t.Fatalf("static listeners = %v, want stats-health alone", ls)
	}
	if a := ls[0].GetAddress().GetSocketAddress(); a.GetAddress() != "0.0.0.0" || a.GetPortValue() != 8002 {
		t.Errorf("stats listener address = %v, want 0.0.0.0:8002", a)
	}
	var hcm hcmv3.HttpConnectionManager
	if err := ls[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	if err := hcm.Validate(); err != nil {
		t.Fatalf("stats connection manager is not valid: %v", err)
	}
	if !ls[0].GetIgnoreGlobalConnLimit() || len(ls[0].GetSocketOptions()) != 4 {
		t.Error("the stats listener must answer probes over the overload manager's connection limit, with TCP keepalive")
	}
	if !hcm.GetNormalizePath().GetValue() {
		t.Error("paths must be normalised before matching, or /stats/../config_dump could reach the admin")
	}
	get := []*routev3.HeaderMatcher{{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "GET"}}}}}
	var want []*routev3.Route
	for _, p := range []string{"/ready", "/stats", "/stats/prometheus"} {
		want = append(want, &routev3.Route{
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: p}, Headers: get},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "envoy-admin"}}},
		})
	}
	vhs := hcm.GetRouteConfig().GetVirtualHosts()
	if len(vhs) != 1 {
		t.Fatalf("virtual hosts = %v", vhs)
	}
	if d := cmp.Diff(want, vhs[0].GetRoutes(), protocmp.Transform()); d != "" {
		t.Errorf("stats routes (-want +got):\n%s", d)
	}
	if got := adminEndpoint(t, b); got.GetSocketAddress().GetAddress() != "127.0.0.1" ||
		got.GetSocketAddress().GetPortValue() != 9001 {
		t.Errorf("envoy-admin endpoint = %v, want 127.0.0.1:9001", got)
	}
}

// adminEndpoint is the address of the envoy-admin cluster of b.
func adminEndpoint(t *testing.T, b *bootstrapv3.Bootstrap) *corev3.Address {
	t.Helper()
	for _, c := range b.GetStaticResources().GetClusters() {
		if c.GetName() == "envoy-admin" {
			return c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress()
		}
	}
	t.Fatal("no envoy-admin cluster")
	return nil
}

func TestStatsAdminAddresses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ admin, want string }{
		{"0.0.0.0", "127.0.0.1"}, {"::", "::1"}, {"10.0.0.7", "10.0.0.7"}, {"/admin/admin.sock", "/admin/admin.sock"},
	} {
		o := Defaults()
		o.AdminAddress = c.admin
		b, err := Build(o)
		if err != nil {
			t.Fatalf("admin %s: %v", c.admin, err)
		}
		a := adminEndpoint(t, b)
		if got := a.GetSocketAddress().GetAddress() + a.GetPipe().GetPath(); got != c.want {
			t.Errorf("admin %s: envoy-admin reaches %q, want %q", c.admin, got, c.want)
		}
	}
}

// TestStatsOffAndRefused: by default the bootstrap has no stats listener
// (the xDS server serves it) but has the envoy-admin cluster it forwards
// to; a static one that collides with the admin endpoint is refused.
func TestStatsOffAndRefused(t *testing.T) {
	t.Parallel()
	b, err := Build(Defaults())
	if err != nil {
		t.Fatal(err)
	}
	var clusters []string
	for _, c := range b.GetStaticResources().GetClusters() {
		clusters = append(clusters, c.GetName())
	}
	if n := len(b.GetStaticResources().GetListeners()); n != 0 || !cmp.Equal(clusters, []string{"contour", "envoy-admin"}) {
		t.Errorf("by default: %d static listeners, clusters %v", n, clusters)
	}
	for _, c := range []struct {
		mod  func(*Options)
		want string
	}{
		{func(o *Options) { o.StatsPort = o.AdminPort }, "both 9001"},
		{func(o *Options) { o.StatsAddress, o.StatsPort = "envoy.local", 8002 }, "not an IP address"},
	} {
		o := Defaults()
		c.mod(&o)
		if _, err := Build(o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want an error saying %q", err, c.want)
		}
	}
	// A socket admin has no port to collide with.
	o := Defaults()
	o.AdminAddress, o.StatsPort = "/admin/admin.sock", o.AdminPort
	if _, err := Build(o); err != nil {
		t.Errorf("stats port equal to an unused admin port: %v", err)
	}
}

// TestEnvoyAdminListener: Contour's envoy-admin listener on 127.0.0.1
// forwards GET of the read-only admin pages, and nothing that changes
// Envoy, to the envoy-admin cluster, under its own statistics prefix.
func TestEnvoyAdminListener(t *testing.T) {
	t.Parallel()
	l := EnvoyAdminListenerAt(9001)
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	if a := l.GetAddress().GetSocketAddress(); l.GetName() != "envoy-admin" || a.GetAddress() != "127.0.0.1" || a.GetPortValue() != 9001 {
		t.Fatalf("listener %s at %v, want envoy-admin at 127.0.0.1:9001", l.GetName(), a)
	}
	var hcm hcmv3.HttpConnectionManager
	if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	if hcm.GetStatPrefix() != "envoy-admin" || !hcm.GetNormalizePath().GetValue() {
		t.Errorf("stat prefix %q, normalize_path %v; want envoy-admin, true", hcm.GetStatPrefix(), hcm.GetNormalizePath())
	}
	var got []string
	for _, r := range hcm.GetRouteConfig().GetVirtualHosts()[0].GetRoutes() {
		if r.GetRoute().GetCluster() != "envoy-admin" || r.GetMatch().GetHeaders()[0].GetStringMatch().GetExact() != "GET" {
			t.Errorf("route %v: want GET to envoy-admin", r)
		}
		got = append(got, r.GetMatch().GetPath())
	}
	want := []string{"/certs", "/clusters", "/config_dump", "/listeners", "/memory", "/ready", "/runtime",
		"/server_info", "/stats", "/stats/prometheus", "/stats/recentlookups"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
}

// TestListenersOnAnyIPv6TakeIPv4: a stats or health listener, and the
// admin endpoint, bound to "::" accept IPv4 too (ipv4_compat), as
// Contour's; other addresses are left alone.
func TestListenersOnAnyIPv6TakeIPv4(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr *corev3.SocketAddress
		want bool
	}{
		{StatsListenerAt("::", 8002).GetAddress().GetSocketAddress(), true},
		{OverloadHealthListenerAt("::", 8005).GetAddress().GetSocketAddress(), true},
		{AdminPathsListener("stats", "::", 8003, StatsPaths).GetAddress().GetSocketAddress(), true},
		{adminAddress(Options{AdminAddress: "::", AdminPort: 9001}).GetSocketAddress(), true},
		{StatsListenerAt("0.0.0.0", 8002).GetAddress().GetSocketAddress(), false},
		{StatsListenerAt("fd00::1", 8002).GetAddress().GetSocketAddress(), false},
	} {
		if tc.addr.GetIpv4Compat() != tc.want {
			t.Errorf("%s:%d: ipv4_compat %v, want %v", tc.addr.GetAddress(), tc.addr.GetPortValue(), tc.addr.GetIpv4Compat(), tc.want)
		}
	}
}

// TestSecureStatsListener: Contour's metrics.envoy TLS: TLS 1.3 only, the
// files named as given, a client certificate required with a CA bundle.
func TestSecureStatsListener(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tls           StatsTLS
		requireClient bool
	}{
		{StatsTLS{CertFile: "/certs/tls.crt", KeyFile: "/certs/tls.key"}, false},
		{StatsTLS{CertFile: "/certs/tls.crt", KeyFile: "/certs/tls.key", CAFile: "/certs/ca.crt"}, true},
	} {
		l := SecureStatsListenerAt("0.0.0.0", 8003, tc.tls)
		if err := l.Validate(); err != nil {
			t.Fatal(err)
		}
		var ctx tlsv3.DownstreamTlsContext
		if err := l.GetFilterChains()[0].GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx); err != nil {
			t.Fatal(err)
		}
		common := ctx.GetCommonTlsContext()
		cert := common.GetTlsCertificates()[0]
		if p := common.GetTlsParams(); p.GetTlsMinimumProtocolVersion() != tlsv3.TlsParameters_TLSv1_3 || p.GetTlsMaximumProtocolVersion() != tlsv3.TlsParameters_TLSv1_3 {
			t.Errorf("TLS versions %v", p)
		}
		if cert.GetCertificateChain().GetFilename() != "/certs/tls.crt" || cert.GetPrivateKey().GetFilename() != "/certs/tls.key" {
			t.Errorf("certificate %v", cert)
		}
		if got := ctx.GetRequireClientCertificate().GetValue(); got != tc.requireClient ||
			common.GetValidationContext().GetTrustedCa().GetFilename() != tc.tls.CAFile {
			t.Errorf("%+v: client certificate required %v, CA %v", tc.tls, got, common.GetValidationContext())
		}
		if l.GetName() != "stats" || l.GetAddress().GetSocketAddress().GetPortValue() != 8003 {
			t.Errorf("listener %s at %v", l.GetName(), l.GetAddress())
		}
	}
}
