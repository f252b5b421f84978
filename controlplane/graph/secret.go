package graph

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// Reasons for secret problems, Contour's names.
const (
	ReasonSecretNotValid            = "SecretNotValid"
	ReasonDelegationNotPermitted    = "DelegationNotPermitted"
	ReasonCACertificateNotDelegated = "CACertificateNotDelegated"
)

// splitSecretRef splits "name" or "namespace/name"; a bare name belongs to
// defaultNamespace.
func splitSecretRef(ref, defaultNamespace string) (namespace, name string) {
	if ns, n, ok := strings.Cut(ref, "/"); ok {
		return ns, n
	}
	return defaultNamespace, ref
}

// lookupTLSSecret resolves a serving certificate referenced from namespace
// from. ref is "name" or "namespace/name"; a Secret in another namespace
// needs a TLSCertificateDelegation.
func (b *builder) lookupTLSSecret(ref, from string) (*Secret, error) {
	ns, name := splitSecretRef(ref, from)
	if !b.delegationPermitted(ns, name, from) {
		return nil, &LookupError{Reason: ReasonDelegationNotPermitted,
			Message: fmt.Sprintf("Secret %q certificate delegation not permitted", ns+"/"+name)}
	}
	s, ok := b.idx.Secrets[source.Key(ns, name)]
	if !ok {
		return nil, &LookupError{Reason: ReasonSecretNotValid,
			Message: fmt.Sprintf("Secret %q not found", ns+"/"+name)}
	}
	check := b.validateTLSSecretOnce(s)
	if check.err != nil {
		return nil, &LookupError{Reason: ReasonSecretNotValid,
			Message: fmt.Sprintf("Secret %q is invalid: %s", ns+"/"+name, check.err)}
	}
	return &Secret{Namespace: ns, Name: name, Cert: s.Data[corev1.TLSCertKey], Key: s.Data[corev1.TLSPrivateKeyKey],
		NotBefore: check.notBefore, NotAfter: check.notAfter}, nil
}

// lookupCASecret resolves a CA bundle (ca.crt) referenced from namespace
// from. As in Contour, the Secret must be of type kubernetes.io/tls or
// Opaque (a Secret read offline without a type is taken for Opaque, as the
// API server would default it).
func (b *builder) lookupCASecret(ref, from string) (*Secret, error) {
	ns, name := splitSecretRef(ref, from)
	if !b.delegationPermitted(ns, name, from) {
		return nil, &LookupError{Reason: ReasonCACertificateNotDelegated,
			Message: fmt.Sprintf("CA Secret %q is not delegated to namespace %q", ns+"/"+name, from)}
	}
	s, ok := b.idx.Secrets[source.Key(ns, name)]
	if !ok {
		return nil, &LookupError{Reason: ReasonSecretNotValid,
			Message: fmt.Sprintf("CA Secret %q not found", ns+"/"+name)}
	}
	if s.Type != corev1.SecretTypeTLS && s.Type != corev1.SecretTypeOpaque && s.Type != "" {
		return nil, &LookupError{Reason: ReasonSecretNotValid,
			Message: fmt.Sprintf("CA Secret %q is of type %q, not %q or %q", ns+"/"+name, s.Type, corev1.SecretTypeTLS, corev1.SecretTypeOpaque)}
	}
	ca := s.Data["ca.crt"]
	if err := validateCABundle(ca); err != nil {
		return nil, &LookupError{Reason: ReasonSecretNotValid,
			Message: fmt.Sprintf("CA Secret %q is invalid: %s", ns+"/"+name, err)}
	}
	return &Secret{Namespace: ns, Name: name, CA: ca}, nil
}

// delegationPermitted reports whether a Secret in namespace ns called name
// may be used from namespace target: always in its own namespace, otherwise
// only if a TLSCertificateDelegation in ns names it and lists target or "*".
func (b *builder) delegationPermitted(ns, name, target string) bool {
	if ns == target {
		return true
	}
	allows := func(secretName string, targets []string) bool {
		return secretName == name && (slices.Contains(targets, target) || slices.Contains(targets, "*"))
	}
	for _, key := range source.SortedKeys(b.idx.Delegations) {
		if key.Namespace != ns {
			continue
		}
		for _, d := range b.idx.Delegations[key].Spec.Delegations {
			if allows(d.SecretName, d.TargetNamespaces) {
				return true
			}
		}
	}
	for _, key := range source.SortedKeys(b.idx.LegacyDelegations) {
		if key.Namespace != ns {
			continue
		}
		for _, d := range b.idx.LegacyDelegations[key].Spec.Delegations {
			if allows(d.SecretName, d.TargetNamespaces) {
				return true
			}
		}
	}
	return false
}

// tlsCheck is what validating a serving certificate found: its leaf's
// validity window, or why it cannot be used.
type tlsCheck struct {
	notBefore, notAfter time.Time
	err                 error
}

// validateTLSSecretOnce validates s, remembering the answer for identical
// content within one build (certificates are often shared, and parsing
// keys is the costly part of validation).
func (b *builder) validateTLSSecretOnce(s *corev1.Secret) tlsCheck {
	key := string(s.Type) + "\x00" + string(s.Data[corev1.TLSCertKey]) + "\x00" + string(s.Data[corev1.TLSPrivateKeyKey])
	if c, ok := b.secretChecks.Load(key); ok {
		return c.(tlsCheck)
	}
	leaf, err := validateTLSSecret(s)
	c := tlsCheck{err: err}
	if err == nil {
		c.notBefore, c.notAfter = leaf.NotBefore, leaf.NotAfter
	}
	b.secretChecks.Store(key, c)
	return c
}

// validateTLSSecret checks a serving certificate: type kubernetes.io/tls (or
// Opaque with the same keys), PEM certificates that parse, exactly one
// unencrypted private key that matches the leaf, a leaf with a CN or SAN
// and a key Envoy takes (keyEnvoyTakes). It returns the leaf.
func validateTLSSecret(s *corev1.Secret) (*x509.Certificate, error) {
	if s.Type != corev1.SecretTypeTLS && s.Type != corev1.SecretTypeOpaque && s.Type != "" {
		return nil, fmt.Errorf("secret type is %q, not %q", s.Type, corev1.SecretTypeTLS)
	}
	certPEM, keyPEM := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
	if len(certPEM) == 0 {
		return nil, fmt.Errorf("missing TLS certificate")
	}
	if len(keyPEM) == 0 {
		return nil, fmt.Errorf("missing TLS private key")
	}
	certs, err := parseCertificates(certPEM)
	if err != nil {
		return nil, err
	}
	leaf := certs[0]
	if leaf.Subject.CommonName == "" && len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0 {
		return nil, fmt.Errorf("certificate has neither a common name nor a subject alternative name")
	}
	key, err := parsePrivateKey(keyPEM)
	if err != nil {
		return nil, err
	}
	if !publicKeysMatch(leaf.PublicKey, key) {
		return nil, fmt.Errorf("private key does not match the certificate")
	}
	if err := keyEnvoyTakes(leaf.PublicKey); err != nil {
		return nil, err
	}
	return leaf, nil
}

// keyEnvoyTakes refuses the certificate keys Envoy refuses to load (and
// with them the listener or cluster whose TLS context needs the
// certificate): RSA keys under 2048 bits and ECDSA keys on curves other
// than P-256, P-384 and P-521.
func keyEnvoyTakes(pub any) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if n := p.N.BitLen(); n < 2048 {
			return fmt.Errorf("the certificate's RSA key has %d bits; Envoy takes 2048 or more", n)
		}
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return fmt.Errorf("the certificate's ECDSA key is on %s; Envoy takes P-256, P-384 or P-521", p.Curve.Params().Name)
		}
	}
	return nil
}

// parseCertificates decodes a PEM chain; any block other than CERTIFICATE is
// an error (a private key in tls.crt leaks it to Envoy's certificate list).
// Text outside the blocks is ignored (nextPEMBlock); data with no block at
// all is not PEM.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		block, next, err := nextPEMBlock(rest)
		if err != nil {
			return nil, fmt.Errorf("invalid TLS certificate: %w", err)
		}
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("invalid TLS certificate: unexpected PEM block %q", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("invalid TLS certificate: %w", err)
		}
		certs = append(certs, c)
		rest = next
	}
	if len(certs) == 0 {
		if len(bytes.TrimSpace(data)) > 0 {
			return nil, fmt.Errorf("invalid TLS certificate: data is not PEM")
		}
		return nil, fmt.Errorf("missing TLS certificate")
	}
	return certs, nil
}

// nextPEMBlock returns the next PEM block of data and what follows it. As
// OpenSSL (which Envoy uses) and Contour do, it ignores text around and
// between blocks: block is nil when no "-----BEGIN ...-----" line is left.
// Such a line with no block that decodes after it is an error.
func nextPEMBlock(data []byte) (block *pem.Block, rest []byte, err error) {
	if !hasPEMHeader(data) {
		return nil, nil, nil
	}
	if block, rest = pem.Decode(data); block == nil {
		return nil, nil, errors.New("malformed PEM block")
	}
	return block, rest, nil
}

// hasPEMHeader reports whether data holds what looks like a PEM header: a
// "-----BEGIN" followed, on the same line, by "-----" (Contour's test).
func hasPEMHeader(data []byte) bool {
	_, after, ok := bytes.Cut(data, []byte("-----BEGIN"))
	if !ok {
		return false
	}
	end := bytes.Index(after, []byte("-----"))
	return end >= 0 && !bytes.Contains(after[:end], []byte("\n"))
}

// parsePrivateKey decodes exactly one unencrypted PEM private key. Text
// outside the blocks is ignored (nextPEMBlock); data with no block at all
// is not PEM.
func parsePrivateKey(data []byte) (crypto.PrivateKey, error) {
	var keys []*pem.Block
	blocks := 0
	for rest := data; ; blocks++ {
		block, next, err := nextPEMBlock(rest)
		if err != nil {
			return nil, fmt.Errorf("invalid TLS private key: %w", err)
		}
		if block == nil {
			break
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			keys = append(keys, block)
		}
		rest = next
	}
	switch {
	case blocks == 0 && len(bytes.TrimSpace(data)) > 0:
		return nil, fmt.Errorf("invalid TLS private key: data is not PEM")
	case len(keys) == 0:
		return nil, fmt.Errorf("invalid TLS private key: no private key found")
	case len(keys) > 1:
		return nil, fmt.Errorf("invalid TLS private key: more than one private key")
	case keys[0].Type == "ENCRYPTED PRIVATE KEY" || keys[0].Headers["Proc-Type"] != "":
		return nil, fmt.Errorf("invalid TLS private key: the key is encrypted")
	}
	der := keys[0].Bytes
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("invalid TLS private key: unsupported key format")
}

// publicKeysMatch reports whether key is the private half of pub.
func publicKeysMatch(pub any, key crypto.PrivateKey) bool {
	type publicKeyer interface{ Public() crypto.PublicKey }
	pk, ok := key.(publicKeyer)
	if !ok {
		return false
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return p.Equal(pk.Public())
	case *ecdsa.PublicKey:
		return p.Equal(pk.Public())
	case ed25519.PublicKey:
		return p.Equal(pk.Public())
	}
	return false
}

// validateCABundle checks that data holds at least one CERTIFICATE block and
// that every block parses as x509.
func validateCABundle(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("missing ca.crt")
	}
	_, err := parseCertificates(data)
	return err
}

// localJWKS returns the key set (JWKS) in key of the Opaque Secret name of
// namespace ns (no delegation: it must be the HTTPProxy's own), as
// Contour's localJWKS reads it: the value must be a JSON object with a
// "keys" array.
func (b *builder) localJWKS(l contourv1.LocalJWKS, ns string) (string, error) {
	s, ok := b.idx.Secrets[source.Key(ns, l.SecretName)]
	switch {
	case l.SecretName == "" || l.Key == "":
		return "", errors.New("secretName and key are required")
	case !ok:
		return "", fmt.Errorf("Secret %q not found", ns+"/"+l.SecretName)
	case s.Type != "" && s.Type != corev1.SecretTypeOpaque:
		return "", fmt.Errorf("Secret %q: type is %q, not %q", ns+"/"+l.SecretName, s.Type, corev1.SecretTypeOpaque)
	}
	data := s.Data[l.Key]
	if len(data) == 0 {
		return "", fmt.Errorf("Secret %q: missing %q key or empty value", ns+"/"+l.SecretName, l.Key)
	}
	if err := checkJWKS(data); err != nil {
		return "", fmt.Errorf("Secret %q, key %q: %w", ns+"/"+l.SecretName, l.Key, err)
	}
	return string(data), nil
}

// checkJWKS returns an error unless data is a JSON object with a "keys"
// array (RFC 7517's key set); the keys themselves are Envoy's to read.
func checkJWKS(data []byte) error {
	var set map[string]json.RawMessage
	if err := json.Unmarshal(data, &set); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	keys, ok := set["keys"]
	if !ok {
		return errors.New(`the key set has no "keys" array`)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(keys, &list); err != nil || list == nil {
		return errors.New(`"keys" must be an array`)
	}
	return nil
}
