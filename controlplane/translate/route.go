package translate

import (
	"regexp"
	"runtime"
	"strings"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Route metadata keys naming the source object, Contour's (#5534).
const (
	MetadataFilter    = "envoy.access_loggers.file"
	MetadataKind      = "io.projectcontour.kind"
	MetadataNamespace = "io.projectcontour.namespace"
	MetadataName      = "io.projectcontour.name"
)

// misdirectedBody is the answer of the catch-all virtual host of an HTTPS
// route configuration: the request's host is not the connection's SNI.
const misdirectedBody = "misdirected request: the Host does not match the TLS server name\n"

// routeConfigurations builds ingress_http and one https/<fqdn> per secure
// virtual host that routes HTTP.
func (t *translator) routeConfigurations() []*routev3.RouteConfiguration {
	insecure := graph.SortedVirtualHosts(t.g)
	var secure []*graph.SecureVirtualHost
	for _, vh := range graph.SortedSecureVirtualHosts(t.g) {
		if routesHTTP(vh) {
			secure = append(secure, vh)
		}
	}
	hosts := make([]*graph.VirtualHost, 0, len(insecure)+len(secure))
	hosts = append(hosts, insecure...)
	for _, vh := range secure {
		hosts = append(hosts, &vh.VirtualHost)
	}
	translated := t.virtualHosts(hosts)
	out := []*routev3.RouteConfiguration{RouteConfiguration(HTTPRoutes, translated[:len(insecure):len(insecure)])}
	for i, vh := range secure {
		out = append(out, secureRoutes(vh.Name, translated[len(insecure)+i]))
	}
	return out
}

// minParallelHosts is the number of virtual hosts below which they are
// translated on one goroutine.
const minParallelHosts = 256

// virtualHosts translates hosts, in order. Large sets are split into one
// contiguous chunk per CPU, each translated with its own cluster registry;
// the registries are then merged chunk by chunk, so the first route (in
// host order) to name a cluster decides it, exactly as on one goroutine.
func (t *translator) virtualHosts(hosts []*graph.VirtualHost) []*routev3.VirtualHost {
	return t.virtualHostsOn(min(runtime.GOMAXPROCS(0), len(hosts)/minParallelHosts), hosts)
}

// virtualHostsOn translates hosts on the given number of goroutines.
func (t *translator) virtualHostsOn(workers int, hosts []*graph.VirtualHost) []*routev3.VirtualHost {
	out := make([]*routev3.VirtualHost, len(hosts))
	workers = min(workers, len(hosts))
	if workers <= 1 {
		for i, vh := range hosts {
			out[i] = t.virtualHost(vh)
		}
		return out
	}
	forks := make([]*translator, workers)
	var wg sync.WaitGroup
	for w := range workers {
		forks[w] = &translator{g: t.g, idx: t.idx, clusters: map[string]*graph.Cluster{},
			names: map[*graph.Cluster]string{}, metadata: map[status.Ref]*corev3.Metadata{}, kit: t.kit}
		lo, hi := w*len(hosts)/workers, (w+1)*len(hosts)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				out[i] = forks[w].virtualHost(hosts[i])
			}
		}()
	}
	wg.Wait()
	for _, f := range forks {
		for name, c := range f.clusters {
			if _, ok := t.clusters[name]; !ok {
				t.clusters[name] = c
			}
		}
	}
	return out
}

// virtualHost translates one virtual host with its routes in Contour's order.
func (t *translator) virtualHost(vh *graph.VirtualHost) *routev3.VirtualHost {
	out := &routev3.VirtualHost{Name: vh.Name, Domains: []string{vh.Name}}
	if vh.RateLimit != nil {
		setLocalRateLimit(&out.TypedPerFilterConfig, vh.RateLimit, vh.Name)
	}
	addCORS(out, vh)
	out.RateLimits = globalRateLimits(vh.GlobalRateLimits)
	var authority *routev3.HeaderMatcher
	if strings.HasPrefix(vh.Name, "*.") && vh.Name != "*" {
		authority = wildcardAuthority(vh.Name)
	}
	sorted := graph.SortedRoutes(vh)
	out.Routes = make([]*routev3.Route, len(sorted))
	// One allocation for each kind of message of the host's routes.
	n := len(sorted)
	routes, matches := make([]routev3.Route, n), make([]routev3.RouteMatch, n)
	actions, forwards, clusters := make([]routev3.RouteAction, n), make([]routev3.Route_Route, n), make([]routev3.RouteAction_Cluster, n)
	prefixes, segments := make([]routev3.RouteMatch_Prefix, n), make([]routev3.RouteMatch_PathSeparatedPrefix, n)
	for i, r := range sorted {
		er := &routes[i]
		t.route(routeParts{er, &matches[i], &actions[i], &forwards[i], &clusters[i], &prefixes[i], &segments[i]}, r, vh.Name)
		if authority != nil {
			hs := append(er.Match.Headers, nil)
			copy(hs[1:], hs)
			hs[0] = authority
			er.Match.Headers = hs
		}
		out.Routes[i] = er
	}
	setIPFilter(&out.TypedPerFilterConfig, vh.IPFilter)
	return out
}

// wildcardAuthority restricts a wildcard host to exactly one DNS label, as
// Contour does (Envoy's "*.example.com" would also match a.b.example.com).
// For "*.example.com" the :authority must match
// ^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\.example\.com(:[0-9]+)?$ : one
// label (letters, digits and inner hyphens), the literal domain, an
// optional port.
func wildcardAuthority(name string) *routev3.HeaderMatcher {
	re := `^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?` + regexp.QuoteMeta(name[1:]) + `(:[0-9]+)?$`
	return &routev3.HeaderMatcher{Name: ":authority", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}},
	}}
}

// routeParts are the messages one route may use, allocated with those of
// the other routes of its host.
type routeParts struct {
	route   *routev3.Route
	match   *routev3.RouteMatch
	action  *routev3.RouteAction
	forward *routev3.Route_Route
	cluster *routev3.RouteAction_Cluster
	prefix  *routev3.RouteMatch_Prefix
	segment *routev3.RouteMatch_PathSeparatedPrefix
}

// route fills p.route (and p.match) with the match, the action and the
// metadata of r, a route of virtual host vhost.
func (t *translator) route(p routeParts, r *graph.Route, vhost string) {
	out, m := p.route, p.match
	md := t.lastMetadata
	if t.lastSource != r.Source || md == nil {
		var ok bool
		if md, ok = t.metadata[r.Source]; !ok {
			md = sourceMetadata(r)
			t.metadata[r.Source] = md
		}
		t.lastSource, t.lastMetadata = r.Source, md
	}
	routeMatch(m, r, p)
	out.Match, out.Metadata = m, md
	switch {
	case r.HTTPSRedirect:
		out.Action = &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
			SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
		}}
	case r.Redirect != nil:
		out.Action = &routev3.Route_Redirect{Redirect: redirect(r.Redirect)}
	case r.DirectResponse != nil:
		out.Action = &routev3.Route_DirectResponse{DirectResponse: directResponse(r.DirectResponse.Code, r.DirectResponse.Body)}
	case len(r.Backends) == 0:
		// Every service of the route is missing: Contour answers 503.
		out.Action = &routev3.Route_DirectResponse{DirectResponse: directResponse(503, "")}
	default:
		p.forward.Route = t.routeAction(r, p.action, p.cluster)
		out.Action = p.forward
		out.RequestHeadersToAdd, out.RequestHeadersToRemove = headers(r.RequestHeaders)
		out.ResponseHeadersToAdd, out.ResponseHeadersToRemove = headers(r.ResponseHeaders)
		if r.RateLimit != nil {
			setLocalRateLimit(&out.TypedPerFilterConfig, r.RateLimit, vhost)
		}
		routeJWT(out, r)
		routeGlobalRateLimit(out, r)
	}
	routeAuthorization(out, r)
	routeIPFilter(out, r)
}

func directResponse(code int, body string) *routev3.DirectResponseAction {
	d := &routev3.DirectResponseAction{Status: uint32(code)}
	if body != "" {
		d.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: body}}
	}
	return d
}

func redirect(r *graph.Redirect) *routev3.RedirectAction {
	out := &routev3.RedirectAction{HostRedirect: r.Host, PortRedirect: r.Port}
	if r.Scheme != "" {
		out.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: r.Scheme}
	}
	switch {
	case r.Path != "":
		out.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: r.Path}
	case r.Prefix != "":
		out.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: r.Prefix}
	}
	switch r.Code {
	case 302:
		out.ResponseCode = routev3.RedirectAction_FOUND
	case 303:
		out.ResponseCode = routev3.RedirectAction_SEE_OTHER
	case 307:
		out.ResponseCode = routev3.RedirectAction_TEMPORARY_REDIRECT
	case 308:
		out.ResponseCode = routev3.RedirectAction_PERMANENT_REDIRECT
	}
	return out
}

// sourceMetadata records the route's source object for access logs and the
// simulator.
func sourceMetadata(r *graph.Route) *corev3.Metadata {
	if r.Source.Kind == "" {
		return nil
	}
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{MetadataFilter: {Fields: map[string]*structpb.Value{
		MetadataKind:      structpb.NewStringValue(r.Source.Kind),
		MetadataNamespace: structpb.NewStringValue(r.Source.Namespace),
		MetadataName:      structpb.NewStringValue(r.Source.Name),
	}}}}
}
