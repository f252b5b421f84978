package bootstrap

import (
	"errors"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// StatsTLS is Contour's metrics.envoy TLS: files in Envoy's container
// holding the certificate and key the statistics listener serves, and the
// CA bundle client certificates must verify against (none: clients present
// no certificate).
type StatsTLS struct {
	CertFile, KeyFile, CAFile string
}

// Enabled reports whether t asks for TLS.
func (t StatsTLS) Enabled() bool { return t != StatsTLS{} }

// Check says what is missing from t: a certificate needs its key, and a CA
// bundle a certificate.
func (t StatsTLS) Check() error {
	switch {
	case !t.Enabled():
		return nil
	case t.CertFile == "" || t.KeyFile == "":
		return errors.New("the statistics listener's TLS needs both a certificate and a key file")
	}
	return nil
}

// SecureStatsListenerAt is Contour's "stats" listener over TLS on
// address:port: GET /stats and /stats/prometheus from the admin endpoint,
// TLS 1.3 only, the certificate and key read from t's files and, with a CA
// bundle, a client certificate required and verified against it (Contour
// serves the files as SDS secrets; Envoy reads them the same way inline).
func SecureStatsListenerAt(address string, port uint32, t StatsTLS) *listenerv3.Listener {
	l := AdminPathsListener("stats", address, port, []string{"/stats", "/stats/prometheus"})
	ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsParams: &tlsv3.TlsParameters{
			TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
			TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
		},
		TlsCertificates: []*tlsv3.TlsCertificate{{
			CertificateChain: fileSource(t.CertFile),
			PrivateKey:       fileSource(t.KeyFile),
		}},
	}}
	if t.CAFile != "" {
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{
			ValidationContext: &tlsv3.CertificateValidationContext{TrustedCa: fileSource(t.CAFile)}}
		ctx.RequireClientCertificate = wrapperspb.Bool(true)
	}
	l.FilterChains[0].TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(ctx)}}
	return l
}

// fileSource is a data source read from path.
func fileSource(path string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: path}}
}
