package graph

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// ReasonRateLimitPolicyNotValid is Contour's reason for a rateLimitPolicy
// that cannot be used, on a virtual host or a route.
const ReasonRateLimitPolicyNotValid = "RateLimitPolicyNotValid"

// RateLimitUnit is the period a local rate limit counts requests over.
type RateLimitUnit string

// Rate limit units, Contour's names.
const (
	RateLimitSecond RateLimitUnit = "second"
	RateLimitMinute RateLimitUnit = "minute"
	RateLimitHour   RateLimitUnit = "hour"
)

// Interval returns the unit's length; zero for an unknown unit.
func (u RateLimitUnit) Interval() time.Duration {
	switch u {
	case RateLimitSecond:
		return time.Second
	case RateLimitMinute:
		return time.Minute
	case RateLimitHour:
		return time.Hour
	}
	return 0
}

// LocalRateLimit is a token bucket each Envoy keeps on its own for a
// virtual host or a route (HTTPProxy's rateLimitPolicy.local): it holds
// Requests+Burst tokens, gets Requests new ones every Unit, and a request
// finding it empty is answered StatusCode without reaching the upstream.
// Its values are valid: Requests > 0, Requests+Burst fits in 32 bits,
// StatusCode is 0 or a 4xx/5xx code Envoy knows.
type LocalRateLimit struct {
	Requests, Burst uint32
	Unit            RateLimitUnit
	// StatusCode answers limited requests; 0 is Envoy's default, 429.
	StatusCode uint32
	// ResponseHeaders are added to limited answers: names in canonical
	// form (X-Rate-Limited), sorted, values made for Envoy by
	// escapeHeaderValue (Envoy's variables kept, any other "%" escaped).
	ResponseHeaders []Header
}

// MaxTokens is the size of the bucket: Requests plus Burst.
func (l *LocalRateLimit) MaxTokens() uint32 { return l.Requests + l.Burst }

// rateLimitPolicy reads the local part of an HTTPProxy rateLimitPolicy;
// field names it in messages ("Spec.VirtualHost.rateLimitPolicy" or
// "rateLimitPolicy"). It returns nil without a local policy. The global
// part needs an external rate limit service; callers report it ignored.
func rateLimitPolicy(p *contourv1.RateLimitPolicy, field string) (*LocalRateLimit, error) {
	if p == nil || p.Local == nil {
		return nil, nil
	}
	in := p.Local
	bad := func(sub, format string, args ...any) (*LocalRateLimit, error) {
		return nil, fmt.Errorf("%s.local.%s: %s", field, sub, fmt.Sprintf(format, args...))
	}
	if in.Requests == 0 {
		return bad("requests", "must be at least 1")
	}
	if uint64(in.Requests)+uint64(in.Burst) > math.MaxUint32 {
		return bad("burst", "requests + burst is %d, more than %d", uint64(in.Requests)+uint64(in.Burst), uint32(math.MaxUint32))
	}
	out := &LocalRateLimit{Requests: in.Requests, Burst: in.Burst, Unit: RateLimitUnit(in.Unit)}
	if out.Unit.Interval() == 0 {
		return bad("unit", "%q is not second, minute or hour", in.Unit)
	}
	if c := in.ResponseStatusCode; c != 0 {
		if c < 400 || c > 599 || !envoyStatusCodes[c] {
			return bad("responseStatusCode", "%d is not a 4xx or 5xx status code Envoy knows", c)
		}
		out.StatusCode = c
	}
	seen := map[string]bool{}
	for i, h := range in.ResponseHeadersToAdd {
		name := http.CanonicalHeaderKey(h.Name)
		if len(name) > maxHeaderBytes {
			return bad(fmt.Sprintf("responseHeadersToAdd[%d].name", i), "the name is %d bytes long; Envoy takes at most %d", len(name), maxHeaderBytes)
		}
		if name == "Host" {
			return bad(fmt.Sprintf("responseHeadersToAdd[%d].name", i), "setting Host is not supported: Envoy refuses to set the Host header")
		}
		if msgs := validation.IsHTTPHeaderName(name); len(msgs) > 0 {
			return bad(fmt.Sprintf("responseHeadersToAdd[%d].name", i), "%q is not a valid header name: %s", h.Name, strings.Join(msgs, "; "))
		}
		if seen[name] {
			return bad(fmt.Sprintf("responseHeadersToAdd[%d].name", i), "duplicate header addition: %q", name)
		}
		seen[name] = true
		if err := validateHeaderValue(h.Value); err != nil {
			return bad(fmt.Sprintf("responseHeadersToAdd[%d].value", i), "%s", err)
		}
		value := escapeHeaderValue(h.Value, nil)
		if err := headerValueLength(value); err != nil {
			return bad(fmt.Sprintf("responseHeadersToAdd[%d].value", i), "%s", err)
		}
		out.ResponseHeaders = append(out.ResponseHeaders, Header{Name: name, Value: value})
	}
	sort.Slice(out.ResponseHeaders, func(i, j int) bool { return out.ResponseHeaders[i].Name < out.ResponseHeaders[j].Name })
	return out, nil
}

// envoyStatusCodes are the 4xx and 5xx codes of Envoy's StatusCode enum:
// an HttpStatus with any other code is refused by Envoy.
var envoyStatusCodes = map[uint32]bool{
	400: true, 401: true, 402: true, 403: true, 404: true, 405: true, 406: true, 407: true, 408: true,
	409: true, 410: true, 411: true, 412: true, 413: true, 414: true, 415: true, 416: true, 417: true,
	421: true, 422: true, 423: true, 424: true, 426: true, 428: true, 429: true, 431: true,
	500: true, 501: true, 502: true, 503: true, 504: true, 505: true, 506: true, 507: true, 508: true,
	510: true, 511: true,
}

// vhostRateLimit reads the virtual host's rateLimitPolicy of root ref. A
// policy that cannot be used is an error on ref (ok false): as in Contour,
// the root then serves nothing.
func (b *builder) vhostRateLimit(ref status.Ref, vh *contourv1.VirtualHost) (*LocalRateLimit, bool) {
	rl, err := rateLimitPolicy(vh.RateLimitPolicy, "Spec.VirtualHost.rateLimitPolicy")
	if err != nil {
		b.report.Error(ref, status.VirtualHostError, ReasonRateLimitPolicyNotValid, "%s", err)
		return nil, false
	}
	return rl, true
}

// routeRateLimit reads route i's rateLimitPolicy. As in Contour, it is
// checked on every route but applies only to routes forwarding to
// services: on a redirect or a direct response it is reported ignored.
func (b *builder) routeRateLimit(r *Route, p *contourv1.HTTPProxy, spec *contourv1.Route, i int) error {
	rl, err := rateLimitPolicy(spec.RateLimitPolicy, "rateLimitPolicy")
	if err != nil {
		return routeError{status.RouteError, ReasonRateLimitPolicyNotValid, err.Error()}
	}
	if rl != nil && len(spec.Services) == 0 {
		b.report.Warning(proxyRef(p), status.RouteError, ReasonIgnoredField,
			"Spec.Routes[%d].rateLimitPolicy.local applies only to routes that forward to services and is ignored", i)
		return nil
	}
	r.RateLimit = rl
	return nil
}
