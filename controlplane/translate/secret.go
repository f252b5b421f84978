package translate

import (
	"sort"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/isobar-dev/isobar/controlplane/envoy"
)

func (t *translator) secretResources() []*tlsv3.Secret {
	names := make([]string, 0, len(t.secrets))
	for n := range t.secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*tlsv3.Secret, 0, len(names))
	for _, n := range names {
		s := t.secrets[n]
		out = append(out, envoy.TLSCertificateSecret(n, s.Cert, s.Key))
	}
	return out
}
