// Package xdscert issues the certificates of the xDS connection's mutual
// TLS: a CA, the control plane's server certificate and Envoy's client
// certificate, each valid for the names a Service has in a namespace.
// Keys are ECDSA P-256; everything is PEM.
package xdscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"time"
)

// Options say what Issue issues.
type Options struct {
	// Namespace is where the Services run.
	Namespace string
	// Server and Client are the Services of the control plane and of
	// Envoy ("contour" and "envoy", as Contour names them).
	Server, Client string
	// DNSSuffix is the cluster's domain (default cluster.local).
	DNSSuffix string
	// Now and Lifetime bound the certificates' validity (they start an
	// hour before Now, for clocks that lag).
	Now      time.Time
	Lifetime time.Duration
	// CAName is the CA's common name.
	CAName string
}

// Set is what Issue returns, in PEM.
type Set struct {
	CA                    []byte
	ServerCert, ServerKey []byte
	ClientCert, ClientKey []byte
}

// ServiceNames are the DNS names of Service service in namespace ns, as
// Contour's certificates carry them: service, service.ns, service.ns.svc
// and service.ns.svc.<suffix>.
func ServiceNames(service, ns, suffix string) []string {
	return []string{service, service + "." + ns, service + "." + ns + ".svc", service + "." + ns + ".svc." + suffix}
}

// Issue returns a new CA and the two certificates it signs: the server's
// (server authentication) and the client's (client authentication), each
// valid for its Service's names and named after it.
func Issue(o Options) (*Set, error) {
	if o.Namespace == "" || o.Server == "" || o.Client == "" || o.Lifetime <= 0 {
		return nil, errors.New("xdscert: namespace, service names and a lifetime are required")
	}
	if o.DNSSuffix == "" {
		o.DNSSuffix = "cluster.local"
	}
	notBefore, notAfter := o.Now.Add(-time.Hour), o.Now.Add(o.Lifetime)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: o.CAName},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	set := &Set{CA: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	for _, leaf := range []struct {
		name      string
		usage     x509.ExtKeyUsage
		cert, key *[]byte
	}{{o.Server, x509.ExtKeyUsageServerAuth, &set.ServerCert, &set.ServerKey}, {o.Client, x509.ExtKeyUsageClientAuth, &set.ClientCert, &set.ClientKey}} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: leaf.name},
			DNSNames: ServiceNames(leaf.name, o.Namespace, o.DNSSuffix), NotBefore: notBefore, NotAfter: notAfter,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{leaf.usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return nil, err
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, err
		}
		*leaf.cert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		*leaf.key = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	}
	return set, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}
