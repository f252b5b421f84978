package graph

import (
	"slices"
	"strings"
	"testing"
)

func TestECDHCurves(t *testing.T) {
	t.Parallel()
	l, err := Connections{ECDHCurves: "X25519MLKEM768\nX25519\nX25519MLKEM768"}.TLS()
	if err != nil || !slices.Equal(l.Curves, []string{"X25519MLKEM768", "X25519"}) {
		t.Errorf("listener curves %v (%v), want X25519MLKEM768, X25519 in that order, once each", l.Curves, err)
	}
	if l, _ := (Connections{}).TLS(); l.Curves != nil {
		t.Errorf("no curve given: %v, want none (Envoy's defaults)", l.Curves)
	}
	if err := (Connections{ECDHCurves: "P-256\nsecp256k1"}).Check(); err == nil || !strings.Contains(err.Error(), `tls-ecdh-curve "secp256k1"`) {
		t.Errorf("an unknown curve: %v", err)
	}
	c := &Cluster{}
	Upstream{TLSECDHCurves: "P-384"}.applyTLS(c)
	if c.UpstreamTLSCurves != "P-384" || c.UpstreamTLSMin != "1.2" || c.UpstreamTLSMax != "1.3" {
		t.Errorf("upstream curves alone: curves %q, versions %s-%s; want P-384 with Contour's default versions", c.UpstreamTLSCurves, c.UpstreamTLSMin, c.UpstreamTLSMax)
	}
	if err := (Upstream{TLSECDHCurves: "X448"}).Check(); err == nil || !strings.Contains(err.Error(), `cluster-upstream-tls-ecdh-curve "X448"`) {
		t.Errorf("an unknown upstream curve: %v", err)
	}
}
