package graph

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// testCert returns a PEM certificate and key (ECDSA, P-256) for cn (and
// dnsNames).
func testCert(t *testing.T, cn string, dnsNames ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return certWithKey(t, key, cn, dnsNames...)
}

// certWithKey returns a PEM certificate for cn (and dnsNames), self-signed
// with key, and key in PKCS #8.
func certWithKey(t *testing.T, key crypto.Signer, cn string, dnsNames ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: dnsNames,
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func tlsSecret(ns, name string, cert, key []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key},
	}
}

func TestValidateTLSSecret(t *testing.T) {
	t.Parallel()
	cert, key := testCert(t, "a.example.com", "a.example.com")
	otherCert, otherKey := testCert(t, "b.example.com")
	noName, noNameKey := testCert(t, "")
	keyed := func(generate func() (crypto.Signer, error)) *corev1.Secret {
		k, err := generate()
		if err != nil {
			t.Fatal(err)
		}
		c, kp := certWithKey(t, k, "a.example.com")
		return tlsSecret("ns", "s", c, kp)
	}
	ec := func(c elliptic.Curve) func() (crypto.Signer, error) {
		return func() (crypto.Signer, error) { return ecdsa.GenerateKey(c, rand.Reader) }
	}
	rsaKey := func(bits int) func() (crypto.Signer, error) {
		return func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, bits) }
	}
	for name, tc := range map[string]struct {
		secret *corev1.Secret
		want   string // substring of the error; "" means valid
	}{
		"valid":               {tlsSecret("ns", "s", cert, key), ""},
		"valid chain of two":  {tlsSecret("ns", "s", append(append([]byte{}, cert...), otherCert...), key), ""},
		"missing cert":        {tlsSecret("ns", "s", nil, key), "missing TLS certificate"},
		"missing key":         {tlsSecret("ns", "s", cert, nil), "missing TLS private key"},
		"not PEM":             {tlsSecret("ns", "s", []byte("hello"), key), "not PEM"},
		"key in tls.crt":      {tlsSecret("ns", "s", append(append([]byte{}, cert...), key...), key), "unexpected PEM block"},
		"mismatched key":      {tlsSecret("ns", "s", cert, otherKey), "does not match"},
		"two keys":            {tlsSecret("ns", "s", cert, append(append([]byte{}, key...), otherKey...)), "more than one private key"},
		"no CN or SAN":        {tlsSecret("ns", "s", noName, noNameKey), "neither a common name"},
		"garbage certificate": {tlsSecret("ns", "s", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}), key), "invalid TLS certificate"},
		"text around and between the blocks, as Contour and OpenSSL": {tlsSecret("ns", "s",
			[]byte("leaf\n"+string(cert)+"intermediate\n"+string(otherCert)+"end of chain\n"), []byte("the key\n"+string(key)+"end\n")), ""},
		"text only in tls.key":             {tlsSecret("ns", "s", cert, []byte("no key here\n")), "invalid TLS private key: data is not PEM"},
		"a header, no block":               {tlsSecret("ns", "s", []byte(string(cert)+"-----BEGIN CERTIFICATE-----\nnot base64!\n"), key), "invalid TLS certificate: malformed PEM block"},
		"a BEGIN that is no header":        {tlsSecret("ns", "s", []byte(string(cert)+"-----BEGIN\nCERTIFICATE-----\n"), key), ""},
		"RSA, 2048 bits":                   {keyed(rsaKey(2048)), ""},
		"RSA, 1024 bits: Envoy refuses it": {keyed(rsaKey(1024)), "the certificate's RSA key has 1024 bits; Envoy takes 2048 or more"},
		"ECDSA, P-384":                     {keyed(ec(elliptic.P384())), ""},
		"ECDSA, P-521":                     {keyed(ec(elliptic.P521())), ""},
		"ECDSA, P-224: Envoy refuses it":   {keyed(ec(elliptic.P224())), "the certificate's ECDSA key is on P-224; Envoy takes P-256, P-384 or P-521"},
		"Ed25519": {keyed(func() (crypto.Signer, error) {
			_, k, err := ed25519.GenerateKey(rand.Reader)
			return k, err
		}), ""},
		"wrong type": {&corev1.Secret{Type: "kubernetes.io/dockerconfigjson",
			Data: map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key}}, "secret type"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := validateTLSSecret(tc.secret)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func TestDelegationPermitted(t *testing.T) {
	t.Parallel()
	idx := source.NewIndex()
	for _, d := range []*contourv1.TLSCertificateDelegation{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "admin", Name: "d1"}, Spec: contourv1.TLSCertificateDelegationSpec{
			Delegations: []contourv1.CertificateDelegation{{SecretName: "wild", TargetNamespaces: []string{"team-a"}}}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "admin", Name: "d2"}, Spec: contourv1.TLSCertificateDelegationSpec{
			Delegations: []contourv1.CertificateDelegation{{SecretName: "shared", TargetNamespaces: []string{"*"}}}}},
		// A delegation in the wrong namespace grants nothing.
		{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "d3"}, Spec: contourv1.TLSCertificateDelegationSpec{
			Delegations: []contourv1.CertificateDelegation{{SecretName: "wild", TargetNamespaces: []string{"team-b"}}}}},
	} {
		if err := idx.Upsert(d); err != nil {
			t.Fatal(err)
		}
	}
	b := &builder{idx: idx}
	for _, tc := range []struct {
		ns, name, target string
		want             bool
	}{
		{"admin", "wild", "admin", true},   // own namespace
		{"admin", "wild", "team-a", true},  // delegated
		{"admin", "wild", "team-b", false}, // not delegated to team-b (d3 lives in team-b)
		{"admin", "other", "team-a", false},
		{"admin", "shared", "anyone", true}, // "*"
	} {
		if got := b.delegationPermitted(tc.ns, tc.name, tc.target); got != tc.want {
			t.Errorf("delegationPermitted(%s/%s → %s) = %v, want %v", tc.ns, tc.name, tc.target, got, tc.want)
		}
	}
}

// TestLookupCASecret: as in Contour, a CA Secret is of type
// kubernetes.io/tls or Opaque (no type, offline, is Opaque) and its ca.crt
// holds at least one PEM certificate; text outside the blocks is ignored.
func TestLookupCASecret(t *testing.T) {
	t.Parallel()
	ca, _ := testCert(t, "ca", "ca")
	other, _ := testCert(t, "other-ca", "other-ca")
	for name, tc := range map[string]struct {
		typ     corev1.SecretType
		caCrt   string
		wantErr string // "" when valid
	}{
		"Opaque":            {typ: corev1.SecretTypeOpaque, caCrt: string(ca)},
		"kubernetes.io/tls": {typ: corev1.SecretTypeTLS, caCrt: string(ca)},
		"no type (offline)": {caCrt: string(ca)},
		"kubernetes.io/dockercfg": {typ: corev1.SecretTypeDockercfg, caCrt: string(ca),
			wantErr: `CA Secret "ns/ca" is of type "kubernetes.io/dockercfg", not "kubernetes.io/tls" or "Opaque"`},
		"kubernetes.io/basic-auth": {typ: corev1.SecretTypeBasicAuth, caCrt: string(ca),
			wantErr: `CA Secret "ns/ca" is of type "kubernetes.io/basic-auth", not "kubernetes.io/tls" or "Opaque"`},
		"a bundle with text around and between its blocks": {typ: corev1.SecretTypeOpaque,
			caCrt: "start of CA bundle\ncertificate 0\n" + string(ca) + "certificate 1\n" + string(other) + "end of CA bundle\n"},
		"text and no certificate": {typ: corev1.SecretTypeOpaque, caCrt: "no certificate here\n",
			wantErr: `CA Secret "ns/ca" is invalid: invalid TLS certificate: data is not PEM`},
		"empty": {typ: corev1.SecretTypeOpaque, wantErr: `CA Secret "ns/ca" is invalid: missing ca.crt`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			idx := source.NewIndex()
			if err := idx.Upsert(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ca"}, Type: tc.typ,
				Data: map[string][]byte{"ca.crt": []byte(tc.caCrt)}}); err != nil {
				t.Fatal(err)
			}
			got, err := (&builder{idx: idx}).lookupCASecret("ca", "ns")
			if tc.wantErr != "" {
				if err == nil || err.(*LookupError).Message != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.CA) != tc.caCrt {
				t.Errorf("CA %q, want the Secret's ca.crt as it is", got.CA)
			}
		})
	}
}
