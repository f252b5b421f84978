package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fallbackRoot is a TLS root on a.com in namespace ns that enables the
// fallback certificate, with tlsExtra added to its tls block and spec
// (routes or tcpproxy) as its spec's last line.
func fallbackRoot(ns, tlsExtra, spec string) string {
	return `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ` + ns + `}
spec:
  virtualhost:
    fqdn: a.com
    tls: {secretName: cert, enableFallbackCertificate: true` + tlsExtra + `}
  ` + spec + "\n"
}

func TestFallbackCertificate(t *testing.T) {
	t.Parallel()
	routes := "routes: [{services: [{name: s, port: 80}]}]"
	delegation := "---\napiVersion: projectcontour.io/v1\nkind: TLSCertificateDelegation\nmetadata: {name: d, namespace: certs}\n" +
		"spec: {delegations: [{secretName: fallback, targetNamespaces: [ns]}]}\n"
	for name, tc := range map[string]struct {
		yaml, fallback string
		wantStatus     string
		wantFallback   string // the host's fallback Secret, namespace/name
	}{
		"none configured": {
			yaml: fallbackRoot("ns", "", routes), wantStatus: "HTTPProxy ns/p: invalid FallbackNotPresent",
		},
		"in the root's namespace": {
			yaml: fallbackRoot("ns", "", routes), fallback: "ns/cert",
			wantStatus: "HTTPProxy ns/p: valid", wantFallback: "ns/cert",
		},
		"in another namespace, not delegated": {
			yaml: fallbackRoot("ns", "", routes), fallback: "certs/fallback",
			wantStatus: "HTTPProxy ns/p: invalid FallbackNotDelegated",
		},
		"in another namespace, delegated": {
			yaml: fallbackRoot("ns", "", routes) + delegation, fallback: "certs/fallback",
			wantStatus: "HTTPProxy ns/p: valid", wantFallback: "certs/fallback",
		},
		"missing": {
			yaml: fallbackRoot("ns", "", routes), fallback: "ns/nothing",
			wantStatus: "HTTPProxy ns/p: invalid FallbackNotValid",
		},
		"with client certificates": {
			yaml: fallbackRoot("ns", ", clientValidation: {skipClientCertValidation: true}", routes), fallback: "ns/cert",
			wantStatus: "HTTPProxy ns/p: invalid TLSIncompatibleFeatures",
		},
		"on a TLS-terminating tcpproxy": {
			yaml: fallbackRoot("ns", "", "tcpproxy: {services: [{name: s, port: 80}]}"), fallback: "ns/cert",
			wantStatus: "HTTPProxy ns/p: valid", wantFallback: "ns/cert",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := tc.yaml + svcs("ns", "s") + certSecret(t, "ns", "cert") + certSecret(t, "certs", "fallback")
			g, r := build(t, Options{FallbackCertificate: tc.fallback}, in)
			if d := cmp.Diff([]string{tc.wantStatus}, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			got := ""
			if svh := g.SecureVirtualHosts["a.com"]; svh != nil && svh.Fallback != nil {
				got = svh.Fallback.Namespace + "/" + svh.Fallback.Name
				if len(svh.Fallback.Cert) == 0 || len(svh.Fallback.Key) == 0 {
					t.Errorf("fallback Secret %s has no certificate or key", got)
				}
			}
			if got != tc.wantFallback {
				t.Errorf("fallback certificate: got %q, want %q", got, tc.wantFallback)
			}
		})
	}
}
