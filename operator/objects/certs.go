package objects

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	operatorv1alpha1 "github.com/isobar-dev/isobar/operator/api/v1alpha1"
)

// CertValidity is how long generated certificates last; they are renewed
// when less than a third of it remains.
const CertValidity = 365 * 24 * time.Hour

// NeedsRotation reports whether a certificate Secret is missing, unreadable
// or within the last third of its validity at now.
func NeedsRotation(s *corev1.Secret, now time.Time) bool {
	if s == nil {
		return true
	}
	block, _ := pem.Decode(s.Data[corev1.TLSCertKey])
	if block == nil {
		return true
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return true
	}
	return now.After(cert.NotAfter.Add(-cert.NotAfter.Sub(cert.NotBefore) / 3))
}

// CertSecrets generates a fresh CA and the two mTLS Secrets: contourcert
// (the xDS server, valid for the Service names) and envoycert (the Envoy
// client). Both carry ca.crt.
func CertSecrets(c *operatorv1alpha1.Contour, now time.Time) ([]*corev1.Secret, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "isobar-xds-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(CertValidity), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	ns := c.Spec.Namespace.Name
	var out []*corev1.Secret
	for _, leaf := range []struct {
		name  string
		cn    string
		dns   []string
		usage x509.ExtKeyUsage
	}{
		{ServerCert, ControlPlane, []string{ControlPlane, ControlPlane + "." + ns, ControlPlane + "." + ns + ".svc", ControlPlane + "." + ns + ".svc.cluster.local"}, x509.ExtKeyUsageServerAuth},
		{EnvoyCert, Envoy, []string{Envoy}, x509.ExtKeyUsageClientAuth},
	} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: leaf.cn}, DNSNames: leaf.dns,
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(CertValidity), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{leaf.usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return nil, err
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		out = append(out, &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: meta(c, leaf.name, nil),
			Type: corev1.SecretTypeTLS, Data: map[string][]byte{
				"ca.crt":                pemCopy(caPEM),
				corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
				corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
			}})
	}
	return out, nil
}

func pemCopy(b []byte) []byte { return append([]byte(nil), b...) }

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}
