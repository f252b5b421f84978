package graph

import (
	"strings"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Reasons for TLS and TCP proxy problems, Contour's names.
const (
	ReasonTLSConfigNotValid       = "TLSConfigNotValid"
	ReasonClientValidationInvalid = "ClientValidationInvalid"
	ReasonTLSIncompatibleFeatures = "TLSIncompatibleFeatures"
	ReasonNoServicesAndInclude    = "NoServicesAndInclude"
	ReasonTCPProxyIncludeNotFound = "IncludeNotFound"
	ReasonFallbackNotPresent      = "FallbackNotPresent"
	ReasonFallbackNotDelegated    = "FallbackNotDelegated"
	ReasonFallbackNotValid        = "FallbackNotValid"
)

// rootTLS validates the TLS block of a root and returns the secure virtual
// host it describes (not yet in the graph). Any problem makes the root
// invalid: the host is then served neither over HTTPS nor over HTTP.
func (b *builder) rootTLS(ref status.Ref, p *contourv1.HTTPProxy, tls *contourv1.TLS) (*SecureVirtualHost, bool) {
	fqdn, _ := normalizeFQDN(p.Spec.VirtualHost.Fqdn, true)
	bad := func(reason, format string, args ...any) (*SecureVirtualHost, bool) {
		b.report.Error(ref, status.TLSError, reason, format, args...)
		return nil, false
	}
	switch {
	case tls.Passthrough && tls.SecretName != "":
		return bad(ReasonTLSConfigNotValid, "Spec.VirtualHost.TLS: both Passthrough and SecretName were specified")
	case !tls.Passthrough && tls.SecretName == "":
		return bad(ReasonTLSConfigNotValid, "Spec.VirtualHost.TLS: neither Passthrough nor SecretName were specified")
	case tls.Passthrough && tls.ClientValidation != nil:
		return bad(ReasonTLSIncompatibleFeatures, "Spec.VirtualHost.TLS: passthrough cannot be combined with clientValidation")
	case tls.Passthrough && tls.EnableFallbackCertificate:
		return bad(ReasonTLSIncompatibleFeatures, "Spec.VirtualHost.TLS: passthrough cannot be combined with enableFallbackCertificate")
	}
	min := b.tlsVersion(ref, "minimumProtocolVersion", tls.MinimumProtocolVersion)
	max := b.tlsVersion(ref, "maximumProtocolVersion", tls.MaximumProtocolVersion)
	if min != "" && max != "" && min > max {
		return bad(ReasonTLSConfigNotValid, "Spec.VirtualHost.TLS: minimum protocol version %s is above the maximum %s", min, max)
	}
	svh := &SecureVirtualHost{VirtualHost: VirtualHost{Name: fqdn}, Owner: ref, MinTLS: min, MaxTLS: max, Passthrough: tls.Passthrough}
	if !tls.Passthrough {
		secret, err := b.lookupTLSSecret(tls.SecretName, p.Namespace)
		if err != nil {
			le := err.(*LookupError)
			return bad(le.Reason, "Spec.VirtualHost.TLS %s", le.Message)
		}
		svh.Secret = secret
		b.checkCertificateTime(ref, "Spec.VirtualHost.TLS.SecretName", secret)
	}
	// Before the client validation's Secrets are looked up, as in Contour.
	if tls.EnableFallbackCertificate && tls.ClientValidation != nil {
		return bad(ReasonTLSIncompatibleFeatures, "Spec.VirtualHost.TLS: enableFallbackCertificate cannot be combined with clientValidation")
	}
	if cv := tls.ClientValidation; cv != nil {
		v := &ClientValidation{SkipVerify: cv.SkipClientCertValidation, Optional: cv.OptionalClientCertificate}
		if cv.CACertificate == "" && !cv.SkipClientCertValidation {
			return bad(ReasonClientValidationInvalid, "Spec.VirtualHost.TLS.ClientValidation: a caSecret is required unless skipClientCertValidation is set")
		}
		if cv.CACertificate != "" {
			ca, err := b.lookupCASecret(cv.CACertificate, p.Namespace)
			if err != nil {
				// Contour's reasons for a client validation CA:
				// CACertificateNotDelegated is an upstream CA's.
				le, reason := err.(*LookupError), ReasonClientValidationInvalid
				if le.Reason == ReasonCACertificateNotDelegated {
					reason = ReasonDelegationNotPermitted
				}
				return bad(reason, "Spec.VirtualHost.TLS.ClientValidation: %s", le.Message)
			}
			v.CA = ca
		}
		if f := cv.ForwardClientCertificate; f != nil {
			v.Forward = &ForwardClientCert{Subject: f.Subject, Cert: f.Cert, Chain: f.Chain, DNS: f.DNS, URI: f.URI}
		}
		if cv.CertificateRevocationList != "" {
			crl, err := b.lookupCRLSecret(cv.CertificateRevocationList, p.Namespace)
			if err != nil {
				le := err.(*LookupError)
				return bad(le.Reason, "Spec.VirtualHost.TLS.ClientValidation.crlSecret: %s", le.Message)
			}
			v.CRL, v.OnlyLeafCRL = crl, cv.OnlyVerifyLeafCertCrl
		}
		svh.ClientValidation = v
	}
	return svh, true
}

// tlsVersion returns version, the value of a root's TLS field, when it is
// 1.2 or 1.3, and "" (the listener's default) otherwise. As in Contour,
// whose CRD admits any string there, another value is not an error: the
// default is used, and a warning names the value ignored.
func (b *builder) tlsVersion(ref status.Ref, field, version string) string {
	switch version {
	case "", "1.2", "1.3":
		return version
	}
	b.report.Warning(ref, status.SpecError, ReasonIgnoredField,
		"Spec.VirtualHost.TLS.%s %q is ignored: it is not 1.2 or 1.3, so the default version is used", field, version)
	return ""
}

// fallbackCertificate sets svh.Fallback, the fallback certificate
// (Options.FallbackCertificate), when root p, which svh serves, enabled it;
// false when it may not have it, with the reason reported as Contour's:
// configured, delegated to p's namespace when it lives elsewhere, and
// valid. It comes after the checks of what the fallback certificate cannot
// be combined with, as in Contour.
func (b *builder) fallbackCertificate(ref status.Ref, p *contourv1.HTTPProxy, svh *SecureVirtualHost) bool {
	if svh == nil || !p.Spec.VirtualHost.TLS.EnableFallbackCertificate {
		return true
	}
	s, ok := b.lookupFallback(ref, p.Namespace)
	svh.Fallback = s
	return ok
}

// lookupFallback resolves the fallback certificate for root ref in
// namespace from.
func (b *builder) lookupFallback(ref status.Ref, from string) (*Secret, bool) {
	bad := func(reason, format string, args ...any) (*Secret, bool) {
		b.report.Error(ref, status.TLSError, reason, format, args...)
		return nil, false
	}
	name := b.opts.FallbackCertificate
	if name == "" {
		return bad(ReasonFallbackNotPresent,
			"Spec.VirtualHost.TLS enables the fallback certificate, but none is configured (tls.fallback-certificate, --fallback-certificate)")
	}
	secret, err := b.lookupTLSSecret(name, from)
	if err != nil {
		le := err.(*LookupError)
		if le.Reason == ReasonDelegationNotPermitted {
			return bad(ReasonFallbackNotDelegated, "Spec.VirtualHost.TLS: the fallback certificate Secret %q is not delegated to namespace %q", name, from)
		}
		return bad(ReasonFallbackNotValid, "Spec.VirtualHost.TLS: fallback certificate: %s", le.Message)
	}
	b.checkCertificateTime(ref, "Spec.VirtualHost.TLS.EnableFallbackCertificate", secret)
	return secret, true
}

// tcpProxy builds the TCP proxy of p, following an include to a child's
// tcpproxy. path guards against include cycles.
func (b *builder) tcpProxy(p *contourv1.HTTPProxy, path []status.Ref) (*TCPProxy, bool) {
	ref := proxyRef(p)
	tp := p.Spec.TCPProxy
	inc := tp.Include
	if inc == nil {
		inc = tp.IncludesDeprecated
	}
	bad := func(t status.ConditionType, reason, format string, args ...any) (*TCPProxy, bool) {
		b.report.Error(ref, t, reason, format, args...)
		return nil, false
	}
	switch {
	case len(tp.Services) > 0 && inc != nil:
		return bad(status.TCPProxyError, ReasonNoServicesAndInclude, "cannot specify services and include in the same httpproxy")
	case len(tp.Services) == 0 && inc == nil:
		return bad(status.TCPProxyError, ReasonNothingDefined, "either services or inclusion must be specified")
	}
	if inc != nil {
		return b.tcpProxyInclude(p, inc, path)
	}
	lb := loadBalancer(tp.LoadBalancerPolicy)
	if lb == Cookie || lb == RequestHash {
		b.report.Warning(ref, status.TCPProxyError, ReasonIgnoredField, "Spec.TCPProxy.LoadBalancerPolicy %s does not apply to TCP; RoundRobin is used", lb)
		lb = RoundRobin
	}
	var hc *HealthCheck // a TCP check: no path
	if h := tp.HealthCheckPolicy; h != nil {
		interval, timeout, err := healthCheckTimes(h.IntervalSeconds, h.TimeoutSeconds)
		if err != nil {
			return bad(status.TCPProxyError, ReasonHealthCheckPolicyInvalid, "Spec.TCPProxy.HealthCheckPolicy.%v", err)
		}
		hc = &HealthCheck{Interval: interval, Timeout: timeout,
			UnhealthyThreshold: h.UnhealthyThresholdCount, HealthyThreshold: h.HealthyThresholdCount}
	}
	out := &TCPProxy{Source: ref}
	for i := range tp.Services {
		s := &tp.Services[i]
		c, err := b.proxyService(p, s)
		if err != nil {
			le := err.(*LookupError)
			return bad(status.TCPProxyError, le.Reason, "Spec.TCPProxy.Services[%d]: %s", i, le.Message)
		}
		c = c.withOptions(clusterOptions{LoadBalancer: lb, HealthCheck: hc}).withSNI(upstreamSNI(c, nil, nil))
		out.Backends = append(out.Backends, Backend{Cluster: c, Weight: weight(s.Weight)})
	}
	b.report.Valid(ref)
	return out, true
}

func (b *builder) tcpProxyInclude(p *contourv1.HTTPProxy, inc *contourv1.TCPProxyInclude, path []status.Ref) (*TCPProxy, bool) {
	ref := proxyRef(p)
	ns := inc.Namespace
	if ns == "" {
		ns = p.Namespace
	}
	cref := status.Ref{Kind: status.KindHTTPProxy, Namespace: ns, Name: inc.Name}
	child, ok := b.lookupProxy(ns, inc.Name)
	bad := func(reason, format string, args ...any) (*TCPProxy, bool) {
		b.report.Error(ref, status.TCPProxyIncludeError, reason, format, args...)
		return nil, false
	}
	switch {
	case !b.includeGranted(p.Namespace, ns):
		b.refuseInclude(ref, cref, ok, status.TCPProxyIncludeError)
		return nil, false
	case !ok:
		return bad(ReasonTCPProxyIncludeNotFound, "include %s/%s not found", ns, inc.Name)
	case child.Spec.VirtualHost != nil:
		return bad(ReasonRootIncludesRoot, "root httpproxy cannot include another root httpproxy: %s/%s", ns, inc.Name)
	case child.Spec.TCPProxy == nil:
		return bad(ReasonTCPProxyIncludeNotFound, "included httpproxy %s/%s has no tcpproxy", ns, inc.Name)
	}
	for _, r := range path {
		if r == cref {
			names := make([]string, 0, len(path)+1)
			for _, x := range append(path, cref) {
				names = append(names, x.Namespace+"/"+x.Name)
			}
			return bad(ReasonIncludeCreatesCycle, "include creates a cycle: %s", strings.Join(names, " -> "))
		}
	}
	b.report.Valid(cref)
	return b.tcpProxy(child, append(append([]status.Ref(nil), path...), cref))
}
