package graph

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Policy reasons, Contour's names. A bad response header policy is
// ResponseHeaderPolicyInvalid on a route (a RouteError) and
// ResponseHeadersPolicyInvalid on a service (a ServiceError), as Contour
// spells them; a request one is RequestHeadersPolicyInvalid on both.
const (
	ReasonRequestHeadersPolicyInvalid  = "RequestHeadersPolicyInvalid"
	ReasonResponseHeaderPolicyInvalid  = "ResponseHeaderPolicyInvalid"
	ReasonResponseHeadersPolicyInvalid = "ResponseHeadersPolicyInvalid"
	ReasonMustHavePrefix               = "MustHavePrefix"
	ReasonReplacementNotValid          = "ReplacementNotValid"
	ReasonDuplicateReplacement         = "DuplicateReplacement"
	ReasonAmbiguousReplacement         = "AmbiguousReplacement"
)

// idleConnection reads a route's timeoutPolicy.idleConnection, the idle
// timeout of its upstream connections: nil when unset or 0s (Envoy's
// default), 0 for "infinity" (never), as Contour reads it.
func idleConnection(t *contourv1.TimeoutPolicy) (*time.Duration, error) {
	if t == nil || t.IdleConnection == "" {
		return nil, nil
	}
	d, infinite, err := parseTimeout(t.IdleConnection)
	if err != nil {
		return nil, routeError{status.RouteError, ReasonTimeoutPolicyNotValid,
			fmt.Sprintf("timeoutPolicy.idleConnection %q is not a duration or \"infinity\"", t.IdleConnection)}
	}
	switch {
	case infinite:
		d = 0
	case d == 0: // Contour reads "0s" as unset
		return nil, nil
	}
	return &d, nil
}

// routePolicies applies the policies of a route that forwards to services.
func (b *builder) routePolicies(r *Route, p *contourv1.HTTPProxy, spec *contourv1.Route, i int) error {
	if t := spec.TimeoutPolicy; t != nil {
		var err error
		bad := func(field, v string) error {
			return routeError{status.RouteError, ReasonTimeoutPolicyNotValid, fmt.Sprintf("timeoutPolicy.%s %q is not a duration or \"infinity\"", field, v)}
		}
		if t.Response != "" {
			if r.Timeouts.Response, r.Timeouts.ResponseInfinite, err = parseTimeout(t.Response); err != nil {
				return bad("response", t.Response)
			}
		}
		if t.Idle != "" {
			if r.Timeouts.Idle, r.Timeouts.IdleInfinite, err = parseTimeout(t.Idle); err != nil {
				return bad("idle", t.Idle)
			}
		}
	}
	if err := retryPolicy(r, spec.RetryPolicy); err != nil {
		return err
	}
	b.dropUnknownRetryOn(r, p, i)
	if err := prefixRewrite(r, spec.PathRewritePolicy); err != nil {
		return err
	}
	var err error
	if r.RequestHeaders, err = headersPolicy(spec.RequestHeadersPolicy, p.Namespace, &noService, false); err != nil {
		return routeError{status.RouteError, ReasonRequestHeadersPolicyInvalid, "requestHeadersPolicy: " + err.Error()}
	}
	if r.ResponseHeaders, err = headersPolicy(spec.ResponseHeadersPolicy, p.Namespace, &noService, true); err != nil {
		return routeError{status.RouteError, ReasonResponseHeaderPolicyInvalid, "responseHeadersPolicy: " + err.Error()}
	}
	r.InternalRedirect = b.internalRedirect(p, spec.InternalRedirectPolicy, i)
	return nil
}

// internalRedirect reads route i's internalRedirectPolicy as Contour does.
// An allowCrossSchemeRedirect other than Always, SafeOnly and Never (which
// Contour's CRD refuses) is taken for Never, as Contour takes it, with an
// IgnoredField warning.
func (b *builder) internalRedirect(p *contourv1.HTTPProxy, ir *contourv1.HTTPInternalRedirectPolicy, i int) *InternalRedirect {
	if ir == nil {
		return nil
	}
	out := &InternalRedirect{MaxRedirects: ir.MaxInternalRedirects, CrossScheme: CrossSchemeRedirect(ir.AllowCrossSchemeRedirect),
		DenyRepeatedRouteRedirect: ir.DenyRepeatedRouteRedirect}
	switch out.CrossScheme {
	case CrossSchemeAlways, CrossSchemeSafeOnly, CrossSchemeNever:
	default:
		if out.CrossScheme != "" {
			b.report.Warning(proxyRef(p), status.RouteError, ReasonIgnoredField,
				"Spec.Routes[%d].internalRedirectPolicy.allowCrossSchemeRedirect %q is not Always, SafeOnly or Never: redirects to another scheme are not followed", i, ir.AllowCrossSchemeRedirect)
		}
		out.CrossScheme = CrossSchemeNever
	}
	for _, c := range ir.RedirectResponseCodes {
		switch c {
		case 301, 302, 303, 307, 308:
			out.Codes = append(out.Codes, uint32(c))
		default:
			b.report.Warning(proxyRef(p), status.RouteError, ReasonIgnoredField,
				"Spec.Routes[%d].internalRedirectPolicy.redirectResponseCodes: %d is not a redirect Envoy follows (301, 302, 303, 307 or 308); ignored", i, c)
		}
	}
	return out
}

// retryConditions are the retryOn values Contour's CRD admits: Envoy's
// HTTP and gRPC retry conditions.
var retryConditions = map[string]bool{"5xx": true, "gateway-error": true, "reset": true, "reset-before-request": true,
	"connect-failure": true, "envoy-ratelimited": true, "retriable-4xx": true, "refused-stream": true,
	"retriable-status-codes": true, "retriable-headers": true, "http3-post-connect-failure": true, "cancelled": true,
	"deadline-exceeded": true, "internal": true, "resource-exhausted": true, "unavailable": true}

// dropUnknownRetryOn removes from route i's retry policy the conditions
// Envoy does not know (which Contour's CRD refuses; a file read offline
// may hold them), with an IgnoredField warning; none left is the default,
// 5xx.
func (b *builder) dropUnknownRetryOn(r *Route, p *contourv1.HTTPProxy, i int) {
	if r.Retry == nil {
		return
	}
	known := r.Retry.RetryOn[:0:0]
	for _, on := range r.Retry.RetryOn {
		if retryConditions[on] {
			known = append(known, on)
			continue
		}
		b.report.Warning(proxyRef(p), status.RouteError, ReasonIgnoredField,
			"Spec.Routes[%d].retryPolicy.retryOn: %q is not a retry condition Envoy knows; ignored", i, on)
	}
	if len(known) == 0 {
		known = []string{"5xx"}
	}
	r.Retry.RetryOn = known
}

// retryPolicy reads retryPolicy: count 1 by default; -1 keeps the policy
// (conditions, per-try timeout) with no retries, as Contour does.
func retryPolicy(r *Route, p *contourv1.RetryPolicy) error {
	if p == nil {
		return nil
	}
	if p.NumRetries < -1 {
		return routeError{status.RouteError, ReasonRetryPolicyNotValid, fmt.Sprintf("retryPolicy.count %d is below -1 (-1 disables retries)", p.NumRetries)}
	}
	rp := &RetryPolicy{NumRetries: 1, RetriableStatusCodes: p.RetriableStatusCodes} // unset or 0: one retry
	switch {
	case p.NumRetries == -1:
		rp.NumRetries = 0
	case p.NumRetries > 0:
		rp.NumRetries = uint32(p.NumRetries)
	}
	for _, on := range p.RetryOn {
		rp.RetryOn = append(rp.RetryOn, string(on))
	}
	if len(rp.RetryOn) == 0 {
		rp.RetryOn = []string{"5xx"}
	}
	if p.PerTryTimeout != "" {
		d, inf, err := parseTimeout(p.PerTryTimeout)
		if err != nil || inf {
			return routeError{status.RouteError, ReasonRetryPolicyNotValid, fmt.Sprintf("retryPolicy.perTryTimeout %q is not a duration", p.PerTryTimeout)}
		}
		rp.PerTryTimeout = d
	}
	r.Retry = rp
	return nil
}

// prefixRewrite picks the replacePrefix entry for the route as Contour
// does: the entry naming exactly the route's routing prefix (its own prefix
// after those of the include chain), else the entry without a prefix. Its
// replacement takes the place of the whole routing prefix.
func prefixRewrite(r *Route, p *contourv1.PathRewritePolicy) error {
	if p == nil || len(p.ReplacePrefix) == 0 {
		return nil
	}
	bad := func(reason, msg string) error { return routeError{status.PrefixReplaceError, reason, msg} }
	if r.Path.Kind != PathPrefix && r.Path.Kind != PathSegmentPrefix {
		return bad(ReasonMustHavePrefix, "cannot specify prefix replacements without a prefix condition")
	}
	byPrefix := make(map[string]string, len(p.ReplacePrefix))
	for _, rp := range p.ReplacePrefix {
		if _, dup := byPrefix[rp.Prefix]; dup {
			if rp.Prefix == "" {
				return bad(ReasonAmbiguousReplacement, "ambiguous prefix replacement")
			}
			return bad(ReasonDuplicateReplacement, fmt.Sprintf("duplicate replacement prefix %q", rp.Prefix))
		}
		if rp.Replacement == "" {
			return bad(ReasonReplacementNotValid, fmt.Sprintf("the replacement of prefix %q is empty", rp.Prefix))
		}
		if strings.ContainsAny(rp.Replacement, "\r\n\x00") || strings.ContainsAny(rp.Prefix, "\r\n\x00") {
			return bad(ReasonReplacementNotValid, fmt.Sprintf("prefix replacement %q → %q contains a line break or NUL", rp.Prefix, rp.Replacement))
		}
		byPrefix[rp.Prefix] = rp.Replacement
	}
	rep, ok := byPrefix[r.Path.Value]
	if !ok {
		rep, ok = byPrefix[""]
	}
	if ok {
		r.PrefixRewrite = &PrefixRewrite{Prefix: r.Path.Value, Replacement: rep}
	}
	return nil
}

// expandPrefixRewrites adds, as Contour does, a second route for each
// route of w.routes[start:own] (the routes of the HTTPProxy just walked;
// the routes of its includes follow them) that rewrites a prefix /p or
// /p/ when no other route of that walk has the prefix /p or /p/: the route
// then matches /p and rewrites it to the replacement without its trailing
// "/" (or to "/"), and the new one matches /p/ and rewrites it to that
// replacement followed by "/". So /p/x becomes <replacement>/x whether the
// replacement ends with "/" or not (with a single /p route, a replacement
// "/" would make //x). The prefix "/" has only one form, and is left alone.
func expandPrefixRewrites(w *proxyWalk, start, own int) {
	rewrites := false
	for _, pr := range w.routes[start:own] {
		rewrites = rewrites || pr.route.PrefixRewrite != nil
	}
	if !rewrites {
		return
	}
	forms := map[string]int{} // routes per prefix without its trailing "/"
	for _, pr := range w.routes[start:] {
		if k, ok := slashlessPrefix(pr.route); ok && !w.invalid[pr.route.Source] {
			forms[k]++
		}
	}
	for _, pr := range w.routes[start:own] {
		r := pr.route
		k, ok := slashlessPrefix(r)
		if !ok || r.PrefixRewrite == nil || r.Path.Value == "/" || forms[k] != 1 {
			continue
		}
		rep := strings.TrimRight(r.PrefixRewrite.Replacement, "/")
		slash := *r
		slash.Path.Value = k + "/"
		slash.PrefixRewrite = &PrefixRewrite{Prefix: slash.Path.Value, Replacement: rep + "/"}
		if rep == "" {
			rep = "/"
		}
		r.Path.Value = k
		r.PrefixRewrite = &PrefixRewrite{Prefix: k, Replacement: rep}
		w.routes = append(w.routes, pendingRoute{route: &slash, permitInsecure: pr.permitInsecure})
	}
}

// slashlessPrefix is the prefix of a prefix route without its trailing "/"
// ("/" stays "/"); ok is false for other routes.
func slashlessPrefix(r *Route) (string, bool) {
	if r.Path.Kind != PathPrefix {
		return "", false
	}
	if r.Path.Value == "/" {
		return "/", true
	}
	return strings.TrimRight(r.Path.Value, "/"), true
}

// headersPolicy validates a set/remove policy and makes its values for
// Envoy (expandDynamic). Setting Host rewrites the authority (request side
// only): to the request header a %REQ(name)% in the value names, as in
// Contour, otherwise to the value as written. A header named twice (in any
// case) in set, or twice in remove, is an error, as in Contour. The caller
// gives an error its condition type and reason (a route's or a service's).
func headersPolicy(p *contourv1.HeadersPolicy, namespace string, svc *contourv1.Service, response bool) (*HeadersPolicy, error) {
	if p == nil {
		return nil, nil
	}
	bad := func(format string, args ...any) (*HeadersPolicy, error) {
		return nil, fmt.Errorf(format, args...)
	}
	out := &HeadersPolicy{}
	seen := map[string]bool{}
	for _, h := range p.Set {
		key := strings.ToLower(h.Name)
		if err := validateHeaderName(h.Name, false); err != nil {
			return bad("%s", err)
		}
		if err := validateHeaderValue(h.Value); err != nil {
			return bad("%s", err)
		}
		if seen[key] {
			return bad("duplicate header addition: %q", h.Name)
		}
		seen[key] = true
		value := expandDynamic(h.Value, namespace, svc)
		if err := headerValueLength(value); err != nil {
			return bad("header %q: %s", h.Name, err)
		}
		if key == "host" {
			if response {
				return bad("rewriting \"Host\" header is not supported on response headers")
			}
			if m := hostRewriteHeader.FindStringSubmatch(h.Value); m != nil {
				out.HostRewriteHeader = http.CanonicalHeaderKey(m[1])
			} else {
				out.HostRewrite = h.Value
			}
			continue
		}
		out.Set = append(out.Set, Header{Name: h.Name, Value: value})
	}
	removed := map[string]bool{}
	for _, n := range p.Remove {
		key := strings.ToLower(n)
		if err := validateHeaderName(n, false); err != nil {
			return bad("%s", err)
		}
		if key == "host" {
			return bad("removing %q is not supported: Envoy refuses to remove the Host header", n)
		}
		if removed[key] {
			return bad("duplicate header removal: %q", n)
		}
		removed[key] = true
		out.Remove = append(out.Remove, n)
	}
	sort.Slice(out.Set, func(i, j int) bool { return out.Set[i].Name < out.Set[j].Name })
	sort.Strings(out.Remove)
	return out, nil
}

// hostRewriteHeader finds, anywhere in a Host value, the request header
// %REQ(name)% names (Contour's pattern).
var hostRewriteHeader = regexp.MustCompile(`%REQ\(([A-Za-z0-9-]+)\)%`)

// envoyVariables are the Envoy command operators a header value may use
// (%NAME%), Contour's list: escapeHeaderValue leaves them to Envoy.
var envoyVariables = []string{
	"DOWNSTREAM_REMOTE_ADDRESS",
	"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
	"DOWNSTREAM_LOCAL_ADDRESS",
	"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
	"DOWNSTREAM_LOCAL_PORT",
	"DOWNSTREAM_LOCAL_URI_SAN",
	"DOWNSTREAM_PEER_URI_SAN",
	"DOWNSTREAM_LOCAL_SUBJECT",
	"DOWNSTREAM_PEER_SUBJECT",
	"DOWNSTREAM_PEER_ISSUER",
	"DOWNSTREAM_TLS_SESSION_ID",
	"DOWNSTREAM_TLS_CIPHER",
	"DOWNSTREAM_TLS_VERSION",
	"DOWNSTREAM_PEER_FINGERPRINT_256",
	"DOWNSTREAM_PEER_FINGERPRINT_1",
	"DOWNSTREAM_PEER_SERIAL",
	"DOWNSTREAM_PEER_CERT",
	"DOWNSTREAM_PEER_CERT_V_START",
	"DOWNSTREAM_PEER_CERT_V_END",
	"HOSTNAME",
	"PROTOCOL",
	"UPSTREAM_REMOTE_ADDRESS",
	"RESPONSE_FLAGS",
	"RESPONSE_CODE_DETAILS",
	"TLS_JA3_FINGERPRINT",
	"TLS_JA4_FINGERPRINT",
}

// reqVariable matches an escaped %REQ(name)% operator (a request header,
// with an optional alternative header and maximum length), which Envoy
// is left to expand.
var reqVariable = regexp.MustCompile(`%(%REQ\(:?[\w-]+(\?:?[\w-]+)?\)(:\d+)?%)%`)

// noService is the service of a route's own header policies: none.
// Never modified.
var noService contourv1.Service

// expandDynamic is escapeHeaderValue with Contour's dynamic values:
// %CONTOUR_NAMESPACE% (namespace) and, for a service's policies (svc
// named), %CONTOUR_SERVICE_NAME% and %CONTOUR_SERVICE_PORT%.
func expandDynamic(v, namespace string, svc *contourv1.Service) string {
	if !strings.Contains(v, "%") {
		return v
	}
	dynamic := [][2]string{{"CONTOUR_NAMESPACE", namespace}}
	if svc.Name != "" {
		dynamic = append(dynamic, [2]string{"CONTOUR_SERVICE_NAME", svc.Name}, [2]string{"CONTOUR_SERVICE_PORT", strconv.Itoa(svc.Port)})
	}
	return escapeHeaderValue(v, dynamic)
}

// escapeHeaderValue makes a header value for Envoy as Contour does: every
// "%" is escaped ("%%", so Envoy sends it as written), then the dynamic
// values (name, value pairs, replaced in order) become their values
// (escaped too: Kubernetes names hold no "%", other input might), and
// the Envoy variables of envoyVariables and %REQ(header)% are unescaped,
// for Envoy to expand.
func escapeHeaderValue(v string, dynamic [][2]string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	out := strings.ReplaceAll(v, "%", "%%")
	for _, d := range dynamic {
		out = strings.ReplaceAll(out, "%%"+d[0]+"%%", strings.ReplaceAll(d[1], "%", "%%"))
	}
	for _, name := range envoyVariables {
		out = strings.ReplaceAll(out, "%%"+name+"%%", "%"+name+"%")
	}
	return reqVariable.ReplaceAllString(out, "$1")
}
