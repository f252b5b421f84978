package router

import (
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// action applies the route's action: forward, redirect or direct response;
// s is the route with its virtual host and route configuration, whose
// header mutations it applies too.
func (r *Router) action(s headerScope, p *parsed, path string, res *Result) {
	rt := s.rt
	if s.rc.GetMostSpecificHeaderMutationsWins() {
		res.tracef("route configuration %s sets most_specific_header_mutations_wins: header changes are applied weighted cluster, route configuration, virtual host, route", s.rc.GetName())
	}
	switch a := rt.GetAction().(type) {
	case *routev3.Route_DirectResponse:
		res.Status = int(a.DirectResponse.GetStatus())
		res.Body = a.DirectResponse.GetBody().GetInlineString()
		if res.Body == "" {
			res.Body = string(a.DirectResponse.GetBody().GetInlineBytes())
		}
		res.Routed = res.Status < 400
		res.ResponseHeaderChanges = s.localResponseChanges(p)
		res.tracef("direct response %d", res.Status)
	case *routev3.Route_Redirect:
		res.Redirect, res.Status = redirectURL(a.Redirect, p, path, rt.GetMatch())
		res.Routed = true
		res.ResponseHeaderChanges = s.localResponseChanges(p)
		res.tracef("redirect %d to %s", res.Status, res.Redirect)
	case *routev3.Route_Route:
		r.forward(s, a.Route, p, path, res)
	default:
		res.Status = 404
		res.tracef("the route has no action: 404")
	}
}

// forward reports the full weighted split and the upstream request, with
// the header changes of each backend.
func (r *Router) forward(s headerScope, a *routev3.RouteAction, p *parsed, path string, res *Result) {
	type wc struct {
		name   string
		weight uint32
		w      *routev3.WeightedCluster_ClusterWeight // nil for a single cluster
	}
	var clusters []wc
	if c := a.GetCluster(); c != "" {
		clusters = []wc{{c, 1, nil}}
	}
	for _, w := range a.GetWeightedClusters().GetClusters() {
		clusters = append(clusters, wc{w.GetName(), w.GetWeight().GetValue(), w})
	}
	var total uint32
	for _, c := range clusters {
		total += c.weight
	}
	healthy := 0
	for _, c := range clusters {
		if c.weight == 0 {
			continue
		}
		b := r.backend(c.name)
		b.UpstreamHost = c.w.GetHostRewriteLiteral()
		b.RequestHeaderChanges, b.ResponseHeaderChanges = s.headerChangesFor(c.w, p)
		b.Weight = int((uint64(c.weight)*100 + uint64(total)/2) / uint64(total))
		if b.Endpoints > 0 {
			healthy++
		} else {
			res.tracef("cluster %s has no endpoints: its %d%% of requests get 503", c.name, b.Weight)
		}
		res.Backends = append(res.Backends, b)
	}
	sortBackends(res.Backends)
	hoistHeaderChanges(res)
	if len(res.Backends) == 0 {
		res.ResponseHeaderChanges = s.localResponseChanges(p) // on the 503
	}
	res.UpstreamPath, res.UpstreamHost = rewrite(a, path, p, s.rt.GetMatch()), upstreamHost(a, p, res)
	if len(res.Backends) == 1 && res.Backends[0].UpstreamHost != "" {
		res.UpstreamHost = res.Backends[0].UpstreamHost // a cluster's rewrite wins over the route's
	}
	switch {
	case len(res.Backends) == 0:
		res.Status = 503
		res.tracef("no cluster to forward to: 503")
	case healthy == 0:
		res.Status = 503
		res.tracef("no cluster of the route has endpoints: 503")
	default:
		res.Routed, res.Status = true, 200
		names := make([]string, len(res.Backends))
		for i, b := range res.Backends {
			names[i] = b.Cluster + " " + strconv.Itoa(b.Weight) + "%"
		}
		res.tracef("forward to %s", strings.Join(names, ", "))
		for _, w := range a.GetWeightedClusters().GetClusters() {
			if w.GetWeight().GetValue() > 0 {
				cookieRewrites(w, res)
			}
		}
	}
}

// upstreamHost is the Host the backend receives: the route's rewrite to a
// literal, or to a request header's value when the request has it (Envoy
// keeps the Host otherwise), or the rewrite every weighted cluster of the
// split has.
func upstreamHost(a *routev3.RouteAction, p *parsed, res *Result) string {
	if h := a.GetHostRewriteLiteral(); h != "" {
		return h
	}
	if name := a.GetHostRewriteHeader(); name != "" {
		if v := p.headers[strings.ToLower(name)]; v != "" {
			res.tracef("Host rewritten to the value of request header %s", name)
			return v
		}
		res.tracef("Host kept: the request has no %s header to rewrite it to", name)
		return p.authority
	}
	host := ""
	for i, w := range a.GetWeightedClusters().GetClusters() {
		h := w.GetHostRewriteLiteral()
		if i > 0 && h != host {
			return p.authority // the clusters differ: each request gets its cluster's
		}
		host = h
	}
	if host == "" {
		return p.authority
	}
	return host
}

// backend describes a cluster: the Service it stands for and how many
// endpoints it has. The Service is read from the cluster's alt_stat_name
// (namespace_service_port, whole even when the name is shortened: Contour
// cuts names of 60 characters or more), else from its name
// (namespace/service/port/hash).
func (r *Router) backend(name string) Backend {
	b := Backend{Cluster: name}
	parts := strings.Split(name, "/")
	if len(parts) >= 3 {
		b.Namespace, b.Service = parts[0], parts[1]
		b.Port, _ = strconv.Atoi(parts[2])
	}
	c, ok := r.clusters[name]
	if !ok {
		return b
	}
	if stat := strings.Split(c.GetAltStatName(), "_"); len(stat) == 3 && !strings.HasPrefix(name, "extension/") {
		if port, err := strconv.Atoi(stat[2]); err == nil { // Kubernetes names have no "_"
			b.Namespace, b.Service, b.Port = stat[0], stat[1], port
		}
	}
	if la := c.GetLoadAssignment(); la != nil {
		for _, l := range la.GetEndpoints() {
			b.Endpoints += len(l.GetLbEndpoints())
		}
		return b
	}
	eds := c.GetEdsClusterConfig().GetServiceName()
	if eds == "" {
		eds = name
	}
	b.Endpoints = r.endpoints[eds]
	return b
}

// rewrite applies prefix_rewrite / regex_rewrite to the path. As Envoy, it
// swaps the matched prefix for the rewrite and merges no slashes: /p with
// the rewrite / makes /p/x //x (which is why Contour and Isobar add a /p/
// route rewriting to /).
func rewrite(a *routev3.RouteAction, path string, p *parsed, rm *routev3.RouteMatch) string {
	out := path
	if pr := a.GetPrefixRewrite(); pr != "" {
		out = pr + strings.TrimPrefix(path, matchedPrefix(rm))
	}
	if rr := a.GetRegexRewrite(); rr != nil {
		if re, err := compile(rr.GetPattern().GetRegex()); err == nil {
			out = re.ReplaceAllString(path, rr.GetSubstitution())
		}
	}
	if p.rawQuery != "" {
		out += "?" + p.rawQuery
	}
	return out
}

func matchedPrefix(rm *routev3.RouteMatch) string {
	switch ps := rm.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		return ps.Prefix
	case *routev3.RouteMatch_PathSeparatedPrefix:
		return ps.PathSeparatedPrefix
	case *routev3.RouteMatch_Path:
		return ps.Path
	}
	return ""
}

// redirectURL composes the Location Envoy would send.
func redirectURL(rd *routev3.RedirectAction, p *parsed, path string, rm *routev3.RouteMatch) (string, int) {
	scheme := p.scheme
	if rd.GetHttpsRedirect() {
		scheme = "https"
	}
	if s := rd.GetSchemeRedirect(); s != "" {
		scheme = s
	}
	host := stripPort(p.authority)
	if h := rd.GetHostRedirect(); h != "" {
		host = h
	}
	port := ""
	if pr := rd.GetPortRedirect(); pr != 0 {
		port = ":" + strconv.Itoa(int(pr))
	}
	newPath := path
	switch {
	case rd.GetPathRedirect() != "":
		newPath = rd.GetPathRedirect()
	case rd.GetPrefixRewrite() != "":
		newPath = rd.GetPrefixRewrite() + strings.TrimPrefix(path, matchedPrefix(rm))
	}
	if p.rawQuery != "" && !rd.GetStripQuery() && !strings.Contains(newPath, "?") {
		newPath += "?" + p.rawQuery
	}
	code := map[routev3.RedirectAction_RedirectResponseCode]int{
		routev3.RedirectAction_MOVED_PERMANENTLY: 301, routev3.RedirectAction_FOUND: 302,
		routev3.RedirectAction_SEE_OTHER: 303, routev3.RedirectAction_TEMPORARY_REDIRECT: 307,
		routev3.RedirectAction_PERMANENT_REDIRECT: 308,
	}[rd.GetResponseCode()]
	return scheme + "://" + host + port + newPath, code
}

// tcpProxy reports the backends of a TCP proxy chain.
func (r *Router) tcpProxy(c *chain, res *Result) {
	names := []string{}
	weights := []uint32{}
	if cl := c.tcp.GetCluster(); cl != "" {
		names, weights = append(names, cl), append(weights, 1)
	}
	for _, w := range c.tcp.GetWeightedClusters().GetClusters() {
		names, weights = append(names, w.GetName()), append(weights, w.GetWeight())
	}
	var total uint32
	for _, w := range weights {
		total += w
	}
	for i, n := range names {
		b := r.backend(n)
		if total > 0 {
			b.Weight = int((uint64(weights[i])*100 + uint64(total)/2) / uint64(total))
		}
		res.Backends = append(res.Backends, b)
	}
	sortBackends(res.Backends)
	mode := "terminated"
	if !c.tls {
		mode = "passed through"
	}
	res.Routed, res.Status = len(res.Backends) > 0, 200
	res.tracef("TCP proxy: the TLS connection is %s and forwarded to %d cluster(s); HTTP routing does not apply", mode, len(res.Backends))
}
