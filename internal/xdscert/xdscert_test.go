package xdscert

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"testing"
	"time"
)

func TestIssue(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	set, err := Issue(Options{Namespace: "ns", Server: "contour", Client: "envoy", Now: now, Lifetime: 24 * time.Hour, CAName: "ca"})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(set.ClientCert)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"envoy", "envoy.ns", "envoy.ns.svc", "envoy.ns.svc.cluster.local"}
	if !slices.Equal(cert.DNSNames, want) || cert.Subject.CommonName != "envoy" || !cert.NotAfter.Equal(now.Add(24*time.Hour)) ||
		!cert.NotBefore.Equal(now.Add(-time.Hour)) {
		t.Errorf("client certificate: %v %s %s-%s", cert.DNSNames, cert.Subject.CommonName, cert.NotBefore, cert.NotAfter)
	}
	if _, err := Issue(Options{Namespace: "ns", Server: "contour", Client: "envoy"}); err == nil {
		t.Error("no lifetime was accepted")
	}
}
