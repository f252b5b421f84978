package graph

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Policy reasons, Contour's names.
const (
	ReasonRequestHeadersPolicyInvalid  = "RequestHeadersPolicyInvalid"
	ReasonResponseHeadersPolicyInvalid = "ResponseHeaderPolicyInvalid"
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
func (b *builder) routePolicies(r *Route, p *contourv1.HTTPProxy, spec *contourv1.Route, s scope) error {
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
	if err := prefixRewrite(r, spec.PathRewritePolicy, s); err != nil {
		return err
	}
	var err error
	if r.RequestHeaders, err = headersPolicy(spec.RequestHeadersPolicy, p.Namespace, contourv1.Service{}, false); err != nil {
		return err
	}
	if r.ResponseHeaders, err = headersPolicy(spec.ResponseHeadersPolicy, p.Namespace, contourv1.Service{}, true); err != nil {
		return err
	}
	if ir := spec.InternalRedirectPolicy; ir != nil {
		out := &InternalRedirect{MaxRedirects: ir.MaxInternalRedirects, AllowCrossScheme: ir.AllowCrossSchemeRedirect == "Always",
			DenyRepeatedRouteRedirect: ir.DenyRepeatedRouteRedirect}
		for _, c := range ir.RedirectResponseCodes {
			out.Codes = append(out.Codes, uint32(c))
		}
		r.InternalRedirect = out
	}
	return nil
}

// retryPolicy reads retryPolicy: count 1 by default, -1 disables retries.
func retryPolicy(r *Route, p *contourv1.RetryPolicy) error {
	if p == nil || p.NumRetries < 0 {
		return nil
	}
	rp := &RetryPolicy{NumRetries: uint32(p.NumRetries), RetriableStatusCodes: p.RetriableStatusCodes}
	if rp.NumRetries == 0 {
		rp.NumRetries = 1
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

// prefixRewrite picks the replacePrefix entry for the route's prefix: the
// one naming exactly the route's prefix, else the one naming the include
// prefix, else the one with no prefix. Envoy replaces the whole matched
// prefix, so the remainder after the entry's prefix is kept.
func prefixRewrite(r *Route, p *contourv1.PathRewritePolicy, s scope) error {
	if p == nil || len(p.ReplacePrefix) == 0 {
		return nil
	}
	bad := func(reason, msg string) error { return routeError{status.PrefixReplaceError, reason, msg} }
	if r.Path.Kind != PathPrefix && r.Path.Kind != PathSegmentPrefix {
		return bad(ReasonMustHavePrefix, "cannot specify prefix replacements without a prefix condition")
	}
	byPrefix := map[string]string{}
	for _, rp := range p.ReplacePrefix {
		if _, dup := byPrefix[rp.Prefix]; dup {
			if rp.Prefix == "" {
				return bad(ReasonAmbiguousReplacement, "ambiguous prefix replacement")
			}
			return bad(ReasonDuplicateReplacement, fmt.Sprintf("duplicate replacement prefix %q", rp.Prefix))
		}
		if strings.ContainsAny(rp.Replacement, "\r\n\x00") || strings.ContainsAny(rp.Prefix, "\r\n\x00") {
			return bad(ReasonReplacementNotValid, fmt.Sprintf("prefix replacement %q → %q contains a line break or NUL", rp.Prefix, rp.Replacement))
		}
		byPrefix[rp.Prefix] = rp.Replacement
	}
	for _, candidate := range []string{r.Path.Value, s.prefix, ""} {
		rep, ok := byPrefix[candidate]
		if !ok || !strings.HasPrefix(r.Path.Value, candidate) {
			continue
		}
		rest := strings.TrimPrefix(r.Path.Value, candidate)
		out := rep + rest
		if rep == "/" && strings.HasPrefix(rest, "/") {
			out = rest
		}
		r.PrefixRewrite = &PrefixRewrite{Prefix: r.Path.Value, Replacement: out}
		return nil
	}
	return nil
}

// headersPolicy validates a set/remove policy and expands Contour's dynamic
// values. Setting Host rewrites the authority (request side only). Any other
// "%" is escaped so Envoy treats the value as data.
func headersPolicy(p *contourv1.HeadersPolicy, namespace string, svc contourv1.Service, response bool) (*HeadersPolicy, error) {
	if p == nil {
		return nil, nil
	}
	reason := ReasonRequestHeadersPolicyInvalid
	if response {
		reason = ReasonResponseHeadersPolicyInvalid
	}
	bad := func(format string, args ...any) (*HeadersPolicy, error) {
		return nil, routeError{status.RouteError, reason, fmt.Sprintf(format, args...)}
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
		if key == "host" {
			if response {
				return bad("rewriting \"Host\" header is not supported on response headers")
			}
			out.HostRewrite = h.Value
			continue
		}
		out.Set = append(out.Set, Header{Name: h.Name, Value: value})
	}
	for _, n := range p.Remove {
		if err := validateHeaderName(n, false); err != nil {
			return bad("%s", err)
		}
		out.Remove = append(out.Remove, n)
	}
	sort.Slice(out.Set, func(i, j int) bool { return out.Set[i].Name < out.Set[j].Name })
	sort.Strings(out.Remove)
	return out, nil
}

// expandDynamic replaces %CONTOUR_NAMESPACE%, %CONTOUR_SERVICE_NAME% and
// %CONTOUR_SERVICE_PORT% and escapes every other "%".
func expandDynamic(v, namespace string, svc contourv1.Service) string {
	known := map[string]string{
		"%CONTOUR_NAMESPACE%":    namespace,
		"%CONTOUR_SERVICE_NAME%": svc.Name,
		"%CONTOUR_SERVICE_PORT%": strconv.Itoa(svc.Port),
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		if v[i] == '%' {
			matched := false
			for k, val := range known {
				if strings.HasPrefix(v[i:], k) && (svc.Name != "" || k == "%CONTOUR_NAMESPACE%") {
					b.WriteString(strings.ReplaceAll(val, "%", "%%"))
					i += len(k)
					matched = true
					break
				}
			}
			if !matched {
				b.WriteString("%%")
				i++
			}
			continue
		}
		b.WriteByte(v[i])
		i++
	}
	return b.String()
}
