package graph

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

// testCRL is a PEM X509 CRL signed by a CA made for the test, and that
// CA's certificate in PEM.
func testCRL(t *testing.T) (crl, caPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "clients-ca"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	list, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: time.Unix(1, 0), NextUpdate: time.Unix(1<<31, 0)}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: list}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestValidateCRL: crl.pem must hold PEM X509 CRLs and no other block;
// text outside the blocks is ignored, as in Contour.
func TestValidateCRL(t *testing.T) {
	crl, ca := testCRL(t)
	for _, tc := range []struct {
		name string
		data []byte
		err  string
	}{
		{"one CRL", crl, ""},
		{"two CRLs, white space around", append(append([]byte("\n"), crl...), append(crl, '\n')...), ""},
		{"empty", nil, "no crl.pem with a PEM X509 CRL"},
		{"a certificate", ca, `crl.pem: block 1 is a "CERTIFICATE", not an X509 CRL`},
		{"a CRL, then a certificate", append(append([]byte{}, crl...), ca...), `block 2 is a "CERTIFICATE"`},
		{"text around the CRL, as Contour and OpenSSL", append(append([]byte("revocation list\n"), crl...), "oops"...), ""},
		{"text only", []byte("not a CRL\n"), "no crl.pem with a PEM X509 CRL"},
		{"a header with no block after it", append(append([]byte{}, crl...), "-----BEGIN X509 CRL-----\nnot base64!\n"...), "crl.pem: after block 1: malformed PEM block"},
		{"a block that does not parse", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte("junk")}), "crl.pem: block 1: "},
	} {
		err := validateCRL(tc.data)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
}
