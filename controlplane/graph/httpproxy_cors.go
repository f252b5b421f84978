package graph

import (
	"errors"
	"fmt"
	"net/url"
	"regexp/syntax"
	"time"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// ReasonPolicyDidNotParse is Contour's reason for a CORS policy it cannot
// use (sub-condition type CORSError).
const ReasonPolicyDidNotParse = "PolicyDidNotParse"

// CORSPolicy is a virtual host's cross-origin resource sharing policy, read
// from an HTTPProxy's spec.virtualhost.corsPolicy and applied by Envoy's
// CORS filter: it answers preflight requests from allowed origins itself and
// adds the Access-Control-Allow-* headers to other responses. Every field
// has been validated; the lists keep the order the user wrote.
type CORSPolicy struct {
	// AllowOrigin are the origins allowed; at least one.
	AllowOrigin []OriginMatch
	// AllowMethods (at least one), AllowHeaders and ExposeHeaders are the
	// values of the headers of the same names, one token each.
	AllowMethods, AllowHeaders, ExposeHeaders []string
	// MaxAge is how long a browser may cache a preflight answer; nil leaves
	// it to the browser (no Access-Control-Max-Age), zero disables caching.
	MaxAge *time.Duration
	// AllowCredentials sends Access-Control-Allow-Credentials: true.
	AllowCredentials bool
	// AllowPrivateNetwork answers Chrome's private network access preflight.
	AllowPrivateNetwork bool
}

// OriginMatch is one allowed origin: "*", an exact origin
// (scheme://host[:port], compared without regard to case), or an RE2
// regular expression the whole Origin header must match.
type OriginMatch struct {
	Value string
	Regex bool
}

// proxyCORS reads the CORS policy of root p. A policy that does not parse
// is an error on p (Contour's CORSError / PolicyDidNotParse, naming the
// field) and ok is false; no policy gives nil and true.
func (b *builder) proxyCORS(ref status.Ref, p *contourv1.HTTPProxy) (cp *CORSPolicy, ok bool) {
	cp, err := parseCORSPolicy(p.Spec.VirtualHost.CORSPolicy)
	if err != nil {
		b.report.Error(ref, status.CORSError, ReasonPolicyDidNotParse, "Spec.VirtualHost.CORSPolicy%s", err)
		return nil, false
	}
	return cp, true
}

// parseCORSPolicy validates in as Contour does. Its errors start with the
// field path below Spec.VirtualHost.CORSPolicy (".MaxAge: ...").
func parseCORSPolicy(in *contourv1.CORSPolicy) (*CORSPolicy, error) {
	if in == nil {
		return nil, nil
	}
	out := &CORSPolicy{AllowCredentials: in.AllowCredentials, AllowPrivateNetwork: in.AllowPrivateNetwork}
	if len(in.AllowOrigin) == 0 {
		return nil, fmt.Errorf(".AllowOrigin: at least one origin is required")
	}
	for i, o := range in.AllowOrigin {
		m, err := originMatch(o)
		if err != nil {
			return nil, fmt.Errorf(".AllowOrigin[%d]: %w", i, err)
		}
		out.AllowOrigin = append(out.AllowOrigin, m)
	}
	if len(in.AllowMethods) == 0 {
		return nil, fmt.Errorf(".AllowMethods: at least one method is required")
	}
	var err error
	for _, f := range []struct {
		name string
		in   []contourv1.CORSHeaderValue
		out  *[]string
	}{{"AllowMethods", in.AllowMethods, &out.AllowMethods}, {"AllowHeaders", in.AllowHeaders, &out.AllowHeaders},
		{"ExposeHeaders", in.ExposeHeaders, &out.ExposeHeaders}} {
		if *f.out, err = corsTokens(f.name, f.in); err != nil {
			return nil, err
		}
	}
	if out.MaxAge, err = corsMaxAge(in.MaxAge); err != nil {
		return nil, fmt.Errorf(".MaxAge: %w", err)
	}
	return out, nil
}

// originMatch decides, as Contour does, whether o is an exact origin or a
// regular expression: "*" and anything that reads back unchanged as
// scheme://host[:port] are exact; everything else must be a valid regex.
func originMatch(o string) (OriginMatch, error) {
	if o == "*" {
		return OriginMatch{Value: o}, nil
	}
	if o == "" {
		return OriginMatch{}, errors.New("empty (an empty regular expression, which Envoy refuses)")
	}
	if u, err := url.Parse(o); err == nil && u.Scheme != "" && u.Host != "" && u.Scheme+"://"+u.Host == o {
		return OriginMatch{Value: o}, nil
	}
	if err := validateRegex(o); err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			err = errors.New(se.Code.String())
		}
		return OriginMatch{}, fmt.Errorf("%q is neither \"*\", an origin (scheme://host[:port]) nor a valid regular expression: %w", o, err)
	}
	return OriginMatch{Value: o, Regex: true}, nil
}

// corsTokens checks that every value is an HTTP token (what Contour's CRD
// admits: a method, a header name or "*"), as the API server would.
func corsTokens(field string, in []contourv1.CORSHeaderValue) ([]string, error) {
	out := make([]string, 0, len(in))
	for i, v := range in {
		if v == "" {
			return nil, fmt.Errorf(".%s[%d]: empty", field, i)
		}
		for _, r := range v {
			if !isTokenChar(r) {
				return nil, fmt.Errorf(".%s[%d]: %q contains %q; each entry is one method or header name", field, i, v, r)
			}
		}
		out = append(out, string(v))
	}
	return out, nil
}

// corsMaxAge parses maxAge as a Go duration: empty is unset, "0s" disables
// caching, negative durations are refused.
func corsMaxAge(s string) (*time.Duration, error) {
	if s == "" {
		return nil, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a duration such as 10m or 1h30m (0s disables caching)", s)
	}
	if d < 0 {
		return nil, fmt.Errorf("%q is negative", s)
	}
	return &d, nil
}
