package graph

import (
	"crypto/x509"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/source"
)

// crlKey is the Secret key holding certificate revocation lists (Contour's).
const crlKey = "crl.pem"

// lookupCRLSecret returns the PEM revocation lists of the Secret ref
// ("name" or "namespace/name") for client validation on a host of
// namespace from: the Secret must be delegated to from when elsewhere, of
// type kubernetes.io/tls or Opaque, and hold at least one X509 CRL under
// crl.pem, every block of which parses.
func (b *builder) lookupCRLSecret(ref, from string) ([]byte, error) {
	ns, name := splitSecretRef(ref, from)
	if !b.delegationPermitted(ns, name, from) {
		return nil, &LookupError{Reason: ReasonDelegationNotPermitted,
			Message: fmt.Sprintf("CRL Secret %q is not delegated to namespace %q", ns+"/"+name, from)}
	}
	s, ok := b.idx.Secrets[source.Key(ns, name)]
	if !ok {
		return nil, &LookupError{Reason: ReasonClientValidationInvalid, Message: fmt.Sprintf("CRL Secret %q not found", ns+"/"+name)}
	}
	if s.Type != corev1.SecretTypeTLS && s.Type != corev1.SecretTypeOpaque && s.Type != "" {
		return nil, &LookupError{Reason: ReasonClientValidationInvalid,
			Message: fmt.Sprintf("CRL Secret %q is of type %q, not %q or %q", ns+"/"+name, s.Type, corev1.SecretTypeTLS, corev1.SecretTypeOpaque)}
	}
	crl := s.Data[crlKey]
	if err := validateCRL(crl); err != nil {
		return nil, &LookupError{Reason: ReasonClientValidationInvalid, Message: fmt.Sprintf("CRL Secret %q is invalid: %s", ns+"/"+name, err)}
	}
	return crl, nil
}

// validateCRL checks that data holds one or more PEM "X509 CRL" blocks and
// no other block, each a revocation list Go can parse. Text outside the
// blocks is ignored, as Contour and OpenSSL ignore it (nextPEMBlock).
func validateCRL(data []byte) error {
	n := 0
	for rest := data; ; n++ {
		block, next, err := nextPEMBlock(rest)
		if err != nil {
			return fmt.Errorf("%s: after block %d: %v", crlKey, n, err)
		}
		if block == nil {
			break
		}
		if block.Type != "X509 CRL" {
			return fmt.Errorf("%s: block %d is a %q, not an X509 CRL", crlKey, n+1, block.Type)
		}
		if _, err := x509.ParseRevocationList(block.Bytes); err != nil {
			return fmt.Errorf("%s: block %d: %v", crlKey, n+1, err)
		}
		rest = next
	}
	if n == 0 {
		return fmt.Errorf("no %s with a PEM X509 CRL", crlKey)
	}
	return nil
}
