package translate

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// routeConfigurations builds ingress_http and one https/<fqdn> per secure
// virtual host that routes HTTP.
func (t *translator) routeConfigurations() []*routev3.RouteConfiguration {
	insecure, all := t.sortedHosts()
	var secure []*graph.SecureVirtualHost
	for _, vh := range all {
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
	out := []*routev3.RouteConfiguration{RouteConfiguration(HTTPRoutes, byHostName(translated[:len(insecure):len(insecure)]))}
	for i, vh := range secure {
		out = append(out, secureRoutes(vh.Name, translated[len(insecure)+i]))
	}
	if rc := fallbackRoutes(all, secure, translated[len(insecure):]); rc != nil {
		out = append(out, rc)
	}
	return out
}

// sortedHosts returns the graph's virtual hosts and secure virtual hosts,
// each sorted by name; many are sorted side by side.
func (t *translator) sortedHosts() (insecure []*graph.VirtualHost, secure []*graph.SecureVirtualHost) {
	if len(t.g.VirtualHosts) < minParallelHosts || len(t.g.SecureVirtualHosts) < minParallelHosts {
		return graph.SortedVirtualHosts(t.g), graph.SortedSecureVirtualHosts(t.g)
	}
	parallel.Do(func() { insecure = graph.SortedVirtualHosts(t.g) }, func() { secure = graph.SortedSecureVirtualHosts(t.g) })
	return insecure, secure
}

// byHostName sorts vhs, which are sorted by fqdn, by name (as Contour
// sorts them): the order differs only when a long fqdn's name is its hash.
func byHostName(vhs []*routev3.VirtualHost) []*routev3.VirtualHost {
	if !slices.IsSortedFunc(vhs, compareHostNames) {
		vhs = slices.SortedFunc(slices.Values(vhs), compareHostNames)
	}
	return vhs
}

// compareHostNames orders virtual hosts by name.
func compareHostNames(a, b *routev3.VirtualHost) int {
	return strings.Compare(a.GetName(), b.GetName())
}

// virtualHosts translates hosts, in order, spread over the CPUs when they
// are many.
func (t *translator) virtualHosts(hosts []*graph.VirtualHost) []*routev3.VirtualHost {
	return t.virtualHostsOn(workersFor(len(hosts)), hosts)
}

// virtualHostsOn translates hosts on the given number of goroutines.
func (t *translator) virtualHostsOn(workers int, hosts []*graph.VirtualHost) []*routev3.VirtualHost {
	out := make([]*routev3.VirtualHost, len(hosts))
	t.forEachForked(workers, len(hosts), func(f *translator, i int) { out[i] = f.virtualHost(hosts[i]) })
	return out
}

// virtualHost translates one virtual host with its routes in Contour's order.
func (t *translator) virtualHost(vh *graph.VirtualHost) *routev3.VirtualHost {
	block := &hostBlock{}
	out := &block.host
	block.domain[0] = vh.Name
	out.Name, out.Domains = VirtualHostName(vh.Name), block.domain[:]
	if vh.RateLimit != nil {
		setLocalRateLimit(&out.TypedPerFilterConfig, vh.RateLimit, vh.Name)
	}
	addCORS(out, vh)
	out.RateLimits = globalRateLimits(vh.GlobalRateLimits)
	var authority *routev3.HeaderMatcher
	if isWildcard(vh.Name) {
		authority = wildcardAuthority(vh.Name)
	}
	sorted := graph.SortedRoutes(vh)
	out.Routes = make([]*routev3.Route, len(sorted))
	b := newBlocks(sorted, authority != nil)
	for i, r := range sorted {
		out.Routes[i] = t.route(&b, r, vh.Name, authority)
	}
	setIPFilter(&out.TypedPerFilterConfig, vh.IPFilter)
	return out
}

// hostBlock is a virtual host with the backing array of its one domain.
type hostBlock struct {
	host   routev3.VirtualHost
	domain [1]string
}

// wildcardAuthority restricts a wildcard host to exactly one DNS label, as
// Contour does (Envoy's "*.example.com" would also match a.b.example.com).
// For "*.example.com" the :authority must match
// ^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\.example\.com(:[0-9]+)?$ : one
// label (letters, digits and inner hyphens), the literal domain, an
// optional port. Contour's label allows lower-case letters only, so that
// FOO.example.com, which Envoy's domain match admits, answers 404 there;
// here the label may be of either case, as DNS names are.
func wildcardAuthority(name string) *routev3.HeaderMatcher {
	re := `^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?` + regexp.QuoteMeta(name[1:]) + `(:[0-9]+)?$`
	return &routev3.HeaderMatcher{Name: ":authority", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}},
	}}
}

// forwards reports whether r forwards requests to its backends, rather than
// redirecting or answering them itself.
func forwards(r *graph.Route) bool {
	return !r.HTTPSRedirect && r.Redirect == nil && r.DirectResponse == nil && len(r.Backends) > 0
}

// route translates r, a route of virtual host vhost, with the messages of
// b; every route of a wildcard host has the authority condition.
func (t *translator) route(b *blocks, r *graph.Route, vhost string, authority *routev3.HeaderMatcher) *routev3.Route {
	s := &take(&b.routes, 1)[0]
	out := &s.route
	routeMatch(s, r, t.headerMatchers(b, r, authority))
	src := t.source(r)
	out.Match, out.Name, out.Metadata = &s.match, src.name, src.metadata
	if !forwards(r) {
		answer(out, r)
	} else {
		out.Action = t.forwardAction(b, r)
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
	return out
}

// answer sets the action of out, the route of r when r does not forward: a
// redirect or a direct response.
func answer(out *routev3.Route, r *graph.Route) {
	switch {
	case r.HTTPSRedirect:
		out.Action = httpsRedirect
	case r.Redirect != nil:
		out.Action = &routev3.Route_Redirect{Redirect: redirect(r.Redirect)}
	case r.DirectResponse != nil:
		out.Action = &routev3.Route_DirectResponse{DirectResponse: directResponse(r.DirectResponse.Code, r.DirectResponse.Body)}
	default:
		// Every service of the route is missing: Contour answers 503.
		out.Action = unavailable
	}
}

// httpsRedirect and unavailable are the actions of every route redirecting
// to HTTPS and of every route without a backend: each one value shared by
// all of them, never modified.
var (
	httpsRedirect = &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
		SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
	}}
	unavailable = &routev3.Route_DirectResponse{DirectResponse: directResponse(503, "")}
)

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

// source returns what names r's source object on its routes: its name
// (SourceName) and, when the kit says so, its metadata (nil otherwise, and
// both empty when r has no source). The routes of one object share them,
// built by the first of them and never modified.
func (t *translator) source(r *graph.Route) routeSource {
	if r.SourceName != "" && !t.sources.withMetadata { // its name alone, given
		return routeSource{name: r.SourceName}
	}
	if t.lastSource == r.Source { // the zero Ref's routeSource is the zero value
		return t.last
	}
	s := t.sources.get(r.Source)
	t.lastSource, t.last = r.Source, s
	return s
}

// routeSource is what names a route's source object: the route's name and
// its metadata.
type routeSource struct {
	name     string
	metadata *corev3.Metadata
}

// sourceMemo holds the routeSource of each object, shared by the
// goroutines that translate virtual hosts together so that all the routes
// of an object (a TLS root's routes and its HTTPS redirect fall to
// different goroutines) share one (immutable) name and message.
type sourceMemo struct {
	mu sync.Mutex
	m  map[status.Ref]routeSource
	// withMetadata says whether sources carry their metadata
	// (listenerKit.sourceMetadata).
	withMetadata bool
}

// newSourceMemo is an empty memo with room for n objects, whose sources
// carry their metadata when withMetadata.
func newSourceMemo(n int, withMetadata bool) *sourceMemo {
	return &sourceMemo{m: make(map[status.Ref]routeSource, n), withMetadata: withMetadata}
}

// get returns the routeSource of src, built on first use. The lock is held
// for the lookups only, never while building: held across the allocations,
// it serialised the goroutines.
func (m *sourceMemo) get(src status.Ref) routeSource {
	if src.Kind == "" {
		return routeSource{}
	}
	m.mu.Lock()
	s, ok := m.m[src]
	m.mu.Unlock()
	if ok {
		return s
	}
	s.name = SourceName(src)
	if m.withMetadata {
		s.metadata = newSourceMetadata(src)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if first, ok := m.m[src]; ok { // built meanwhile by another goroutine
		return first
	}
	m.m[src] = s
	return s
}

// newSourceMetadata records a route's source object for access logs, under
// Contour's keys.
func newSourceMetadata(src status.Ref) *corev3.Metadata {
	b := &metadataBlock{}
	for i, v := range [...]string{src.Kind, src.Namespace, src.Name} {
		b.strings[i].StringValue = v
		b.values[i].Kind = &b.strings[i]
	}
	b.source.Fields = map[string]*structpb.Value{MetadataKind: &b.values[0], MetadataNamespace: &b.values[1], MetadataName: &b.values[2]}
	b.metadata.FilterMetadata = map[string]*structpb.Struct{MetadataFilter: &b.source}
	return &b.metadata
}

// metadataBlock holds the messages of a source metadata, allocated at once.
type metadataBlock struct {
	metadata corev3.Metadata
	source   structpb.Struct
	values   [3]structpb.Value
	strings  [3]structpb.Value_StringValue
}
