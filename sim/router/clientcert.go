package router

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// What a filter chain's TLS context asks of clients.
const (
	clientCertNone     = ""
	clientCertRequired = "required"
	clientCertOptional = "optional"
)

// clientCertificate reads what fc's downstream TLS context asks of
// clients: a certificate (require_client_certificate), one validated when
// presented (a validation context alone: Contour's
// optionalClientCertificate), or nothing.
func clientCertificate(fc *listenerv3.FilterChain) string {
	tc := fc.GetTransportSocket().GetTypedConfig()
	var ctx tlsv3.DownstreamTlsContext
	if tc == nil || !tc.MessageIs(&ctx) || tc.UnmarshalTo(&ctx) != nil {
		return clientCertNone
	}
	switch {
	case ctx.GetRequireClientCertificate().GetValue():
		return clientCertRequired
	case ctx.GetCommonTlsContext().GetValidationContextType() != nil:
		return clientCertOptional
	}
	return clientCertNone
}

// clientHandshake traces what c's TLS handshake asks of the client and
// reports whether it completes: a chain requiring a certificate fails a
// client that presents none (Request.WithoutClientCertificate); any other
// client is taken to present one that validates.
func clientHandshake(c *chain, p *parsed, res *Result) bool {
	switch {
	case c.clientCert == clientCertNone || p.scheme != "https":
		return true
	case p.noClientCert && c.clientCert == clientCertRequired:
		res.tracef("the handshake requires a client certificate and the client presents none: the handshake fails")
		return false
	case p.noClientCert:
		res.tracef("the handshake asks for an optional client certificate; the client presents none")
	default:
		res.tracef("the handshake asks for a client certificate (%s); the client is taken to present one that validates", c.clientCert)
	}
	return true
}
