package translate

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestFallback checks the fallback certificate's chain (last, for any TLS
// connection, the fallback Secret, ingress_fallbackcert) and route
// configuration (the hosts that enabled it, as in their own https/<fqdn>),
// and that Split leaves both to the rest.
func TestFallback(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	cert := &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("c"), Key: []byte("k")}
	fallback := &graph.Secret{Namespace: "certs", Name: "fallback", Cert: []byte("f"), Key: []byte("k")}
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}
	for _, name := range []string{"a.com", "b.com", "c.com"} {
		svh := g.SecureVirtualHost(name)
		svh.Secret = cert
		if name != "b.com" {
			svh.Fallback = fallback
		}
		svh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}}})
	}
	tr, err := TranslateAll(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	res := tr.Resources
	chains := res.Listener("ingress_https").GetFilterChains()
	if len(chains) != 4 {
		t.Fatalf("want 4 filter chains, got %d", len(chains))
	}
	fc := chains[3]
	if fc.GetName() != "fallback-certificate" {
		t.Errorf("last chain: name %q, want fallback-certificate", fc.GetName())
	}
	if d := cmp.Diff(&listenerv3.FilterChainMatch{TransportProtocol: "tls"}, fc.GetFilterChainMatch(), protocmp.Transform()); d != "" {
		t.Errorf("fallback chain match (-want +got):\n%s", d)
	}
	var tls tlsv3.DownstreamTlsContext
	if err := fc.GetTransportSocket().GetTypedConfig().UnmarshalTo(&tls); err != nil {
		t.Fatal(err)
	}
	sds := tls.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()
	if len(sds) != 1 || !strings.HasPrefix(sds[0].GetName(), "certs/fallback/") {
		t.Fatalf("fallback chain certificates: %v, want certs/fallback/<hash>", sds)
	}
	if tls.GetRequireClientCertificate().GetValue() || tls.GetCommonTlsContext().GetValidationContextType() != nil {
		t.Errorf("fallback chain asks for client certificates")
	}
	if got := tls.GetCommonTlsContext().GetTlsParams().GetTlsMinimumProtocolVersion(); got != tlsv3.TlsParameters_TLSv1_2 {
		t.Errorf("fallback chain minimum TLS version %v, want the listener's TLSv1_2", got)
	}
	var hcm hcmv3.HttpConnectionManager
	if err := fc.GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
		t.Fatal(err)
	}
	if hcm.GetStatPrefix() != "ingress_https" || hcm.GetRds().GetRouteConfigName() != "ingress_fallbackcert" {
		t.Errorf("fallback manager: stat prefix %q, route configuration %q", hcm.GetStatPrefix(), hcm.GetRds().GetRouteConfigName())
	}
	want := []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-request-start", Value: "t=%START_TIME(%s.%3f)%"},
		AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD}}
	rc := res.RouteConfiguration("ingress_fallbackcert")
	if rc == nil {
		t.Fatal("no ingress_fallbackcert")
	}
	if d := cmp.Diff(want, rc.GetRequestHeadersToAdd(), protocmp.Transform()); d != "" {
		t.Errorf("ingress_fallbackcert headers (-want +got):\n%s", d)
	}
	vhs := rc.GetVirtualHosts()
	if len(vhs) != 2 || vhs[0] != res.RouteConfiguration("https/a.com").GetVirtualHosts()[0] || vhs[1] != res.RouteConfiguration("https/c.com").GetVirtualHosts()[0] {
		t.Errorf("ingress_fallbackcert hosts: want those of https/a.com and https/c.com, got %d hosts", len(vhs))
	}
	sent := false
	for _, s := range res.Secrets {
		sent = sent || s.GetName() == sds[0].GetName()
	}
	if !sent {
		t.Errorf("the fallback Secret %s is not sent", sds[0].GetName())
	}
	parts, rest := Split(tr, g, map[string]bool{"a.com": true, "b.com": true, "c.com": true})
	if rest.Secrets[sds[0].GetName()] != fallback {
		t.Errorf("Split: the fallback Secret is not the rest's")
	}
	if parts["a.com"].Chain != chains[0] || parts["c.com"].Chain != chains[2] {
		t.Errorf("Split: the hosts' chains are not their own")
	}
}

// TestFallbackOnlyTCP checks that ingress_fallbackcert exists, empty, when
// only a TCP proxy enabled the fallback certificate: the chain's manager
// needs it.
func TestFallbackOnlyTCP(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	svh := g.SecureVirtualHost("a.com")
	svh.Secret = &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("c"), Key: []byte("k")}
	svh.Fallback = svh.Secret
	svh.TCPProxy = &graph.TCPProxy{Backends: []graph.Backend{{Cluster: &graph.Cluster{Namespace: "ns", Service: "db", Port: corev1.ServicePort{Port: 5432}}}}}
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	rc := res.RouteConfiguration("ingress_fallbackcert")
	if rc == nil || len(rc.GetVirtualHosts()) != 0 {
		t.Errorf("want an empty ingress_fallbackcert, got %v", rc)
	}
	if n := len(res.Listener("ingress_https").GetFilterChains()); n != 2 {
		t.Errorf("want the host's chain and the fallback chain, got %d", n)
	}
}
