package graph

import (
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// JWT verification reasons, Contour's names.
const (
	ReasonJWTVerificationNotPermitted         = "JWTVerificationNotPermitted"
	ReasonDuplicateProviderName               = "DuplicateProviderName"
	ReasonMultipleDefaultProvidersSpecified   = "MultipleDefaultProvidersSpecified"
	ReasonJWKSSourceMissing                   = "JWKSSourceMissing"
	ReasonJWKSSourceConflict                  = "JWKSSourceConflict"
	ReasonLocalJWKSInvalid                    = "LocalJWKSInvalid"
	ReasonRemoteJWKSURIInvalid                = "RemoteJWKSURIInvalid"
	ReasonRemoteJWKSSchemeInvalid             = "RemoteJWKSSchemeInvalid"
	ReasonRemoteJWKSPortInvalid               = "RemoteJWKSPortInvalid"
	ReasonRemoteJWKSUpstreamValidationInvalid = "RemoteJWKSUpstreamValidationInvalid"
	ReasonRemoteJWKSCACertificateNotDelegated = "RemoteJWKSCACertificateNotDelegated"
	ReasonRemoteJWKSTimeoutInvalid            = "RemoteJWKSTimeoutInvalid"
	ReasonRemoteJWKSCacheDurationInvalid      = "RemoteJWKSCacheDurationInvalid"
	ReasonRemoteJWKSDNSLookupFamilyInvalid    = "RemoteJWKSDNSLookupFamilyInvalid"
	ReasonInvalidJWTVerificationPolicy        = "InvalidJWTVerificationPolicy"
	ReasonJWTProviderNotDefined               = "JWTProviderNotDefined"
)

// Isobar's JWT reasons, where Contour has none: a provider without a name
// (Contour's CRD refuses it) and the warning for a route whose token is
// not verified on port 80.
const (
	ReasonJWTProviderNameInvalid = "JWTProviderNameInvalid"
	ReasonJWTNotVerifiedOverHTTP = "JWTNotVerifiedOverHTTP"
)

// The remote JWKS fetch timeout (Contour's default; Envoy takes up to
// 2^32-1 s) and the range of cache durations Envoy takes.
const (
	defaultJWKSTimeout   = time.Second
	maxJWKSTimeout       = (1<<32 - 1) * time.Second
	minJWKSCacheDuration = time.Millisecond
	maxJWKSCacheDuration = 9000000000*time.Second - 1
)

// JWTProvider is one HTTPProxy JWT provider of a secure virtual host: how
// Envoy's jwt_authn filter verifies a token (signature against the keys
// fetched from URI or given by LocalJWKS, issuer, audiences) before a route
// that requires it forwards a request.
type JWTProvider struct {
	// Name is unique on the host; routes name it.
	Name string
	// Issuer, when set, must be the token's iss; Audiences, when set,
	// must include one of its aud.
	Issuer    string
	Audiences []string
	// ForwardJWT keeps the token in the request sent upstream.
	ForwardJWT bool
	// URI is where the key set (JWKS) is fetched, through Cluster (a
	// DNSNameScheme cluster), with Timeout; the keys are kept for
	// CacheDuration (0: Envoy's default, 5 minutes).
	URI           string
	Cluster       *Cluster
	Timeout       time.Duration
	CacheDuration time.Duration
	// LocalJWKS, when set instead of URI, is the key set itself (JSON,
	// from a Secret: localJWKS).
	LocalJWKS string
}

// jwtScope is what the routes of a root with JWT providers are checked
// against: the providers' names and the default provider (if any).
type jwtScope struct {
	names map[string]bool
	def   string
}

// jwtError is one problem with a JWT provider, with its Contour reason.
type jwtError struct{ reason, msg string }

// jwtPermitted reports whether root p may verify JWTs: when it has
// providers, only if its TLS block names a serving certificate (so not
// without TLS, with passthrough, or with the fallback certificate alone).
// As in Contour, it is checked before the TLS block, whose own problems
// then go unsaid; otherwise JWTVerificationNotPermitted is reported on ref.
func (b *builder) jwtPermitted(ref status.Ref, p *contourv1.HTTPProxy) bool {
	vh := p.Spec.VirtualHost
	if len(vh.JWTProviders) == 0 || (vh.TLS != nil && vh.TLS.SecretName != "") {
		return true
	}
	b.report.Error(ref, status.JWTVerificationError, ReasonJWTVerificationNotPermitted,
		"Spec.VirtualHost.JWTProviders can only be defined for root HTTPProxies that terminate TLS (Spec.VirtualHost.TLS.SecretName)")
	return false
}

// virtualHostJWT reads the root's JWT providers, reporting every problem as
// a JWTVerificationError on ref. A root with providers terminates TLS
// (jwtPermitted came first). ok is false when a provider is invalid: the
// root is then not served, as in Contour.
func (b *builder) virtualHostJWT(ref status.Ref, p *contourv1.HTTPProxy) (providers []JWTProvider, js *jwtScope, ok bool) {
	vh := p.Spec.VirtualHost
	if len(vh.JWTProviders) == 0 {
		return nil, nil, true
	}
	if vh.TLS.EnableFallbackCertificate {
		b.report.Error(ref, status.TLSError, ReasonTLSIncompatibleFeatures,
			"Spec.VirtualHost.TLS: enableFallbackCertificate cannot be combined with jwtProviders")
		return nil, nil, false
	}
	js = &jwtScope{names: map[string]bool{}}
	ok = true
	for i, jp := range vh.JWTProviders {
		bad := func(e jwtError) {
			b.report.Error(ref, status.JWTVerificationError, e.reason, "Spec.VirtualHost.JWTProviders[%d]%s", i, e.msg)
			ok = false
		}
		switch {
		case jp.Name == "":
			bad(jwtError{ReasonJWTProviderNameInvalid, ".name: a provider needs a name"})
			continue
		case js.names[jp.Name]:
			bad(jwtError{ReasonDuplicateProviderName, fmt.Sprintf(".name: duplicate name %s", jp.Name)})
			continue
		}
		js.names[jp.Name] = true
		if jp.Default {
			if js.def != "" {
				bad(jwtError{ReasonMultipleDefaultProvidersSpecified, fmt.Sprintf(".default: at most one provider can be the default (%s already is)", js.def)})
				continue
			}
			js.def = jp.Name
		}
		prov, err := b.jwtProvider(jp, p.Namespace)
		if err != nil {
			bad(*err)
			continue
		}
		providers = append(providers, prov)
	}
	if !ok {
		return nil, nil, false
	}
	return providers, js, true
}

// jwtProvider validates one provider and builds it: with its local key
// set, or with the cluster its remote one is fetched through.
func (b *builder) jwtProvider(jp contourv1.JWTProvider, ns string) (JWTProvider, *jwtError) {
	r := jp.RemoteJWKS
	fail := func(reason, format string, args ...any) (JWTProvider, *jwtError) {
		return JWTProvider{}, &jwtError{reason, fmt.Sprintf(format, args...)}
	}
	local := jp.LocalJWKS != (contourv1.LocalJWKS{})
	switch {
	case r.URI != "" && local:
		return fail(ReasonJWKSSourceConflict, ": provider %q is invalid: at most one of remoteJWKS or localJWKS may be set", jp.Name)
	case local:
		jwks, err := b.localJWKS(jp.LocalJWKS, ns)
		if err != nil {
			return fail(ReasonLocalJWKSInvalid, ".localJWKS: provider %q is invalid: %s", jp.Name, err)
		}
		return JWTProvider{Name: jp.Name, Issuer: jp.Issuer, Audiences: jp.Audiences, ForwardJWT: jp.ForwardJWT, LocalJWKS: jwks}, nil
	case r.URI == "":
		return fail(ReasonJWKSSourceMissing, ": provider %q needs the address of its key set (remoteJWKS.uri) or a Secret holding it (localJWKS)", jp.Name)
	}
	return b.remoteJWTProvider(jp, ns)
}

// remoteJWTProvider validates a provider fetching its key set from
// remoteJWKS.uri and builds it with its JWKS cluster.
func (b *builder) remoteJWTProvider(jp contourv1.JWTProvider, ns string) (JWTProvider, *jwtError) {
	r := jp.RemoteJWKS
	fail := func(reason, format string, args ...any) (JWTProvider, *jwtError) {
		return JWTProvider{}, &jwtError{reason, fmt.Sprintf(format, args...)}
	}
	u, err := url.Parse(r.URI)
	switch {
	case err != nil:
		return fail(ReasonRemoteJWKSURIInvalid, ".remoteJWKS.uri is invalid: %s", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fail(ReasonRemoteJWKSSchemeInvalid, ".remoteJWKS.uri has invalid scheme %q, must be http or https", u.Scheme)
	case u.Hostname() == "":
		return fail(ReasonRemoteJWKSURIInvalid, ".remoteJWKS.uri %q has no host", r.URI)
	case !hostOrAddress(u.Hostname()):
		return fail(ReasonRemoteJWKSURIInvalid, ".remoteJWKS.uri's host %q is neither a DNS name nor an IP address", u.Hostname())
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if s := u.Port(); s != "" {
		if port, err = strconv.Atoi(s); err != nil || port < 1 || port > math.MaxUint16 {
			return fail(ReasonRemoteJWKSPortInvalid, ".remoteJWKS.uri has an invalid port %q", s)
		}
	}
	c := &Cluster{DNSNameScheme: u.Scheme, ExternalName: u.Hostname()}
	c.Port.Port = int32(port)
	if v := r.UpstreamValidation; v != nil {
		if u.Scheme == "http" {
			return fail(ReasonRemoteJWKSUpstreamValidationInvalid, ".remoteJWKS.validation must not be set when the uri's scheme is http")
		}
		uv, err := b.upstreamValidation(v, ns)
		if le, ok := err.(*LookupError); ok && le.Reason == ReasonCACertificateNotDelegated {
			return fail(ReasonRemoteJWKSCACertificateNotDelegated, ".remoteJWKS.validation: %s", le.Message)
		}
		if err != nil {
			return fail(ReasonRemoteJWKSUpstreamValidationInvalid, ".remoteJWKS.validation is invalid: %s", err)
		}
		c.Validation = uv
	}
	if u.Scheme == "https" {
		c.Protocol, c.SNI = "tls", u.Hostname()
		b.opts.Upstream.applyTLS(c)
		c.ClientCertificate = b.clientCert
	}
	switch f := r.DNSLookupFamily; f {
	case "":
		c.DNSLookupFamily = b.opts.Upstream.DNSLookupFamily
	case DNSAuto, DNSv4, DNSv6, DNSAll:
		c.DNSLookupFamily = f
	default:
		return fail(ReasonRemoteJWKSDNSLookupFamilyInvalid, ".remoteJWKS.dnsLookupFamily has an invalid value %q, must be auto, all, v4 or v6", f)
	}
	if c.DNSLookupFamily == DNSAuto {
		c.DNSLookupFamily = ""
	}
	out := JWTProvider{Name: jp.Name, Issuer: jp.Issuer, Audiences: jp.Audiences, ForwardJWT: jp.ForwardJWT,
		URI: r.URI, Cluster: c, Timeout: defaultJWKSTimeout}
	if r.Timeout != "" {
		d, err := time.ParseDuration(r.Timeout)
		if err != nil || d < 0 || d > maxJWKSTimeout {
			return fail(ReasonRemoteJWKSTimeoutInvalid, ".remoteJWKS.timeout %q is invalid: want a duration such as 1s, from 0s to %s", r.Timeout, maxJWKSTimeout)
		}
		out.Timeout = d
	}
	if r.CacheDuration != nil {
		d, err := time.ParseDuration(*r.CacheDuration)
		if err != nil || d < minJWKSCacheDuration || d > maxJWKSCacheDuration {
			return fail(ReasonRemoteJWKSCacheDurationInvalid, ".remoteJWKS.cacheDuration %q is invalid: want a duration such as 5m, from 1ms to %s",
				*r.CacheDuration, maxJWKSCacheDuration)
		}
		out.CacheDuration = d
	}
	return out, nil
}

// routeJWT sets the provider whose token route r requires: the one its
// jwtVerificationPolicy requires, none when it disables verification, and
// otherwise the root's default provider (js is nil when the root has no
// providers). Naming a provider the root does not define is an error.
func routeJWT(r *Route, spec *contourv1.Route, js *jwtScope) error {
	pol := spec.JWTVerificationPolicy
	switch {
	case pol != nil && pol.Require != "" && pol.Disabled:
		return routeError{status.JWTVerificationError, ReasonInvalidJWTVerificationPolicy,
			"jwtVerificationPolicy: require and disabled cannot both be set"}
	case pol != nil && pol.Require != "":
		if js == nil || !js.names[pol.Require] {
			return routeError{status.JWTVerificationError, ReasonJWTProviderNotDefined,
				fmt.Sprintf("jwtVerificationPolicy.require: route references an undefined JWT provider %q", pol.Require)}
		}
		r.JWTProvider = pol.Require
	case pol != nil && pol.Disabled:
	case js != nil:
		r.JWTProvider = js.def
	}
	return nil
}

// warnUnverifiedHTTP warns when route i of p, which forwards requests
// carrying a token of provider r.JWTProvider, is also served on port 80
// (permitInsecure): only the HTTPS connection manager verifies tokens, so
// there the route is served unverified, as in Contour.
func (b *builder) warnUnverifiedHTTP(p *contourv1.HTTPProxy, spec *contourv1.Route, i int, r *Route) {
	if r.JWTProvider == "" || !spec.PermitInsecure || b.opts.DisablePermitInsecure || len(spec.Services) == 0 {
		return
	}
	b.report.Warning(proxyRef(p), status.JWTVerificationError, ReasonJWTNotVerifiedOverHTTP,
		"Spec.Routes[%d]: permitInsecure also serves the route over HTTP, where its JWT (provider %q) is not verified", i, r.JWTProvider)
}

// hostOrAddress reports whether host, a URL's, is an IP address or a DNS
// name (any case, a trailing dot allowed): Envoy resolves it and sends it
// to a TLS server as its name, which TLS limits to 255 bytes.
func hostOrAddress(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return dnsSubdomain(strings.ToLower(strings.TrimSuffix(host, ".")))
}
