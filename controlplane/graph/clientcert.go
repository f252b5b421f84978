package graph

import (
	"fmt"
	"strings"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// FindingClientCertificateNotValid says the client certificate Envoy
// presents to upstreams (Options.ClientCertificate) cannot be used.
const FindingClientCertificateNotValid = "ClientCertificateNotValid"

// resolveClientCertificate looks up Options.ClientCertificate, a TLS
// Secret an administrator named (no delegation needed, as in Contour);
// nil with the reason when it is not set or cannot be used.
func (b *builder) resolveClientCertificate() (*Secret, error) {
	ref := b.opts.ClientCertificate
	if ref == "" {
		return nil, nil
	}
	ns, _, _ := strings.Cut(ref, "/")
	s, err := b.lookupTLSSecret(ref, ns)
	if err != nil {
		return nil, fmt.Errorf("%s", err.(*LookupError).Message)
	}
	return s, nil
}

// clientCertificate resolves the client certificate for the build: the
// clusters that originate TLS present it, the graph carries it (its SDS
// secret), and one that cannot be used is a finding.
func (b *builder) clientCertificate() {
	s, err := b.resolveClientCertificate()
	if err != nil {
		ns, name, _ := strings.Cut(b.opts.ClientCertificate, "/")
		b.report.Find(status.Finding{Code: FindingClientCertificateNotValid, Severity: status.SeverityError,
			Objects: []status.Ref{{Kind: status.KindSecret, Namespace: ns, Name: name}},
			Message: fmt.Sprintf("tls.envoy-client-certificate: %s: Envoy presents no client certificate to upstreams", err)})
		return
	}
	b.clientCert, b.g.ClientCertificate = s, s
}
