package translate

import (
	"net/netip"
	"sort"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestJWT checks what a secure virtual host with JWT providers becomes:
// the jwt_authn filter in its own connection manager just before the
// router, the requirement on forwarding routes (beside their other
// per-filter configurations), and the JWKS clusters. The expectations are
// proto literals written by hand, in the form Contour emits.
func TestJWT(t *testing.T) {
	t.Parallel()
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}
	path := func(p string) graph.PathMatch { return graph.PathMatch{Kind: graph.PathPrefix, Value: p} }
	idp := &graph.Cluster{DNSNameScheme: "https", ExternalName: "idp.example.net", Port: corev1.ServicePort{Port: 443},
		Protocol: "tls", SNI: "idp.example.net", DNSLookupFamily: graph.DNSv4,
		Validation: &graph.UpstreamValidation{CA: &graph.Secret{Namespace: "ns", Name: "ca", CA: []byte("CA PEM")}, SubjectNames: []string{"idp.example.net"}}}
	// The options of idp: its CA, subject name and lookup family.
	idpName := "dnsname/https/idp.example.net/" + shortHash("ca="+shortHash("CA PEM")+";san=idp.example.net;dns=v4")
	sso := &graph.Cluster{DNSNameScheme: "http", ExternalName: "sso.example.com", Port: corev1.ServicePort{Port: 80}}

	g := graph.New(8080, 8443, graph.AccessLog{})
	svh := g.SecureVirtualHost("a.com")
	svh.Secret = &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("c"), Key: []byte("k")}
	svh.JWTProviders = []graph.JWTProvider{
		{Name: "staff", URI: "http://sso.example.com/keys", Cluster: sso, Timeout: time.Second},
		{Name: "partners", Issuer: "https://idp.example.net", Audiences: []string{"api"}, ForwardJWT: true,
			URI: "https://idp.example.net/jwks.json", Cluster: idp, Timeout: 3 * time.Second, CacheDuration: time.Hour},
	}
	svh.AddRoute(&graph.Route{Path: path("/"), Backends: []graph.Backend{{Cluster: web}}, JWTProvider: "staff"})
	svh.AddRoute(&graph.Route{Path: path("/partners"), Backends: []graph.Backend{{Cluster: web}}, JWTProvider: "partners",
		RateLimit: &graph.LocalRateLimit{Requests: 1, Unit: graph.RateLimitUnit("second")},
		IPFilter:  &graph.IPFilter{Allow: true, Rules: []graph.IPFilterRule{{CIDR: netip.MustParsePrefix("10.0.0.0/8")}}}})
	svh.AddRoute(&graph.Route{Path: path("/open"), Backends: []graph.Backend{{Cluster: web}}})
	svh.AddRoute(&graph.Route{Path: path("/static"), DirectResponse: &graph.DirectResponse{Code: 200}, JWTProvider: "staff"})
	plain := g.SecureVirtualHost("b.com")
	plain.Secret = svh.Secret
	plain.AddRoute(&graph.Route{Path: path("/"), Backends: []graph.Backend{{Cluster: web}}})
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}

	// The filter, in a.com's connection manager only.
	hcmOf := func(i int) *hcmv3.HttpConnectionManager {
		var hcm hcmv3.HttpConnectionManager
		if err := res.Listener("ingress_https").GetFilterChains()[i].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
			t.Fatal(err)
		}
		return &hcm
	}
	names := func(hcm *hcmv3.HttpConnectionManager) []string {
		var out []string
		for _, f := range hcm.GetHttpFilters() {
			out = append(out, f.GetName())
		}
		return out
	}
	common := []string{"envoy.filters.http.compressor", "envoy.filters.http.grpc_web", "envoy.filters.http.grpc_stats",
		"envoy.filters.http.cors", "envoy.filters.http.local_ratelimit", "envoy.filters.http.rbac"}
	a, b := hcmOf(0), hcmOf(1)
	if d := cmp.Diff(append(append([]string(nil), common...), "envoy.filters.http.jwt_authn", "envoy.filters.http.router"), names(a)); d != "" {
		t.Errorf("a.com filters (-want +got):\n%s", d)
	}
	if d := cmp.Diff(append(append([]string(nil), common...), "envoy.filters.http.router"), names(b)); d != "" {
		t.Errorf("b.com filters (-want +got):\n%s", d)
	}
	wantFilter := &jwtv3.JwtAuthentication{
		Providers: map[string]*jwtv3.JwtProvider{
			"staff": {JwksSourceSpecifier: &jwtv3.JwtProvider_RemoteJwks{RemoteJwks: &jwtv3.RemoteJwks{HttpUri: &corev3.HttpUri{
				Uri: "http://sso.example.com/keys", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: "dnsname/http/sso.example.com"},
				Timeout: &durationpb.Duration{Seconds: 1},
			}}}},
			"partners": {Issuer: "https://idp.example.net", Audiences: []string{"api"}, Forward: true,
				JwksSourceSpecifier: &jwtv3.JwtProvider_RemoteJwks{RemoteJwks: &jwtv3.RemoteJwks{
					HttpUri: &corev3.HttpUri{
						Uri: "https://idp.example.net/jwks.json", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: idpName},
						Timeout: &durationpb.Duration{Seconds: 3},
					},
					CacheDuration: &durationpb.Duration{Seconds: 3600},
				}}},
		},
		RequirementMap: map[string]*jwtv3.JwtRequirement{
			"staff":    {RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: "staff"}},
			"partners": {RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: "partners"}},
		},
	}
	if d := cmp.Diff(pack(wantFilter), a.GetHttpFilters()[6].GetTypedConfig(), protocmp.Transform()); d != "" {
		t.Errorf("jwt_authn (-want +got):\n%s", d)
	}

	// The per-route configurations.
	perRoute := func(req string) *anypb.Any {
		return pack(&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: req}})
	}
	routes := map[string]map[string]*anypb.Any{}
	for _, r := range res.RouteConfiguration("https/a.com").GetVirtualHosts()[0].GetRoutes() {
		routes[r.GetMatch().GetPrefix()] = r.GetTypedPerFilterConfig()
	}
	if d := cmp.Diff(map[string]*anypb.Any{"envoy.filters.http.jwt_authn": perRoute("staff")}, routes["/"], protocmp.Transform()); d != "" {
		t.Errorf("/ (-want +got):\n%s", d)
	}
	var keys []string
	for k := range routes["/partners"] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if d := cmp.Diff([]string{"envoy.filters.http.jwt_authn", "envoy.filters.http.local_ratelimit", "envoy.filters.http.rbac"}, keys); d != "" {
		t.Errorf("/partners keeps its other per-filter configurations (-want +got):\n%s", d)
	}
	if d := cmp.Diff(perRoute("partners"), routes["/partners"]["envoy.filters.http.jwt_authn"], protocmp.Transform()); d != "" {
		t.Errorf("/partners (-want +got):\n%s", d)
	}
	for _, p := range []string{"/open", "/static"} {
		if got := routes[p]; got != nil {
			t.Errorf("%s: want no per-filter configuration (as Contour), got %v", p, got)
		}
	}

	// The JWKS clusters.
	wantClusters := []*clusterv3.Cluster{
		{
			Name:                 "dnsname/http/sso.example.com",
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
			ConnectTimeout:       &durationpb.Duration{Seconds: 2},
			CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
			LoadAssignment:       dnsAssignment("dnsname/http/sso.example.com", "sso.example.com", 80),
		},
		{
			Name:                 idpName,
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
			DnsLookupFamily:      clusterv3.Cluster_V4_ONLY,
			ConnectTimeout:       &durationpb.Duration{Seconds: 2},
			CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
			LoadAssignment:       dnsAssignment(idpName, "idp.example.net", 443),
			TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{
				TypedConfig: pack(&tlsv3.UpstreamTlsContext{
					Sni: "idp.example.net",
					CommonTlsContext: &tlsv3.CommonTlsContext{TlsParams: wantUpstreamTLS(), ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{
						ValidationContext: &tlsv3.CertificateValidationContext{
							TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("CA PEM")}},
							MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
								SanType: tlsv3.SubjectAltNameMatcher_DNS,
								Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "idp.example.net"}},
							}},
						},
					}},
				}),
			}},
		},
	}
	for _, want := range wantClusters {
		if d := cmp.Diff(want, res.Cluster(want.GetName()), protocmp.Transform()); d != "" {
			t.Errorf("cluster %s (-want +got):\n%s", want.GetName(), d)
		}
	}
	if n := len(res.Endpoints); n != 1 {
		t.Errorf("want one ClusterLoadAssignment (web's; JWKS clusters resolve DNS), got %d", n)
	}
}

func dnsAssignment(name, host string, port uint32) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
		LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
			Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
				Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
			}}},
		}}}},
	}}}
}

// TestDNSNameClusterName: Contour's dnsname/<scheme>/<host> for the plain
// cluster of a URI, a hash of what differs otherwise, so that different
// clusters never share a name.
func TestDNSNameClusterName(t *testing.T) {
	t.Parallel()
	ca := &graph.Secret{CA: []byte("x")}
	for name, tc := range map[string]struct {
		c    graph.Cluster
		want string
	}{
		"https, port 443": {graph.Cluster{DNSNameScheme: "https", ExternalName: "k.com", Port: corev1.ServicePort{Port: 443}}, "dnsname/https/k.com"},
		"http, port 80":   {graph.Cluster{DNSNameScheme: "http", ExternalName: "k.com", Port: corev1.ServicePort{Port: 80}}, "dnsname/http/k.com"},
		"http, port 443":  {graph.Cluster{DNSNameScheme: "http", ExternalName: "k.com", Port: corev1.ServicePort{Port: 443}}, "dnsname/http/k.com/" + shortHash("port=443")},
		"another port":    {graph.Cluster{DNSNameScheme: "https", ExternalName: "k.com", Port: corev1.ServicePort{Port: 8443}}, "dnsname/https/k.com/" + shortHash("port=8443")},
		"a lookup family": {graph.Cluster{DNSNameScheme: "https", ExternalName: "k.com", Port: corev1.ServicePort{Port: 443}, DNSLookupFamily: "v6"}, "dnsname/https/k.com/" + shortHash("dns=v6")},
		"validation, sans sorted": {graph.Cluster{DNSNameScheme: "https", ExternalName: "k.com", Port: corev1.ServicePort{Port: 443},
			Validation: &graph.UpstreamValidation{CA: ca, SubjectNames: []string{"b", "a"}}}, "dnsname/https/k.com/" + shortHash("ca="+shortHash("x")+";san=a,b")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := ClusterName(&tc.c); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
