package graph

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// PathKind is how a route matches the request path.
type PathKind int

// Path match kinds, in the order Contour sorts them (exact, regex, prefix).
const (
	// PathPrefix is a string prefix (HTTPProxy, IngressRoute, Ingress "/").
	PathPrefix PathKind = iota
	// PathSegmentPrefix matches whole path segments (Ingress pathType Prefix).
	PathSegmentPrefix
	// PathExact matches the whole path.
	PathExact
	// PathRegex matches the whole path with an RE2 regular expression.
	PathRegex
)

// String returns prefix, segment, exact or regex.
func (k PathKind) String() string {
	return [...]string{"prefix", "segment", "exact", "regex"}[k]
}

// PathMatch is a route's path condition.
type PathMatch struct {
	Kind  PathKind
	Value string
}

// HeaderMatchKind is how a header condition compares.
type HeaderMatchKind int

// Header match kinds, in Contour's sort rank (exact < regex < contains < present).
const (
	HeaderExact HeaderMatchKind = iota
	HeaderRegex
	HeaderContains
	HeaderPresent
)

// String returns exact, regex, contains or present.
func (k HeaderMatchKind) String() string {
	return [...]string{"exact", "regex", "contains", "present"}[k]
}

// HeaderMatch is one header condition.
type HeaderMatch struct {
	Name       string
	Kind       HeaderMatchKind
	Value      string
	Invert     bool
	IgnoreCase bool
	// TreatMissingAsEmpty matches a missing header as "".
	TreatMissingAsEmpty bool
}

// QueryMatchKind is how a query-parameter condition compares.
type QueryMatchKind int

// Query match kinds, in Contour's sort rank.
const (
	QueryExact QueryMatchKind = iota
	QueryRegex
	QueryPrefix
	QuerySuffix
	QueryContains
	QueryPresent
)

// String returns the kind's name.
func (k QueryMatchKind) String() string {
	return [...]string{"exact", "regex", "prefix", "suffix", "contains", "present"}[k]
}

// QueryMatch is one query-parameter condition.
type QueryMatch struct {
	Name       string
	Kind       QueryMatchKind
	Value      string
	IgnoreCase bool
}

// Route is one route of a virtual host. It has exactly one action: Backends,
// Redirect or DirectResponse (HTTPSRedirect overrides them on insecure
// copies of secure routes).
type Route struct {
	Path    PathMatch
	Headers []HeaderMatch
	Query   []QueryMatch

	Backends       []Backend
	Redirect       *Redirect
	DirectResponse *DirectResponse
	// HTTPSRedirect answers 301 to the https:// URL.
	HTTPSRedirect bool
	// Websocket lets requests upgrade to WebSocket. (Next to HTTPSRedirect:
	// the two flags share one word, which keeps a Route in Go's 384-byte
	// size class.)
	Websocket bool

	Mirror          *Mirror
	Timeouts        Timeouts
	Retry           *RetryPolicy
	PrefixRewrite   *PrefixRewrite
	RequestHeaders  *HeadersPolicy
	ResponseHeaders *HeadersPolicy
	HashPolicies    []HashPolicy
	// InternalRedirect, when set, lets Envoy follow upstream redirects.
	InternalRedirect *InternalRedirect
	// RateLimit, when set, limits the requests the route forwards (it is
	// set only on routes forwarding to services).
	RateLimit *LocalRateLimit
	// GlobalRateLimits are the descriptors the route's requests send to
	// the rate limit service (only on routes forwarding to services);
	// IgnoreHostRateLimits drops the virtual host's (global.disabled).
	GlobalRateLimits     []RateLimitDescriptor
	IgnoreHostRateLimits bool
	// IPFilter, when set, replaces the virtual host's IP filter policy
	// for this route (not on its HTTPSRedirect copy, as in Contour).
	IPFilter *IPFilter
	// JWTProvider, when set, names the secure virtual host's JWT provider
	// whose token requests to this route must carry (only on routes of
	// hosts with JWT providers).
	JWTProvider string
	// Authorization is the route's part of its host's authorization; nil
	// when the host has none.
	Authorization *RouteAuthorization
	// CookieRewrites rewrite the Set-Cookie headers of the responses of
	// every backend (set only on routes forwarding to services).
	CookieRewrites []CookieRewrite

	// Source is the object the route came from; Age its creation time.
	Source status.Ref
	Age    Age
	// SourceName is SourceName(Source), when the builder set it (on the
	// routes of HTTPProxies: computed once per object); "" otherwise.
	SourceName string
}

// SourceName is the name of a route built from src, which Envoy's
// %ROUTE_NAME% logs: its kind in lower case, its namespace and its name
// ("httpproxy/shop/web", as Envoy Gateway names routes after their
// objects). Kubernetes names have no slash, so it reads back.
func SourceName(src status.Ref) string {
	return strings.ToLower(src.Kind) + "/" + src.Namespace + "/" + src.Name
}

// Redirect is an HTTP redirect answer. Empty fields keep the request's value.
type Redirect struct {
	Scheme, Host string
	Port         uint32
	// Path replaces the whole path; Prefix replaces the matched prefix.
	Path, Prefix string
	// Code is 301, 302, 303, 307 or 308.
	Code int
}

// DirectResponse is a fixed answer.
type DirectResponse struct {
	Code int
	Body string
}

// Mirror sends a copy of a share of the requests to a cluster.
type Mirror struct {
	Cluster *Cluster
	// Percent of requests mirrored, 0 < Percent <= 100.
	Percent uint32
}

// Timeouts of a route. A zero duration is unset; Infinite disables the timeout.
type Timeouts struct {
	Response, Idle                 time.Duration
	ResponseInfinite, IdleInfinite bool
}

// RetryPolicy is when and how often Envoy retries.
type RetryPolicy struct {
	RetryOn              []string
	NumRetries           uint32
	PerTryTimeout        time.Duration
	RetriableStatusCodes []uint32
}

// PrefixRewrite replaces the matched path prefix with Replacement.
type PrefixRewrite struct {
	Prefix, Replacement string
}

// HeadersPolicy sets and removes headers; HostRewrite rewrites :authority
// to a literal, HostRewriteHeader (on a route's policy only) to the value
// of that request header.
type HeadersPolicy struct {
	// Set is sorted by header name.
	Set               []Header
	Remove            []string
	HostRewrite       string
	HostRewriteHeader string
}

// Header is a name/value pair.
type Header struct{ Name, Value string }

// HashPolicy is one input to the request-hash load balancer.
type HashPolicy struct {
	Header, Query, Cookie string
	SourceIP              bool
	Terminal              bool
}

// InternalRedirect lets Envoy follow upstream redirects.
type InternalRedirect struct {
	MaxRedirects uint32
	Codes        []uint32
	CrossScheme  CrossSchemeRedirect
	// DenyRepeatedRouteRedirect refuses a redirect to a route the request
	// has already been through.
	DenyRepeatedRouteRedirect bool
}

// CrossSchemeRedirect says whether Envoy follows a redirect to another
// scheme (http to https or back): the values of Contour's
// allowCrossSchemeRedirect.
type CrossSchemeRedirect string

// Cross-scheme redirects: never followed, followed from https requests
// only (Envoy's safe_cross_scheme predicate: an http request follows only
// redirects to http), always followed.
const (
	CrossSchemeNever    CrossSchemeRedirect = "Never"
	CrossSchemeSafeOnly CrossSchemeRedirect = "SafeOnly"
	CrossSchemeAlways   CrossSchemeRedirect = "Always"
)

// MatchKey identifies a route's match conditions: two routes with the same key
// match exactly the same requests.
type MatchKey struct {
	Path PathMatch
	// conds renders the header and query conditions, compared as sets;
	// empty when there are none (most routes: their key costs nothing).
	conds string
}

// String renders the key: the path condition as MatchString does, then
// the header and query conditions.
func (k MatchKey) String() string { return k.Path.Kind.String() + ":" + k.Path.Value + k.conds }

// Key returns the route's match key. Header and query conditions are compared
// as sets.
func (r *Route) Key() MatchKey {
	k := MatchKey{Path: r.Path}
	if len(r.Headers)+len(r.Query) > 0 {
		k.conds = conditionsKey(r)
	}
	return k
}

// conditionsKey renders the header and query conditions of r for its
// MatchKey, each kind sorted.
func conditionsKey(r *Route) string {
	var b strings.Builder
	b.Grow(64 * len(r.Headers))
	switch len(r.Headers) {
	case 0:
	case 1: // the common case needs no sorting
		b.WriteString("\x00h:")
		writeHeaderKey(&b, r.Headers[0])
	default:
		hs := make([]string, len(r.Headers))
		for i, h := range r.Headers {
			var hb strings.Builder
			writeHeaderKey(&hb, h)
			hs[i] = hb.String()
		}
		sort.Strings(hs)
		for _, h := range hs {
			b.WriteString("\x00h:")
			b.WriteString(h)
		}
	}
	qs := make([]string, 0, len(r.Query))
	for _, q := range r.Query {
		qs = append(qs, q.Name+"|"+q.Kind.String()+"|"+q.Value+"|"+strconv.FormatBool(q.IgnoreCase))
	}
	sort.Strings(qs)
	for _, q := range qs {
		b.WriteString("\x00q:")
		b.WriteString(q)
	}
	return b.String()
}

// writeHeaderKey writes one header condition of a match key: the lowered
// name, kind, value and flags, separated by "|".
func writeHeaderKey(b *strings.Builder, h HeaderMatch) {
	for _, s := range [...]string{strings.ToLower(h.Name), h.Kind.String(), h.Value,
		strconv.FormatBool(h.Invert), strconv.FormatBool(h.IgnoreCase)} {
		b.WriteString(s)
		b.WriteByte('|')
	}
	b.WriteString(strconv.FormatBool(h.TreatMissingAsEmpty))
}

// MatchString renders the path condition as "prefix:/blog", the form the
// simulator and findings print.
func (r *Route) MatchString() string { return r.Path.Kind.String() + ":" + r.Path.Value }
