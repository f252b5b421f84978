package probe

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Probe is one synthetic request.
type Probe struct {
	// Name identifies the probe: "<route config>/<vhost>#<index>".
	Name string
	// RouteConfig and VirtualHost locate the route the probe was made for.
	RouteConfig, VirtualHost string
	URL                      string
	Method                   string
	Headers                  map[string]string
	// Key is the request's RequestKey.
	Key string
}

// HTTPSPrefix is the prefix of secure route configuration names.
const HTTPSPrefix = "https/"

// Derive returns the probes of every route of every virtual host in res,
// sorted by URL then name and without duplicate requests. Routes whose path
// cannot be turned into a concrete request (most regexes) are skipped.
func Derive(res *xds.Resources) []Probe {
	seen := map[string]bool{}
	var out []Probe
	for _, rc := range res.Routes {
		scheme := "http"
		if strings.HasPrefix(rc.GetName(), HTTPSPrefix) {
			scheme = "https"
		}
		for _, vh := range rc.GetVirtualHosts() {
			for _, domain := range vh.GetDomains() {
				host := concreteHost(domain)
				if host == "" {
					continue
				}
				for i, r := range vh.GetRoutes() {
					p, ok := fromRoute(scheme, host, r)
					if !ok {
						continue
					}
					key := p.key()
					if seen[key] {
						continue
					}
					seen[key] = true
					p.Key = key
					p.Name = rc.GetName() + "/" + vh.GetName() + "#" + strconv.Itoa(i)
					p.RouteConfig, p.VirtualHost = rc.GetName(), vh.GetName()
					out = append(out, p)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].URL != out[j].URL {
			return out[i].URL < out[j].URL
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// concreteHost turns a vhost domain into a host a request can carry: a
// wildcard label becomes "probe"; the catch-all "*" becomes "probe.invalid".
func concreteHost(domain string) string {
	switch {
	case domain == "*":
		return "probe.invalid"
	case strings.HasPrefix(domain, "*."):
		return "probe." + domain[2:]
	case strings.HasSuffix(domain, ".*") || strings.HasSuffix(domain, "*"):
		return ""
	}
	return domain
}

// fromRoute builds the request that reaches r.
func fromRoute(scheme, host string, r *routev3.Route) (Probe, bool) {
	m := r.GetMatch()
	var path string
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		path = ps.Prefix
	case *routev3.RouteMatch_Path:
		path = ps.Path
	case *routev3.RouteMatch_PathSeparatedPrefix:
		path = ps.PathSeparatedPrefix
	case *routev3.RouteMatch_SafeRegex:
		lit, ok := literalRegex(ps.SafeRegex.GetRegex())
		if !ok {
			return Probe{}, false
		}
		path = lit
	default:
		return Probe{}, false
	}
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	p := Probe{Method: "GET", Headers: map[string]string{}}
	for _, h := range m.GetHeaders() {
		if !addHeader(p.Headers, h) {
			return Probe{}, false
		}
	}
	if v, ok := p.Headers[":method"]; ok {
		p.Method = v
		delete(p.Headers, ":method")
	}
	if _, ok := p.Headers[":authority"]; ok {
		delete(p.Headers, ":authority") // the wildcard label regex; the host already satisfies it
	}
	q := url.Values{}
	for _, qp := range m.GetQueryParameters() {
		v, ok := stringMatchValue(qp.GetStringMatch(), qp.GetPresentMatch())
		if !ok {
			return Probe{}, false
		}
		q.Set(qp.GetName(), v)
	}
	u := url.URL{Scheme: scheme, Host: host, Path: path, RawQuery: q.Encode()}
	p.URL = u.String()
	return p, true
}

// addHeader sets a header value that satisfies h; false when none can be
// derived (an inverted or non-literal regex match).
func addHeader(headers map[string]string, h *routev3.HeaderMatcher) bool {
	name := strings.ToLower(h.GetName())
	if h.GetInvertMatch() {
		// Not sending the header satisfies most inverted matches.
		return true
	}
	if h.GetPresentMatch() {
		headers[name] = "probe"
		return true
	}
	if name == ":authority" {
		headers[name] = ""
		return true
	}
	v, ok := stringMatchValue(h.GetStringMatch(), false)
	if !ok {
		return false
	}
	headers[name] = v
	return true
}

// stringMatchValue returns a value that satisfies m.
func stringMatchValue(m *matcherv3.StringMatcher, present bool) (string, bool) {
	if present || m == nil {
		return "probe", true
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return p.Exact, true
	case *matcherv3.StringMatcher_Prefix:
		return p.Prefix + "probe", true
	case *matcherv3.StringMatcher_Suffix:
		return "probe" + p.Suffix, true
	case *matcherv3.StringMatcher_Contains:
		return p.Contains, true
	case *matcherv3.StringMatcher_SafeRegex:
		return literalRegex(p.SafeRegex.GetRegex())
	}
	return "", false
}

// literalRegex returns the string a regex made only of literals (with an
// optional ^...$ anchor and trailing ".*") matches.
func literalRegex(re string) (string, bool) {
	re = strings.TrimPrefix(re, "^")
	re = strings.TrimSuffix(re, "$")
	re = strings.TrimSuffix(re, ".*")
	var b strings.Builder
	for i := 0; i < len(re); i++ {
		c := re[i]
		if c == '\\' && i+1 < len(re) && strings.IndexByte(`.-/\+*?()[]{}|^$`, re[i+1]) >= 0 {
			b.WriteByte(re[i+1])
			i++
			continue
		}
		if strings.IndexByte(`.+*?()[]{}|^$\`, c) >= 0 {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

func (p Probe) key() string { return RequestKey(p.Method, p.URL, p.Headers) }

// RequestKey identifies a request: method, URL and headers (names in lower
// case, sorted). Two requests with the same key are the same request.
func RequestKey(method, url string, headers map[string]string) string {
	keys := make([]string, 0, len(headers))
	for k, v := range headers {
		keys = append(keys, strings.ToLower(k)+"="+v)
	}
	sort.Strings(keys)
	return method + " " + url + " " + strings.Join(keys, "&")
}
