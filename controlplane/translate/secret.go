package translate

import (
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// secretResources builds the registered secrets, sorted by name, on every
// CPU when they are many.
func (t *translator) secretResources() []*tlsv3.Secret {
	names := sortedKeys(t.secrets)
	out := make([]*tlsv3.Secret, len(names))
	parallel.For(len(names), minParallelHosts, func(i int) {
		s := t.secrets[names[i]]
		out[i] = envoy.TLSCertificateSecret(names[i], s.Cert, s.Key)
	})
	return out
}
