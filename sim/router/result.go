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
	Trace           []string          `json:"trace"`
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
		fmt.Fprintf(w, "  backend:  %s/%s:%d  %d%%  (%d endpoints)", b.Namespace, b.Service, b.Port, b.Weight, b.Endpoints)
		if b.UpstreamHost != "" {
			fmt.Fprintf(w, "  Host %s", b.UpstreamHost)
		}
		fmt.Fprintln(w)
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
	if len(r.ResponseHeaders) > 0 {
		fmt.Fprintf(w, "  response: %s\n", renderHeaders(r.ResponseHeaders))
	}
	fmt.Fprintln(w, "  trace:")
	for _, t := range r.Trace {
		fmt.Fprintf(w, "    - %s\n", strings.ReplaceAll(t, "\n", "\n      "))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
