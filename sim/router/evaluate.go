package router

import (
	"fmt"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/isobar-dev/isobar/controlplane/translate"
)

// maxRejected bounds how many rejected routes a trace lists one by one.
const maxRejected = 25

// Evaluate answers one request.
func (r *Router) Evaluate(req Request) Result {
	res := Result{Request: req, Backends: []Backend{}, Trace: []string{}}
	if res.Request.Method == "" {
		res.Request.Method = "GET"
	}
	p, err := parseRequest(req)
	if err != nil {
		res.tracef("request: %v", err)
		return res
	}
	lport := uint32(p.port)
	if m, ok := r.opts.PortMap[p.port]; ok {
		lport = m
	}
	l, ok := r.listeners[lport]
	if !ok {
		res.tracef("no listener on port %d (request port %d): the connection is refused", lport, p.port)
		return res
	}
	res.Listener = l.name
	res.tracef("listener %s on port %d (request port %d)", l.name, lport, p.port)
	c := r.filterChain(l, p, &res)
	if c == nil || !clientHandshake(c, p, &res) {
		return res
	}
	if c.tcp != nil {
		r.tcpProxy(c, &res)
		return res
	}
	if c.hcm == nil {
		res.tracef("filter chain %d has no HTTP connection manager or TCP proxy", c.index)
		return res
	}
	r.http(c, p, &res)
	return res
}

// filterChain selects the chain as Envoy does: by SNI (exact server name,
// then the longest wildcard), then a chain without server names.
func (r *Router) filterChain(l *listener, p *parsed, res *Result) *chain {
	if p.scheme == "https" && !l.tls {
		res.tracef("listener %s does not inspect TLS: an https request cannot be served there", l.name)
		return nil
	}
	var best *chain
	bestRank := -1
	candidates := l.others
	if c, ok := l.byName[p.sni]; ok && p.sni != "" && (c.transport != "raw_buffer" || p.scheme != "https") {
		best, bestRank = c, 1<<20 // an exact server name beats everything
		candidates = nil
	}
	for _, c := range candidates {
		if c.transport == "raw_buffer" && p.scheme == "https" || c.transport == "tls" && p.scheme != "https" {
			continue
		}
		rank := -1
		switch {
		case len(c.serverNames) == 0:
			rank = 0
		case p.sni != "":
			for _, n := range c.serverNames {
				switch {
				case n == p.sni:
					rank = max(rank, 1<<20)
				case strings.HasPrefix(n, "*.") && strings.HasSuffix(p.sni, n[1:]):
					rank = max(rank, len(n))
				}
			}
		}
		if rank > bestRank {
			best, bestRank = c, rank
		}
	}
	if best == nil {
		if p.sni == "" {
			res.tracef("no filter chain of %s accepts a TLS connection without SNI: the handshake fails", l.name)
		} else {
			res.tracef("no filter chain of %s matches SNI %q: the handshake fails", l.name, p.sni)
		}
		return nil
	}
	switch {
	case len(best.serverNames) > 0:
		res.tracef("filter chain %d (server names %s) for SNI %q", best.index, strings.Join(best.serverNames, ", "), p.sni)
	default:
		res.tracef("filter chain %d (no server name match)", best.index)
	}
	return best
}

// http runs the HTTP connection manager: the Lua scripts it runs on every
// request (the misdirected request check), route configuration, virtual
// host, route, action.
func (r *Router) http(c *chain, p *parsed, res *Result) {
	authority := p.authority
	if c.hcm.GetStripTrailingHostDot() {
		authority = stripHostDot(authority)
	}
	if c.hcm.GetStripAnyHostPort() {
		authority = stripPort(authority)
		p.authority = stripPort(p.authority) // Envoy rewrites the header itself
	}
	if misdirected(c.lua, authority, p.sni, res) {
		return
	}
	name := c.hcm.GetRds().GetRouteConfigName()
	rc, ok := r.routes[name]
	if !ok {
		res.Status = 404
		res.tracef("route configuration %q does not exist: 404", name)
		return
	}
	host := authority
	if rc.rc.GetIgnorePortInHostMatching() {
		host = stripPort(authority)
	}
	vh := rc.virtualHost(host)
	if vh == nil {
		res.Status = 404
		res.tracef("route configuration %s has no virtual host for %q: 404", name, authority)
		return
	}
	res.VirtualHost = vh.GetName()
	res.tracef("route configuration %s, virtual host %s for :authority %q", name, vh.GetName(), authority)
	path := p.path
	if c.hcm.GetNormalizePath().GetValue() {
		path = normalizePath(path)
	}
	if c.hcm.GetMergeSlashes() {
		path = mergeSlashes(path)
	}
	m := &matcher{path: path, headers: p.headers, authority: p.authority, method: p.method, query: p.query}
	rejected := 0
	for i, rt := range vh.GetRoutes() {
		ok, why := m.match(rt.GetMatch())
		if !ok {
			rejected++
			if rejected <= maxRejected {
				res.tracef("route %d %s (%s): %s", i, describeMatch(rt.GetMatch()), orDash(source(rt)), why)
			}
			continue
		}
		if rejected > maxRejected {
			res.tracef("... %d more routes rejected", rejected-maxRejected)
		}
		res.Route = &RouteInfo{Match: describeMatch(rt.GetMatch()), Source: source(rt)}
		res.tracef("route %d %s (%s) matches", i, res.Route.Match, orDash(res.Route.Source))
		f, answered := cors(c.hcm, vh, rt, p, res)
		if answered {
			return
		}
		rateLimit(vh, rt, res)
		if !rbac(c.hcm, vh, rt, p, res) {
			return
		}
		jwtNote(c.hcm, rt, res)
		authzNote(c.hcm, rt, res)
		globalRateLimitNote(c.hcm, vh, rt, m, p, res)
		r.action(headerScope{rc.rc, vh, rt}, p, path, res)
		f.respond(res)
		return
	}
	if rejected > maxRejected {
		res.tracef("... %d more routes rejected", rejected-maxRejected)
	}
	res.Status = 404
	res.tracef("no route of virtual host %s matches: 404", vh.GetName())
}

// source reads the route's source object from its name or metadata
// (translate.RouteSource): "HTTPProxy shop/web"; "" when neither names one.
func source(rt *routev3.Route) string {
	src, ok := translate.RouteSource(rt)
	switch {
	case !ok:
		return ""
	case src.Namespace == "":
		return src.Kind + " " + src.Name
	}
	return fmt.Sprintf("%s %s/%s", src.Kind, src.Namespace, src.Name)
}

// stripHostDot removes the trailing dot of authority's host, before any
// port, as Envoy's strip_trailing_host_dot ("a.com.:8080" → "a.com:8080").
func stripHostDot(authority string) string {
	host, port := authority, ""
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority[i:], "]") {
		host, port = authority[:i], authority[i:]
	}
	return strings.TrimSuffix(host, ".") + port
}

func stripPort(authority string) string {
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority[i:], "]") {
		return authority[:i]
	}
	return authority
}

// mostSpecific is the per-filter configuration of filter that Envoy uses
// for route rt of vh: the route's, else the virtual host's (nil when
// neither has one), and which of the two it is ("route" or "virtual host").
func mostSpecific(vh *routev3.VirtualHost, rt *routev3.Route, filter string) (*anypb.Any, string) {
	if cfg := rt.GetTypedPerFilterConfig()[filter]; cfg != nil {
		return cfg, "route"
	}
	return vh.GetTypedPerFilterConfig()[filter], "virtual host"
}
