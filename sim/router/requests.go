package router

import (
	"fmt"
	"os"
	"sort"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"sigs.k8s.io/yaml"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Case is one request of a requests file, with optional expectations.
type Case struct {
	Name    string            `json:"name,omitempty"`
	URL     string            `json:"url"`
	Method  string            `json:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	SNI     string            `json:"sni,omitempty"`
	// ClientIP is the connection's peer address (see Request.ClientIP).
	ClientIP string `json:"clientIP,omitempty"`
	// WithoutClientCertificate: see Request.WithoutClientCertificate.
	WithoutClientCertificate bool    `json:"withoutClientCertificate,omitempty"`
	Expect                   *Expect `json:"expect,omitempty"`
}

// Request returns the request of the case.
func (c Case) Request() Request {
	return Request{URL: c.URL, Method: c.Method, Headers: c.Headers, SNI: c.SNI, ClientIP: c.ClientIP, WithoutClientCertificate: c.WithoutClientCertificate}
}

// Expect lists what must hold; unset fields are not checked.
type Expect struct {
	Status   *int            `json:"status,omitempty"`
	Routed   *bool           `json:"routed,omitempty"`
	Backends []ExpectBackend `json:"backends,omitempty"`
	Redirect *string         `json:"redirect,omitempty"`
	// Route is the expected match, e.g. "prefix:/blog".
	Route *string `json:"route,omitempty"`
	// Source is the expected source object, e.g. "HTTPProxy ns/name".
	Source *string `json:"source,omitempty"`
	// ResponseHeaders are headers the answer must carry, by name: those
	// Envoy's filters put on it (Result.ResponseHeaders) and those the
	// route configuration sets (Result.ResponseHeaderChanges); a null value
	// means it must not carry the header (it is removed, or nothing adds
	// it). With backends whose responses are changed differently, each
	// backend's must match.
	ResponseHeaders map[string]*string `json:"responseHeaders,omitempty"`
	// RequestHeaders are headers the upstream must receive, by name: the
	// request's own headers as Envoy changes them (RequestHeaderChanges); a
	// null value means it must not receive the header. Every backend of a
	// split must receive them; with none, the expectation fails.
	RequestHeaders map[string]*string `json:"requestHeaders,omitempty"`
}

// ExpectBackend is an expected destination; zero fields are not checked.
type ExpectBackend struct {
	Namespace string `json:"namespace,omitempty"`
	Service   string `json:"service"`
	Port      int    `json:"port,omitempty"`
	Weight    int    `json:"weight,omitempty"`
}

// LoadCases reads a requests file: a YAML list of cases.
func LoadCases(path string) ([]Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseCases(path, data)
}

// ParseCases reads a YAML list of cases; name says where it came from.
func ParseCases(name string, data []byte) ([]Case, error) {
	var cases []Case
	if err := yaml.UnmarshalStrict(data, &cases); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i, c := range cases {
		if c.URL == "" {
			return nil, fmt.Errorf("%s: request %d: url is required", name, i+1)
		}
	}
	return cases, nil
}

// Check returns what differs between the case's expectations and res.
func Check(c Case, res Result) []string {
	e := c.Expect
	if e == nil {
		return nil
	}
	var out []string
	if e.Status != nil && *e.Status != res.Status {
		out = append(out, fmt.Sprintf("status: want %d, got %d", *e.Status, res.Status))
	}
	if e.Routed != nil && *e.Routed != res.Routed {
		out = append(out, fmt.Sprintf("routed: want %v, got %v", *e.Routed, res.Routed))
	}
	if e.Redirect != nil && *e.Redirect != res.Redirect {
		out = append(out, fmt.Sprintf("redirect: want %q, got %q", *e.Redirect, res.Redirect))
	}
	got := RouteInfo{}
	if res.Route != nil {
		got = *res.Route
	}
	if e.Route != nil && *e.Route != got.Match {
		out = append(out, fmt.Sprintf("route: want %q, got %q", *e.Route, got.Match))
	}
	if e.Source != nil && *e.Source != got.Source {
		out = append(out, fmt.Sprintf("source: want %q, got %q", *e.Source, got.Source))
	}
	if e.Backends != nil {
		out = append(out, checkBackends(e.Backends, res.Backends)...)
	}
	out = append(out, checkResponseHeaders(e.ResponseHeaders, res)...)
	return append(out, checkRequestHeaders(e.RequestHeaders, res)...)
}

// checkResponseHeaders compares the expected response headers with the
// answer's, or with each backend's when their responses are changed
// differently.
func checkResponseHeaders(want map[string]*string, res Result) []string {
	if len(want) == 0 {
		return nil
	}
	perBackend := false
	for _, b := range res.Backends {
		perBackend = perBackend || len(b.ResponseHeaderChanges) > 0
	}
	if !perBackend {
		got := changedHeaders(nil, res.ResponseHeaderChanges)
		return compareHeaders("response header", want, answerValues(got, res.ResponseHeaders))
	}
	var out []string
	for _, b := range res.Backends {
		got := changedHeaders(nil, append(append([]HeaderChange(nil), res.ResponseHeaderChanges...), b.ResponseHeaderChanges...))
		out = append(out, compareHeaders("response header from "+backendName(b), want, answerValues(got, res.ResponseHeaders))...)
	}
	return out
}

// checkRequestHeaders compares the expected upstream request headers with
// what every backend receives.
func checkRequestHeaders(want map[string]*string, res Result) []string {
	if len(want) == 0 {
		return nil
	}
	if len(res.Backends) == 0 {
		return []string{"request headers: no backend receives the request"}
	}
	var out []string
	for _, b := range res.Backends {
		changes := append(append([]HeaderChange(nil), res.RequestHeaderChanges...), b.RequestHeaderChanges...)
		what := "request header"
		if len(res.Backends) > 1 {
			what += " at " + backendName(b)
		}
		out = append(out, compareHeaders(what, want, changedHeaders(res.Request.Headers, changes))...)
	}
	return out
}

// changedHeaders is own (by any case; Host is not a header here) after
// changes, by lower-case name.
func changedHeaders(own map[string]string, changes []HeaderChange) map[string]string {
	out := map[string]string{}
	for k, v := range own {
		if k = strings.ToLower(k); k != "host" && k != ":authority" {
			out[k] = v
		}
	}
	for _, c := range changes {
		if c.Action == headerRemoved {
			delete(out, c.Name)
		} else {
			out[c.Name] = c.Value
		}
	}
	return out
}

// answerValues puts the headers of Envoy's filters over those the route
// configuration leaves on the answer.
func answerValues(route, filters map[string]string) map[string]string {
	for k, v := range filters {
		route[k] = v
	}
	return route
}

func backendName(b Backend) string {
	return fmt.Sprintf("%s/%s:%d", b.Namespace, b.Service, b.Port)
}

// compareHeaders compares expected headers with got (by lower-case name),
// in name order; what names the headers in the messages.
func compareHeaders(what string, want map[string]*string, got map[string]string) []string {
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		v, ok := got[strings.ToLower(n)]
		switch w := want[n]; {
		case w == nil && ok:
			out = append(out, fmt.Sprintf("%s %s: want none, got %q", what, n, v))
		case w != nil && !ok:
			out = append(out, fmt.Sprintf("%s %s: want %q, got none", what, n, *w))
		case w != nil && v != *w:
			out = append(out, fmt.Sprintf("%s %s: want %q, got %q", what, n, *w, v))
		}
	}
	return out
}

func checkBackends(want []ExpectBackend, got []Backend) []string {
	render := func(b Backend) string { return fmt.Sprintf("%s/%s:%d %d%%", b.Namespace, b.Service, b.Port, b.Weight) }
	var out []string
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if used[i] || g.Service != w.Service || (w.Namespace != "" && g.Namespace != w.Namespace) ||
				(w.Port != 0 && g.Port != w.Port) || (w.Weight != 0 && g.Weight != w.Weight) {
				continue
			}
			used[i], found = true, true
			break
		}
		if !found {
			out = append(out, fmt.Sprintf("backend %s/%s port %d weight %d: not in the answer", w.Namespace, w.Service, w.Port, w.Weight))
		}
	}
	for i, g := range got {
		if !used[i] {
			out = append(out, "unexpected backend "+render(g))
		}
	}
	return out
}

// CoverageEntry is one route of the configuration with whether any request
// reached it.
type CoverageEntry struct {
	Source      string `json:"source"`
	RouteConfig string `json:"routeConfig"`
	VirtualHost string `json:"virtualHost"`
	Match       string `json:"match"`
	Hit         bool   `json:"hit"`
}

// Coverage lists every route that has a source object, marking those some
// result reached, sorted by source, then virtual host and match.
func Coverage(res *xds.Resources, results []Result) []CoverageEntry {
	hit := map[string]bool{}
	for _, r := range results {
		if r.Route != nil {
			hit[r.VirtualHost+"\x00"+r.Route.Match+"\x00"+r.Route.Source] = true
		}
	}
	var out []CoverageEntry
	seen := map[string]bool{}
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, rt := range vh.GetRoutes() {
				src := source(rt)
				if src == "" || isRedirectCopy(rt) {
					continue
				}
				key := vh.GetName() + "\x00" + describeMatch(rt.GetMatch()) + "\x00" + src
				if seen[rc.GetName()+key] {
					continue
				}
				seen[rc.GetName()+key] = true
				out = append(out, CoverageEntry{Source: src, RouteConfig: rc.GetName(), VirtualHost: vh.GetName(),
					Match: describeMatch(rt.GetMatch()), Hit: hit[key]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		for _, p := range [][2]string{{a.Source, b.Source}, {a.VirtualHost, b.VirtualHost}, {a.RouteConfig, b.RouteConfig}, {a.Match, b.Match}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
	return out
}

// isRedirectCopy reports the port-80 copy of a secure route, which only
// redirects to https; covering the secure route is what matters.
func isRedirectCopy(rt *routev3.Route) bool {
	return rt.GetRedirect().GetHttpsRedirect()
}

// SourceCoverage summarises coverage per source object: routes reached and
// the matches no request reached.
type SourceCoverage struct {
	Source  string   `json:"source"`
	Routes  int      `json:"routes"`
	Hit     int      `json:"hit"`
	Missing []string `json:"missing,omitempty"`
}

// BySource groups coverage entries per source object.
func BySource(entries []CoverageEntry) []SourceCoverage {
	var out []SourceCoverage
	for _, e := range entries {
		if len(out) == 0 || out[len(out)-1].Source != e.Source {
			out = append(out, SourceCoverage{Source: e.Source})
		}
		s := &out[len(out)-1]
		s.Routes++
		if e.Hit {
			s.Hit++
		} else {
			s.Missing = append(s.Missing, strings.TrimSpace(e.VirtualHost+" "+e.Match))
		}
	}
	return out
}
