package router

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Request is one HTTP request to evaluate.
type Request struct {
	// URL is absolute: http(s)://host[:port]/path?query.
	URL    string `json:"url"`
	Method string `json:"method,omitempty"`
	// Headers are request headers; a Host header overrides the URL's host
	// as :authority.
	Headers map[string]string `json:"headers,omitempty"`
	// SNI is the TLS server name; it defaults to the URL's host for https.
	SNI string `json:"sni,omitempty"`
	// ClientIP is the address of the connection's peer, which RBAC IP
	// filters match (Peer; Remote too unless X-Forwarded-For names a
	// trusted hop). Empty: IP filters are not evaluated.
	ClientIP string `json:"clientIP,omitempty"`
	// WithoutClientCertificate: the client presents no TLS certificate,
	// which fails the handshake of a host requiring one; otherwise a
	// client asked for one is taken to present one that validates.
	WithoutClientCertificate bool `json:"withoutClientCertificate,omitempty"`
}

// Backend is one destination of a routed request with its share.
type Backend struct {
	Namespace string `json:"namespace"`
	Service   string `json:"service"`
	Port      int    `json:"port"`
	// Weight is the percentage of requests sent here.
	Weight  int    `json:"weight"`
	Cluster string `json:"cluster"`
	// Endpoints is the number of endpoints Envoy knows for the cluster.
	Endpoints int `json:"endpoints"`
	// UpstreamHost, when set, is the Host the requests sent here carry:
	// the cluster rewrites it (over the route's rewrite).
	UpstreamHost string `json:"upstreamHost,omitempty"`
	// RequestHeaderChanges and ResponseHeaderChanges are what Envoy does to
	// the headers of the requests sent here and of their responses besides
	// the Result's changes (which every backend of the split gets): those
	// of this backend's weighted cluster that the others do not share.
	RequestHeaderChanges  []HeaderChange `json:"requestHeaderChanges,omitempty"`
	ResponseHeaderChanges []HeaderChange `json:"responseHeaderChanges,omitempty"`
}

// RouteInfo names the route that answered.
type RouteInfo struct {
	// Match renders the route's conditions, e.g. "prefix:/blog".
	Match string `json:"match"`
	// Source is the object the route came from, e.g. "HTTPProxy teama/blog".
	Source string `json:"source"`
}

// Result is the answer to one request.
type Result struct {
	Request Request `json:"request"`
	// Routed says the request got the answer a route intended: backends, a
	// redirect, or a direct response below 400. 404, 421, 502, 503 and a
	// refused connection (status 0) are not routed.
	Routed      bool       `json:"routed"`
	Status      int        `json:"status"`
	Listener    string     `json:"listener"`
	VirtualHost string     `json:"virtualHost"`
	Route       *RouteInfo `json:"route"`
	Backends    []Backend  `json:"backends"`
	Redirect    string     `json:"redirect"`
	// Body is the body of a direct response.
	Body string `json:"body,omitempty"`
	// UpstreamPath and UpstreamHost are what the backend receives after
	// rewrites.
	UpstreamPath string `json:"upstreamPath,omitempty"`
	UpstreamHost string `json:"upstreamHost,omitempty"`
	// ResponseHeaders are headers Envoy itself puts on the answer (its CORS
	// filter's Access-Control-*), by lower-case name.
	ResponseHeaders map[string]string `json:"responseHeaders,omitempty"`
	// RequestHeaderChanges is what the route configuration makes Envoy do to
	// the request's headers (-H) before sending it upstream, the headers set
	// or appended by name then those removed: the changes every backend
	// gets (a backend's own are Backend.RequestHeaderChanges).
	// ResponseHeaderChanges likewise for the headers of the answer (of a
	// redirect, a direct response or a 503 too); ResponseHeaders win over
	// them.
	RequestHeaderChanges  []HeaderChange `json:"requestHeaderChanges,omitempty"`
	ResponseHeaderChanges []HeaderChange `json:"responseHeaderChanges,omitempty"`
	Trace                 []string       `json:"trace"`
}

func (r *Result) tracef(format string, args ...any) {
	r.Trace = append(r.Trace, fmt.Sprintf(format, args...))
}

// sortBackends orders backends by namespace, service, port.
func sortBackends(bs []Backend) {
	sort.Slice(bs, func(i, j int) bool {
		a, b := bs[i], bs[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.Port < b.Port
	})
}

// Format writes a result for people.
func Format(w io.Writer, r Result) {
	method := r.Request.Method
	if method == "" {
		method = "GET"
	}
	fmt.Fprintf(w, "%s %s\n", method, r.Request.URL)
	if r.Request.ClientIP != "" {
		fmt.Fprintf(w, "  client:   %s\n", r.Request.ClientIP)
	}
	verdict := "not routed"
	if r.Routed {
		verdict = "routed"
	}
	fmt.Fprintf(w, "  status:   %d (%s)\n", r.Status, verdict)
	if r.Route != nil {
		fmt.Fprintf(w, "  route:    %s from %s (listener %s, virtual host %s)\n", r.Route.Match, orDash(r.Route.Source), r.Listener, r.VirtualHost)
	}
	for _, b := range r.Backends {
		formatBackend(w, b)
	}
	if r.Redirect != "" {
		fmt.Fprintf(w, "  redirect: %s\n", r.Redirect)
	}
	if r.Body != "" {
		fmt.Fprintf(w, "  body:     %q\n", r.Body)
	}
	if r.UpstreamPath != "" {
		fmt.Fprintf(w, "  upstream: %s%s\n", r.UpstreamHost, r.UpstreamPath)
	}
	if len(r.RequestHeaderChanges) > 0 {
		fmt.Fprintf(w, "  headers:  %s\n", renderChanges(r.RequestHeaderChanges))
	}
	if resp := answerHeaders(r.ResponseHeaderChanges, r.ResponseHeaders); len(resp) > 0 {
		fmt.Fprintf(w, "  response: %s\n", renderChanges(resp))
	}
	fmt.Fprintln(w, "  trace:")
	for _, t := range r.Trace {
		fmt.Fprintf(w, "    - %s\n", strings.ReplaceAll(t, "\n", "\n      "))
	}
}

// formatBackend writes a backend's line, and the header changes of its
// own below it.
func formatBackend(w io.Writer, b Backend) {
	fmt.Fprintf(w, "  backend:  %s/%s:%d  %d%%  (%d endpoints)", b.Namespace, b.Service, b.Port, b.Weight, b.Endpoints)
	if b.UpstreamHost != "" {
		fmt.Fprintf(w, "  Host %s", b.UpstreamHost)
	}
	fmt.Fprintln(w)
	if len(b.RequestHeaderChanges) > 0 {
		fmt.Fprintf(w, "    headers:  %s\n", renderChanges(b.RequestHeaderChanges))
	}
	if len(b.ResponseHeaderChanges) > 0 {
		fmt.Fprintf(w, "    response: %s\n", renderChanges(b.ResponseHeaderChanges))
	}
}

// renderChanges writes header changes as "set name: value", "appended
// name: value" or "removed name", separated by semicolons.
func renderChanges(cs []HeaderChange) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Action + " " + c.Name
		if c.Action != headerRemoved {
			parts[i] += ": " + c.Value
		}
	}
	return strings.Join(parts, "; ")
}

// answerHeaders merges the route configuration's changes to the answer's
// headers with the headers Envoy's filters put on it (set after the
// route's changes, so theirs win), in the order of sortChanges.
func answerHeaders(changes []HeaderChange, filters map[string]string) []HeaderChange {
	out := make([]HeaderChange, 0, len(changes)+len(filters))
	for _, c := range changes {
		if _, ok := filters[c.Name]; !ok {
			out = append(out, c)
		}
	}
	for n, v := range filters {
		out = append(out, HeaderChange{Name: n, Action: headerSet, Value: v})
	}
	sortChanges(out)
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
