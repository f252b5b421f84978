package envoy

import (
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func wrapBool(b bool) *wrapperspb.BoolValue { return wrapperspb.Bool(b) }

// TLSVersion maps "1.2"/"1.3" to Envoy's enum; anything else is AUTO.
func TLSVersion(v string) tlsv3.TlsParameters_TlsProtocol {
	switch v {
	case "1.2":
		return tlsv3.TlsParameters_TLSv1_2
	case "1.3":
		return tlsv3.TlsParameters_TLSv1_3
	}
	return tlsv3.TlsParameters_TLS_AUTO
}

// ClientValidation configures downstream client certificate checks.
type ClientValidation struct {
	CA         []byte
	SkipVerify bool
	Optional   bool
	// CRL, when set, are PEM revocation lists checked for every
	// certificate of the chain, or the leaf's only with OnlyLeafCRL.
	CRL         []byte
	OnlyLeafCRL bool
}

// TLSParams are the TLS versions a context accepts and the TLS 1.2 cipher
// suites it offers (empty: Envoy's).
type TLSParams struct {
	Min, Max     tlsv3.TlsParameters_TlsProtocol
	CipherSuites []string
	// Curves are the ECDH curves, in order of preference (none: Envoy's).
	Curves []string
}

// DownstreamTLSContext terminates TLS with the SDS secret secretName,
// parameters p, ALPN alpn, and optional client checks.
func DownstreamTLSContext(secretName string, p TLSParams, alpn []string, cv *ClientValidation) *tlsv3.DownstreamTlsContext {
	ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsParams: &tlsv3.TlsParameters{
			TlsMinimumProtocolVersion: p.Min,
			TlsMaximumProtocolVersion: p.Max,
			CipherSuites:              p.CipherSuites,
			EcdhCurves:                p.Curves,
		},
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: secretName, SdsConfig: adsSource}},
		AlpnProtocols:                  alpn,
	}}
	if cv != nil {
		vc := &tlsv3.CertificateValidationContext{}
		if len(cv.CA) > 0 {
			vc.TrustedCa = InlineBytes(cv.CA)
		}
		if cv.SkipVerify {
			vc.TrustChainVerification = tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED
		}
		if len(cv.CRL) > 0 {
			vc.Crl, vc.OnlyVerifyLeafCertCrl = InlineBytes(cv.CRL), cv.OnlyLeafCRL
		}
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
		ctx.RequireClientCertificate = wrapBool(!cv.Optional)
	}
	return ctx
}

// UpstreamTLSContext originates TLS to an upstream with sni, verifying it
// against ca and subjectNames when ca is set.
func UpstreamTLSContext(sni string, ca []byte, subjectNames []string, alpn ...string) *tlsv3.UpstreamTlsContext {
	ctx := &tlsv3.UpstreamTlsContext{Sni: sni, CommonTlsContext: &tlsv3.CommonTlsContext{AlpnProtocols: alpn}}
	if len(ca) > 0 {
		vc := &tlsv3.CertificateValidationContext{TrustedCa: InlineBytes(ca)}
		for _, n := range subjectNames {
			vc.MatchTypedSubjectAltNames = append(vc.MatchTypedSubjectAltNames, &tlsv3.SubjectAltNameMatcher{
				SanType: tlsv3.SubjectAltNameMatcher_DNS,
				Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}},
			})
		}
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: vc}
	}
	return ctx
}

// TLSCertificateSecret is an SDS secret holding a certificate and key.
func TLSCertificateSecret(name string, cert, key []byte) *tlsv3.Secret {
	return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: InlineBytes(cert),
		PrivateKey:       InlineBytes(key),
	}}}
}

// ValidationContextSecret is an SDS secret holding a CA bundle that peer
// certificates must chain to.
func ValidationContextSecret(name string, ca []byte) *tlsv3.Secret {
	return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
		TrustedCa: InlineBytes(ca),
	}}}
}
