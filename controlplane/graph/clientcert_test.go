package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClientCertificate(t *testing.T) {
	t.Parallel()
	in := `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes: [{services: [{name: s, port: 80, protocol: tls}]}]
---
apiVersion: projectcontour.io/v1alpha1
kind: ExtensionService
metadata: {name: x, namespace: ns}
spec: {services: [{name: s, port: 80}]}
` + svcs("ns", "s") + certSecret(t, "certs", "client")
	g, r := build(t, Options{ClientCertificate: "certs/client"}, in)
	if fs := r.Findings(); len(fs) != 0 {
		t.Fatalf("findings %v", fs)
	}
	s := g.ClientCertificate
	if s == nil || s.Namespace != "certs" || s.Name != "client" || len(s.Cert) == 0 || len(s.Key) == 0 {
		t.Fatalf("the graph's client certificate: %+v", s)
	}
	rt := SortedRoutes(g.VirtualHosts["a.com"])[0]
	if c := rt.Backends[0].Cluster; c.ClientCertificate != s {
		t.Errorf("a Service's cluster does not carry the client certificate")
	}
	for _, c := range g.Extensions {
		if c.ClientCertificate != s {
			t.Errorf("ExtensionService %s's cluster does not carry the client certificate", c.Extension.Name)
		}
	}
	g, r = build(t, Options{ClientCertificate: "certs/missing"}, in)
	fs := r.Findings()
	if len(fs) != 1 || fs[0].Code != FindingClientCertificateNotValid || g.ClientCertificate != nil {
		t.Fatalf("a missing Secret: findings %v, graph certificate %v", fs, g.ClientCertificate)
	}
	if d := cmp.Diff(`tls.envoy-client-certificate: Secret "certs/missing" not found: Envoy presents no client certificate to upstreams`, fs[0].Message); d != "" {
		t.Errorf("message (-want +got):\n%s", d)
	}
	if c := SortedRoutes(g.VirtualHosts["a.com"])[0].Backends[0].Cluster; c.ClientCertificate != nil {
		t.Errorf("a missing Secret: the cluster carries %v", c.ClientCertificate)
	}
}
