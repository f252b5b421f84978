package objects

import (
	"crypto/x509"
	"encoding/pem"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/isobar-dev/isobar/internal/xdscert"
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
	set, err := xdscert.Issue(xdscert.Options{Namespace: c.Spec.Namespace.Name, Server: ControlPlane, Client: Envoy,
		Now: now, Lifetime: CertValidity, CAName: "isobar-xds-ca"})
	if err != nil {
		return nil, err
	}
	var out []*corev1.Secret
	for _, leaf := range []struct {
		name      string
		cert, key []byte
	}{{ServerCert, set.ServerCert, set.ServerKey}, {EnvoyCert, set.ClientCert, set.ClientKey}} {
		out = append(out, &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: meta(c, leaf.name, nil),
			Type: corev1.SecretTypeTLS, Data: map[string][]byte{
				"ca.crt": append([]byte(nil), set.CA...), corev1.TLSCertKey: leaf.cert, corev1.TLSPrivateKeyKey: leaf.key,
			}})
	}
	return out, nil
}
