package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestCertgenKube runs Contour's certgen Job command line against a real
// API server: compact Secrets appear, a second run keeps them, --overwrite
// replaces them; the certificates chain to the CA, carry the Services'
// names and work as an mTLS pair.
func TestCertgenKube(t *testing.T) {
	_, kubeconfig, c := startAPIServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	createNamespaces(ctx, t, c, "edge")
	f := certgenFlags{kube: true, kubeconfig: kubeconfig, overwrite: false, namespace: "edge", format: "compact", lifetimeDays: 365}
	var out bytes.Buffer
	if err := runCertgen(ctx, &f, &out); err != nil {
		t.Fatal(err)
	}
	if want := "secret/contourcert created\nsecret/envoycert created\n"; out.String() != want {
		t.Errorf("first run said %q, want %q", out.String(), want)
	}
	get := func(name string) *corev1.Secret {
		var s corev1.Secret
		if err := c.Get(ctx, client.ObjectKey{Namespace: "edge", Name: name}, &s); err != nil {
			t.Fatal(err)
		}
		return &s
	}
	first := get("contourcert")
	if first.Type != corev1.SecretTypeTLS || get("envoycert").Type != corev1.SecretTypeTLS {
		t.Fatalf("types %s", first.Type)
	}
	checkPair(t, first.Data["ca.crt"], first.Data["tls.crt"], first.Data["tls.key"], "contour.edge.svc", x509.ExtKeyUsageServerAuth)
	env := get("envoycert")
	checkPair(t, env.Data["ca.crt"], env.Data["tls.crt"], env.Data["tls.key"], "envoy.edge", x509.ExtKeyUsageClientAuth)
	out.Reset()
	if err := runCertgen(ctx, &f, &out); err != nil || !strings.Contains(out.String(), "secret/contourcert already exists") {
		t.Fatalf("second run: %v, %q", err, out.String())
	}
	if !bytes.Equal(get("contourcert").Data["tls.crt"], first.Data["tls.crt"]) {
		t.Fatal("a second run without --overwrite replaced the Secret")
	}
	f.overwrite = true
	out.Reset()
	if err := runCertgen(ctx, &f, &out); err != nil {
		t.Fatal(err)
	}
	if want := "secret/contourcert updated\nsecret/envoycert updated\n"; out.String() != want {
		t.Errorf("--overwrite said %q, want %q", out.String(), want)
	}
	if bytes.Equal(get("contourcert").Data["tls.crt"], first.Data["tls.crt"]) {
		t.Fatal("--overwrite kept the old certificate")
	}
}

// checkPair verifies that cert chains to ca for dnsName and usage, and
// that key is its key.
func checkPair(t *testing.T, ca, cert, key []byte, dnsName string, usage x509.ExtKeyUsage) {
	t.Helper()
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("no CA")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: dnsName, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		t.Fatalf("%s: %v", dnsName, err)
	}
}

// TestCertgenFiles: --pem and --yaml in the legacy format (the CA in
// cacert), files kept without --overwrite, and the refusals.
func TestCertgenFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	_, stderr, code := run(t, "", "certgen", "--pem", "--yaml", "--namespace=edge", "--secrets-name-suffix=-a", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"cacert-a.yaml", "cacert.pem", "contourcert-a.yaml", "contourcert.pem", "contourkey.pem", "envoycert-a.yaml", "envoycert.pem", "envoykey.pem"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	checkPair(t, read("cacert.pem"), read("contourcert.pem"), read("contourkey.pem"), "contour.edge.svc.cluster.local", x509.ExtKeyUsageServerAuth)
	if y := string(read("cacert-a.yaml")); !strings.Contains(y, "type: Opaque") || !strings.Contains(y, "cacert.pem:") || !strings.Contains(y, "namespace: edge") {
		t.Errorf("cacert-a.yaml:\n%s", y)
	}
	if _, stderr, code = run(t, "", "certgen", "--pem", dir); code == 0 || !strings.Contains(stderr, "--overwrite replaces it") {
		t.Errorf("a second run over the files: exit %d, %s", code, stderr)
	}
	for args, want := range map[string]string{"--secrets-format=pkcs12": "must be legacy or compact", "--namespace=Edge": "--namespace",
		"--certificate-lifetime=0": "at least a day"} {
		if _, stderr, code := run(t, "", "certgen", "--yaml", args, t.TempDir()); code != exitBadInput || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, %s", args, code, stderr)
		}
	}
}
