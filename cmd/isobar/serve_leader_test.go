package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"regexp"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// TestLeaderHandoverAndSecretDeletion runs two replicas against one API
// server: the first leads and writes statuses; when it stops, the second
// takes over. Deleting a Secret in use invalidates only its virtual host.
func TestLeaderHandoverAndSecretDeletion(t *testing.T) {
	_, kubeconfig, c := startAPIServer(t)
	ctx := context.Background()
	for _, ns := range []string{"apps", "projectcontour"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	crt, key := testCertPair(t)
	objs := []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "cert"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key}},
		&contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "secure"},
			Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: "secure.example.com", TLS: &contourv1.TLS{SecretName: "cert"}},
				Routes: []contourv1.Route{{Services: []contourv1.Service{{Name: "web", Port: 80}}}}}},
		&contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "plain"},
			Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: "plain.example.com"},
				Routes: []contourv1.Route{{Services: []contourv1.Service{{Name: "web", Port: 80}}}}}},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	holder := func() string {
		var l coordinationv1.Lease
		if err := c.Get(ctx, client.ObjectKey{Namespace: "projectcontour", Name: "isobar-leader"}, &l); err != nil || l.Spec.HolderIdentity == nil {
			return ""
		}
		return *l.Spec.HolderIdentity
	}
	proxyStatus := func(name string) string {
		var p contourv1.HTTPProxy
		if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: name}, &p); err != nil {
			return ""
		}
		return p.Status.CurrentStatus
	}
	a := startServe(ctx, t, kubeconfig, true)
	eventually(t, 30*time.Second, "a leader", func() bool { return holder() != "" })
	first := holder()
	host, _ := os.Hostname()
	if !regexp.MustCompile("^" + regexp.QuoteMeta(host) + "_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$").MatchString(first) {
		t.Errorf("leader identity %q, want Contour's host name, an underscore and a UUID", first)
	}
	eventually(t, 30*time.Second, "statuses from the leader", func() bool { return proxyStatus("secure") == "valid" && proxyStatus("plain") == "valid" })
	b := startServe(ctx, t, kubeconfig, true)
	defer b.stop(t)
	time.Sleep(2 * time.Second)
	if holder() != first {
		t.Fatalf("the second replica took the lease while the first was alive: %q → %q", first, holder())
	}
	// Stopping lets the Lease go before serve returns, so the second
	// replica leads within its retry period, not once the Lease expired.
	a.stop(t)
	if h := holder(); h == first {
		t.Errorf("the stopped leader still holds the Lease")
	}
	eventually(t, 10*time.Second, "the second replica to lead", func() bool { h := holder(); return h != "" && h != first })
	// The new leader writes statuses: deleting the Secret in use makes only
	// the TLS proxy invalid.
	if err := c.Delete(ctx, objs[1]); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the TLS proxy invalid", func() bool { return proxyStatus("secure") == "invalid" })
	if got := proxyStatus("plain"); got != "valid" {
		t.Errorf("the other proxy changed: %s", got)
	}
}

// testCertPair makes a self-signed certificate when the shared test
// certificates are not beside the repository.
func testCertPair(t *testing.T) ([]byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "secure.example.com"},
		DNSNames: []string{"secure.example.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}
