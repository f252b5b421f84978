package graph

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Route-level reasons, Contour's names.
const (
	ReasonRouteActionCountNotValid = "RouteActionCountNotValid"
	ReasonOnlyOneMirror            = "OnlyOneMirror"
	ReasonTimeoutPolicyNotValid    = "TimeoutPolicyNotValid"
	ReasonRetryPolicyNotValid      = "RetryPolicyNotValid"
	ReasonRequestRedirectPolicy    = "RequestRedirectPolicy"
	ReasonDirectResponsePolicy     = "DirectResponsePolicy"
	ReasonHealthCheckPolicyInvalid = "HealthCheckPolicyInvalid"
	ReasonTLSUpstreamValidation    = "TLSUpstreamValidation"
)

// routeError is a fatal problem with one route: the object is invalid.
type routeError struct {
	t      status.ConditionType
	reason string
	msg    string
}

func (e routeError) Error() string { return e.msg }

// proxyRoute builds route i of p under scope s into r and says whether it
// permits insecure requests. A fatal problem is reported on p and returned
// (r is then to be dropped); unresolved services are reported but the route
// is kept (it answers 503 when none resolves).
func (b *builder) proxyRoute(r *Route, p *contourv1.HTTPProxy, spec *contourv1.Route, i int, s scope) (bool, error) {
	ref := proxyRef(p)
	err := b.buildProxyRoute(r, p, spec, i, s)
	if err != nil {
		re, ok := err.(routeError)
		if !ok {
			ce := err.(conditionError)
			re = routeError{status.RouteError, ce.reason, ce.msg}
		}
		b.report.Error(ref, re.t, re.reason, "Spec.Routes[%d]: %s", i, re.msg)
		return false, err
	}
	return spec.PermitInsecure, nil
}

// buildProxyRoute does proxyRoute's work, filling r (a zero Route).
func (b *builder) buildProxyRoute(r *Route, p *contourv1.HTTPProxy, spec *contourv1.Route, i int, s scope) error {
	cb, err := conditionsOf(spec.Conditions, false)
	if err != nil {
		return err
	}
	for _, n := range cb.notes {
		b.report.Warning(proxyRef(p), status.RouteError, n.reason, "Spec.Routes[%d]: %s", i, n.msg)
	}
	*r = Route{
		Path:      routePath(s, cb.kind, cb.value, cb.hasPath),
		Headers:   withScope(s.headers, cb.headers),
		Query:     withScope(s.query, cb.query),
		Websocket: spec.EnableWebsockets,
		Source:    proxyRef(p),
		Age:       ageOf(p),
	}
	// The include's conditions count too (a route under an include with
	// an exact condition on a header may not add another), as in Contour.
	if err := checkHeaderContradictions(r.Headers); err != nil {
		return err
	}
	if err := checkQueryDuplicates(r.Query); err != nil {
		return err
	}
	actions := 0
	for _, set := range []bool{len(spec.Services) > 0, spec.RequestRedirectPolicy != nil, spec.DirectResponsePolicy != nil} {
		if set {
			actions++
		}
	}
	if actions != 1 {
		return routeError{status.RouteError, ReasonRouteActionCountNotValid,
			"must set exactly one of services, requestRedirectPolicy or directResponsePolicy"}
	}
	b.healthPortsWithoutChecks(p, spec, i)
	if err := b.routeRateLimit(r, p, spec, i); err != nil {
		return err
	}
	if err := b.routeGlobalRateLimit(r, p, spec, i); err != nil {
		return err
	}
	if err := b.routeIPFilter(r, p, spec, i); err != nil {
		return err
	}
	if err := routeJWT(r, spec, s.jwt); err != nil {
		return err
	}
	b.warnUnverifiedHTTP(p, spec, i, r)
	b.routeAuthorization(r, p, spec, i, s.auth)
	if err := b.routeCookieRewrites(r, p, spec, i); err != nil {
		return err
	}
	switch {
	case spec.RequestRedirectPolicy != nil:
		r.Redirect, err = redirectPolicy(spec.RequestRedirectPolicy)
		return err
	case spec.DirectResponsePolicy != nil:
		d := spec.DirectResponsePolicy
		if d.StatusCode < 200 || d.StatusCode > 599 {
			return routeError{status.RouteError, ReasonDirectResponsePolicy, fmt.Sprintf("status code %d is not between 200 and 599", d.StatusCode)}
		}
		r.DirectResponse = &DirectResponse{Code: d.StatusCode, Body: d.Body}
		return nil
	}
	if err := b.routePolicies(r, p, spec, i); err != nil {
		return err
	}
	r.HashPolicies = b.requestHashPolicies(p, spec, i)
	return b.routeServices(r, p, spec, i)
}

// withScope returns the conditions of an include scope followed by a
// route's own (own, which the caller made for the route, when the scope
// has none; a new slice otherwise: a scope's are shared).
func withScope[T any](scope, own []T) []T {
	if len(scope) == 0 {
		return own
	}
	return append(append(make([]T, 0, len(scope)+len(own)), scope...), own...)
}

// routeServices resolves the services of a route into backends and the
// mirror. Unresolved services are reported (non-fatal) and left out.
func (b *builder) routeServices(r *Route, p *contourv1.HTTPProxy, spec *contourv1.Route, i int) error {
	ref := proxyRef(p)
	lb := loadBalancer(spec.LoadBalancerPolicy)
	if lb == RequestHash && len(r.HashPolicies) == 0 {
		lb = RoundRobin // no valid requestHashPolicies, as in Contour
	}
	hc, err := healthCheck(spec.HealthCheckPolicy)
	if err != nil {
		return err
	}
	idle, err := idleConnection(spec.TimeoutPolicy)
	if err != nil {
		return err
	}
	mirrors := 0
	for j := range spec.Services {
		svc := &spec.Services[j]
		// As Contour (and the CRD), before the Service is looked up: an
		// out-of-range port makes the route, and so the object, invalid.
		if !validPort(svc.Port) {
			return routeError{status.ServiceError, ReasonServicePortInvalid,
				fmt.Sprintf("services[%d]: service %q: port %d must be in the range 1-65535", j, svc.Name, svc.Port)}
		}
		if svc.Mirror {
			mirrors++
			if mirrors > 1 {
				return routeError{status.ServiceError, ReasonOnlyOneMirror, "only one service per route may be nominated as mirror"}
			}
		}
		ramp, err := slowStart(svc.SlowStartPolicy, lb, j)
		if err != nil {
			return err
		}
		cookies, err := b.serviceCookieRewrites(p, svc, i, j)
		if err != nil {
			return err
		}
		c, err := b.proxyService(p, svc)
		var hp *corev1.ServicePort
		if err == nil {
			hp, err = b.healthPort(p, svc, hc)
		}
		if err != nil {
			le := err.(*LookupError)
			if t, ok := upstreamValidationError(le); ok {
				return routeError{t, le.Reason, fmt.Sprintf("services[%d].validation: %s", j, le.Message)}
			}
			b.report.Error(ref, status.ServiceError, le.Reason, "Spec.Routes[%d].Services[%d]: %s", i, j, le.Message)
			continue
		}
		c = c.withOptions(clusterOptions{LoadBalancer: lb, HealthCheck: hc, SlowStart: ramp, HealthPort: hp, IdleConnection: idle})
		requestHeaders, err := headersPolicy(svc.RequestHeadersPolicy, p.Namespace, svc, false)
		if err != nil {
			return routeError{status.ServiceError, ReasonRequestHeadersPolicyInvalid, fmt.Sprintf("services[%d].requestHeadersPolicy: %s", j, err)}
		}
		requestHeaders = b.serviceHostFromHeader(p, requestHeaders, i, j)
		c = c.withSNI(upstreamSNI(c, requestHeaders, r.RequestHeaders))
		if len(c.SNI) > maxServerName {
			return routeError{status.ServiceError, ReasonRequestHeadersPolicyInvalid, fmt.Sprintf(
				"services[%d]: the Host a request headers policy sets (%d bytes) is this TLS upstream's server name (SNI), which TLS limits to %d bytes",
				j, len(c.SNI), maxServerName)}
		}
		if svc.Mirror {
			pct := uint32(100)
			if svc.Weight > 0 && svc.Weight < 100 {
				pct = uint32(svc.Weight)
			}
			r.Mirror = &Mirror{Cluster: c, Percent: pct}
			continue
		}
		be := Backend{Cluster: c, Weight: weight(svc.Weight), CookieRewrites: cookies, RequestHeaders: requestHeaders}
		if be.ResponseHeaders, err = headersPolicy(svc.ResponseHeadersPolicy, p.Namespace, svc, true); err != nil {
			return routeError{status.ServiceError, ReasonResponseHeadersPolicyInvalid, fmt.Sprintf("services[%d].responseHeadersPolicy: %s", j, err)}
		}
		b.opts.Headers.applyTo(&be, p.Namespace, svc)
		if r.Backends == nil {
			r.Backends = b.backendSlots(len(spec.Services)) // room for all at once
		}
		r.Backends = append(r.Backends, be)
	}
	return nil
}

// serviceHostFromHeader drops the rewrite of the Host to a request header
// from the request policy hp of service j of route i, with an IgnoredField
// warning: Envoy has it per route only, and Contour drops it silently. It
// returns what is left of hp (nil when nothing is).
func (b *builder) serviceHostFromHeader(p *contourv1.HTTPProxy, hp *HeadersPolicy, i, j int) *HeadersPolicy {
	if hp == nil || hp.HostRewriteHeader == "" {
		return hp
	}
	b.report.Warning(proxyRef(p), status.ServiceError, ReasonIgnoredField,
		"Spec.Routes[%d].Services[%d].requestHeadersPolicy: the Host from request header %s is ignored: Envoy rewrites the Host from a header per route only (set it in the route's requestHeadersPolicy)",
		i, j, hp.HostRewriteHeader)
	hp.HostRewriteHeader = ""
	if len(hp.Set) == 0 && len(hp.Remove) == 0 && hp.HostRewrite == "" {
		return nil
	}
	return hp
}

// proxyService resolves one service reference with its protocol and
// upstream validation. The Cluster is lookupService's, shared, when the
// reference sets neither; a copy otherwise.
func (b *builder) proxyService(p *contourv1.HTTPProxy, svc *contourv1.Service) (*Cluster, error) {
	c, err := b.lookupServicePort(p.Namespace, svc.Name, svc.Port)
	if err != nil {
		return nil, err
	}
	proto := c.Protocol
	if svc.Protocol != nil && *svc.Protocol != "" {
		switch *svc.Protocol {
		case "h2", "h2c", "tls":
			proto = *svc.Protocol
		default:
			return nil, &LookupError{Reason: ReasonUnsupportedProtocol, Message: fmt.Sprintf("unsupported protocol %q", *svc.Protocol)}
		}
	}
	var uv *UpstreamValidation
	if v := svc.UpstreamValidation; v != nil && (proto == "tls" || proto == "h2") {
		if uv, err = b.upstreamValidation(v, p.Namespace); err != nil {
			if le, ok := err.(*LookupError); ok && le.Reason == ReasonCACertificateNotDelegated {
				return nil, le // Contour's reason for it, a TLSError
			}
			return nil, &LookupError{Reason: ReasonTLSUpstreamValidation, Message: err.Error()}
		}
	} else if v != nil {
		// As in Contour, validation applies to a service reached over TLS
		// only: the cluster stays cleartext.
		b.report.Warning(proxyRef(p), status.ServiceError, ReasonIgnoredField,
			"service %q port %d: validation is ignored: Envoy reaches the service in cleartext (validation needs protocol tls or h2, set on the service, by the Service port's appProtocol or by the Service's projectcontour.io/upstream-protocol.* annotation)",
			svc.Name, svc.Port)
	}
	if proto == c.Protocol && uv == nil {
		return c, nil
	}
	cc := *c
	cc.Protocol, cc.Validation = proto, uv
	return &cc, nil
}

// maxServerName is the longest server name TLS can send (SNI), in bytes.
const maxServerName = 255

// upstreamSNI is the server name Envoy sends to the upstream of an
// HTTPProxy's cluster c, picked as Contour picks it: the Host that the
// service's request headers policy sets, else the one the route's sets,
// else the name an ExternalName Service stands for. It is empty when c
// does not originate TLS (protocol tls or h2), where no name is sent, so
// that cleartext clusters do not split by Host.
func upstreamSNI(c *Cluster, service, route *HeadersPolicy) string {
	if c.Protocol != "tls" && c.Protocol != "h2" {
		return ""
	}
	for _, h := range []*HeadersPolicy{service, route} {
		// A Host copied from a request header (HostRewriteHeader) is no
		// name to send.
		if h != nil && h.HostRewrite != "" {
			return h.HostRewrite
		}
	}
	return c.ExternalName
}

// withSNI returns c sending the server name sni: c itself when it does
// already (so that a shared Cluster stays shared), a copy otherwise.
func (c *Cluster) withSNI(sni string) *Cluster {
	if c.SNI == sni {
		return c
	}
	cc := *c
	cc.SNI = sni
	return &cc
}

// loadBalancer reads a strategy; unknown values are RoundRobin (Contour).
func loadBalancer(p *contourv1.LoadBalancerPolicy) LoadBalancer {
	if p == nil {
		return RoundRobin
	}
	switch LoadBalancer(p.Strategy) {
	case WeightedLeastRequest, Random, Cookie, RequestHash:
		return LoadBalancer(p.Strategy)
	}
	return RoundRobin
}

func healthCheck(p *contourv1.HTTPHealthCheckPolicy) (*HealthCheck, error) {
	if p == nil {
		return nil, nil
	}
	if err := validatePath(PathExact, p.Path); err != nil {
		return nil, routeError{status.RouteError, ReasonHealthCheckPolicyInvalid, "healthCheckPolicy.path: " + err.Error()}
	}
	interval, timeout, err := healthCheckTimes(p.IntervalSeconds, p.TimeoutSeconds)
	if err == nil {
		err = healthCheckCounts(p.UnhealthyThresholdCount, p.HealthyThresholdCount)
	}
	if err != nil {
		return nil, routeError{status.RouteError, ReasonHealthCheckPolicyInvalid, "healthCheckPolicy." + err.Error()}
	}
	hc := &HealthCheck{Path: p.Path, Host: p.Host, Interval: interval, Timeout: timeout,
		UnhealthyThreshold: uint32(p.UnhealthyThresholdCount), HealthyThreshold: uint32(p.HealthyThresholdCount)}
	for _, s := range p.ExpectedStatuses {
		if s.Start < 100 || s.End > 600 || s.Start >= s.End {
			return nil, routeError{status.RouteError, ReasonHealthCheckPolicyInvalid,
				fmt.Sprintf("expected status range [%d, %d) is not within [100, 600)", s.Start, s.End)}
		}
		hc.ExpectedStatuses = append(hc.ExpectedStatuses, StatusRange{s.Start, s.End})
	}
	return hc, nil
}

// redirectPolicy validates a requestRedirectPolicy.
func redirectPolicy(p *contourv1.HTTPRequestRedirectPolicy) (*Redirect, error) {
	bad := func(msg string) (*Redirect, error) {
		return nil, routeError{status.RouteError, ReasonRequestRedirectPolicy, msg}
	}
	r := &Redirect{Code: 302}
	if p.StatusCode != nil {
		switch c := *p.StatusCode; c {
		case 301, 302, 303, 307, 308: // Contour's
			r.Code = c
		default:
			return bad("statusCode must be 301, 302, 303, 307 or 308")
		}
	}
	if p.Scheme != nil {
		if *p.Scheme != "http" && *p.Scheme != "https" {
			return bad("scheme must be http or https")
		}
		r.Scheme = *p.Scheme
	}
	if p.Hostname != nil {
		h, err := normalizeFQDN(*p.Hostname, false)
		if err != nil {
			return bad("hostname: " + err.Error())
		}
		r.Host = h
	}
	if p.Port != nil {
		if *p.Port < 1 || *p.Port > 65535 {
			return bad("port " + strconv.Itoa(int(*p.Port)) + " is out of range")
		}
		r.Port = uint32(*p.Port)
	}
	if p.Path != nil && p.Prefix != nil {
		return bad("path and prefix cannot both be set")
	}
	for _, v := range []*string{p.Path, p.Prefix} {
		if v != nil {
			if err := validatePath(PathExact, *v); err != nil {
				return bad(err.Error())
			}
		}
	}
	if p.Path != nil {
		r.Path = *p.Path
	}
	if p.Prefix != nil {
		r.Prefix = *p.Prefix
	}
	return r, nil
}

// healthPortsWithoutChecks warns about services' healthPort on a route
// without a health check policy, where it has no effect.
func (b *builder) healthPortsWithoutChecks(p *contourv1.HTTPProxy, spec *contourv1.Route, i int) {
	if spec.HealthCheckPolicy != nil {
		return
	}
	for j := range spec.Services {
		if spec.Services[j].HealthPort != 0 {
			b.report.Warning(proxyRef(p), status.ServiceError, ReasonIgnoredField,
				"Spec.Routes[%d].Services[%d]: healthPort has no effect without a healthCheckPolicy and is ignored", i, j)
		}
	}
}

// seconds converts a count of seconds to a duration.
func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

// weight converts a service weight: negative is 0, and above 2^32-1 is
// 2^32-1 (translation scales weights whose sum is out of Envoy's range).
func weight(w int64) uint32 { return uint32(min(max(0, w), math.MaxUint32)) }

// maxHealthCheckSeconds bounds health-check intervals and timeouts (a
// year): larger values are mistakes, and would overflow a time.Duration.
const maxHealthCheckSeconds = 365 * 24 * 3600

// healthCheckTimes converts a health check's interval and timeout in
// seconds; 0 means the default, negative or larger than a year is an
// error naming the field.
func healthCheckTimes(interval, timeout int64) (time.Duration, time.Duration, error) {
	for _, f := range []struct {
		name string
		n    int64
	}{{"intervalSeconds", interval}, {"timeoutSeconds", timeout}} {
		if f.n < 0 || f.n > maxHealthCheckSeconds {
			return 0, 0, fmt.Errorf("%s is %d: it must be between 0 (the default) and %d", f.name, f.n, maxHealthCheckSeconds)
		}
	}
	return seconds(interval), seconds(timeout), nil
}

// healthCheckCounts checks a health check's thresholds: 0 means the
// default, negative or above 2^32-1 is an error naming the field.
func healthCheckCounts(unhealthy, healthy int64) error {
	for _, f := range []struct {
		name string
		n    int64
	}{{"unhealthyThresholdCount", unhealthy}, {"healthyThresholdCount", healthy}} {
		if f.n < 0 || f.n > math.MaxUint32 {
			return fmt.Errorf("%s is %d: it must be between 0 (the default) and %d", f.name, f.n, uint32(math.MaxUint32))
		}
	}
	return nil
}

// upstreamValidation resolves a validation block (CA Secret and subject
// names) referenced from namespace ns. A CA Secret that may not be used is
// a *LookupError (its Reason says why); other problems are plain errors.
func (b *builder) upstreamValidation(v *contourv1.UpstreamValidation, ns string) (*UpstreamValidation, error) {
	ca, err := b.lookupCASecret(v.CACertificate, ns)
	if err != nil {
		return nil, err
	}
	// As Contour (whose CRD rules hold this in a cluster): subjectName is
	// required, and subjectNames, when given, start with it.
	if v.SubjectName == "" {
		return nil, fmt.Errorf("validation needs subjectName (missing subject alternative name)")
	}
	names := v.SubjectNames
	switch {
	case len(names) == 0:
		names = []string{v.SubjectName}
	case names[0] != v.SubjectName:
		return nil, fmt.Errorf("first entry of subjectNames (%s) does not match subjectName (%s)", names[0], v.SubjectName)
	}
	for _, n := range names {
		if n == "" || strings.IndexFunc(n, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return nil, fmt.Errorf("validation subject name %q is empty or has spaces or control characters: no certificate names it", n)
		}
	}
	return &UpstreamValidation{CA: ca, SubjectNames: names}, nil
}

// upstreamValidationError returns the condition type of a service's
// validation that cannot be used, Contour's: a CA Secret not delegated is a
// TLSError, any other problem a ServiceError. As in Contour, such an error
// makes the HTTPProxy invalid, not only the service unresolved.
func upstreamValidationError(le *LookupError) (status.ConditionType, bool) {
	switch le.Reason {
	case ReasonCACertificateNotDelegated:
		return status.TLSError, true
	case ReasonTLSUpstreamValidation:
		return status.ServiceError, true
	}
	return "", false
}
