package envoy_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/translate"
	"github.com/isobar-dev/isobar/sim/router"
)

// TestMisdirectedSimulatorAgrees: on the configuration translate writes for
// a wildcard TLS host, the simulator answers 421 exactly when the script
// Envoy runs does, with its body; otherwise the request is routed.
func TestMisdirectedSimulatorAgrees(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	vh := g.SecureVirtualHost("*.example.com")
	vh.Secret = &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("c"), Key: []byte("k")}
	vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"},
		Backends: []graph.Backend{{Cluster: &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}}}})
	res, _, err := translate.Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	r := router.New(res, router.Options{})
	for _, tc := range []struct{ authority, sni string }{
		{"a.example.com", "a.example.com"}, {"b.example.com", "a.example.com"}, {"a.example.com:443", "a.example.com"},
		{"A.EXAMPLE.com:8443", "a.example.com"}, {"a.example.com", "A.Example.Com"}, {"a.example.com.", "a.example.com"},
		{"a.example.org", "a.example.com"}, {"[::1]:443", "a.example.com"}, {"example.com", "a.example.com"},
	} {
		status, body := envoy.MisdirectedAnswer(t, &tc.authority, strings.ToLower(tc.sni)) // Envoy lower-cases the SNI
		got := r.Evaluate(router.Request{URL: "https://" + tc.sni + "/", SNI: tc.sni, Headers: map[string]string{"Host": tc.authority}})
		switch {
		case status == "421" && (got.Status != 421 || got.Body != body || got.VirtualHost != ""):
			t.Errorf("Host %q, SNI %q: the script answers 421, the simulator %d %q (virtual host %q)\n%s",
				tc.authority, tc.sni, got.Status, got.Body, got.VirtualHost, strings.Join(got.Trace, "\n"))
		case status == "" && got.Status == 421:
			t.Errorf("Host %q, SNI %q: the script lets the request through, the simulator answers 421\n%s",
				tc.authority, tc.sni, strings.Join(got.Trace, "\n"))
		case status != "" && status != "421":
			t.Errorf("Host %q, SNI %q: the script answers %q", tc.authority, tc.sni, status)
		}
	}
}
