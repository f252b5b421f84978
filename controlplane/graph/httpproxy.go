package graph

import (
	"k8s.io/apimachinery/pkg/types"
	"strings"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// Reasons of the HTTPProxy processor, Contour's names.
const (
	ReasonNothingDefined      = "NothingDefined"
	ReasonIncludeCreatesCycle = "IncludeCreatesCycle"
	ReasonIncludeNotFound     = "IncludeNotFound"
	// ReasonEnvoyRejected marks an HTTPProxy taken out of the
	// configuration because Envoy rejected what it built (Options.Excluded).
	ReasonEnvoyRejected            = "EnvoyRejected"
	ReasonRootIncludesRoot         = "RootIncludesRoot"
	ReasonDuplicateMatchConditions = "DuplicateMatchConditions"
	ReasonIncludeNotValid          = "IncludeNotValid"
	ReasonIncludeTooDeep           = "IncludeTooDeep"
	ReasonIgnoredField             = "IgnoredField"
)

// maxIncludeDepth bounds include chains (robustness: no stack overflow).
const maxIncludeDepth = 32

// proxyWalk is one traversal of an include tree from a root.
type proxyWalk struct {
	fqdn string
	tls  bool
	// routes collected, added to the graph only if the root stays valid.
	routes []pendingRoute
	// invalid objects met in this walk (their routes are dropped); nil
	// until one is (see invalidate).
	invalid map[status.Ref]bool
}

// invalidate records that ref is invalid.
func (w *proxyWalk) invalidate(ref status.Ref) {
	if w.invalid == nil {
		w.invalid = map[status.Ref]bool{}
	}
	w.invalid[ref] = true
}

// proxyRoot is a root HTTPProxy with the fqdn it claims (normalised).
type proxyRoot struct {
	p    *contourv1.HTTPProxy
	fqdn string
}

// pendingRoute is a route collected by a walk, not added to the graph yet.
type pendingRoute struct {
	route          *Route
	permitInsecure bool
}

func proxyRef(p *contourv1.HTTPProxy) status.Ref {
	return status.Ref{Kind: status.KindHTTPProxy, Namespace: p.Namespace, Name: p.Name}
}

// processHTTPProxies builds every root HTTPProxy that owns its host,
// following includes. (claimHosts tracked every class-matching HTTPProxy,
// so that one no root reaches comes out orphaned.)
func (b *builder) processHTTPProxies() {
	roots := b.proxyRoots // the owners (claimHosts reported the others)
	b.g.sizeFor(len(roots) + len(b.idx.Ingresses))
	// Each root owns its fqdn and only reads the index: chunks of roots are
	// planned, and their virtual hosts built, on every core; meanwhile this
	// goroutine puts them in the graph in order.
	results := make([]rootResult, len(roots))
	chunk := func(c int) (int, int) { return c * rootChunk, min(len(roots), (c+1)*rootChunk) }
	parallel.Ordered((len(roots)+rootChunk-1)/rootChunk, 1, func(c int) {
		rb := b.forRoots()
		lo, hi := chunk(c)
		for i := lo; i < hi; i++ {
			if b.parts != nil { // a root's report and reads are its host's
				rb.report = status.NewReportFor(1)
			}
			rb.reads = nil
			plan := rb.planRoot(roots[i].p, roots[i].fqdn)
			results[i] = rootResult{hosts: rb.buildHosts(plan), report: rb.report, reads: rb.reads}
		}
	}, func(c int) {
		lo, hi := chunk(c)
		for _, res := range results[lo:hi] {
			b.placeHosts(res.hosts)
			if part := b.hostPart(res.hosts.fqdn); part != nil {
				// (Every root has one when parts are recorded.) What
				// building the hosts says (route conflicts) is the
				// host's too.
				part.Report.Merge(res.report)
				part.Reads = res.reads
			}
		}
		if b.parts == nil {
			b.report.Merge(results[lo].report) // the chunk's
		}
		clear(results[lo:hi]) // done with: let them go
	})
}

// rootChunk is how many consecutive roots one goroutine plans in turn,
// with one builder and, unless parts are recorded, one report.
const rootChunk = 16

// rootResult is what processing one root gave: its virtual hosts, its
// report, and the HTTPProxies its walk read (see builder.reads).
type rootResult struct {
	hosts  rootHosts
	report *status.Report
	reads  []types.NamespacedName
}

// rootPlan is what processing one root decided about the graph.
type rootPlan struct {
	fqdn string
	// svh is the validated secure virtual host to record, if any; tcp its
	// tcpproxy.
	svh *SecureVirtualHost
	tcp *TCPProxy
	// tls: the root has TLS, so its routes redirect to https on port 80
	// unless permitInsecure; they go on the secure host too when it routes
	// HTTP (see secureRoutes).
	tls    bool
	routes []pendingRoute
	// rateLimit is the virtual host's local rate limit, for both the
	// insecure and the secure virtual host.
	rateLimit *LocalRateLimit
	// globalRateLimits are the virtual host's global descriptors, for both
	// hosts too.
	globalRateLimits []RateLimitDescriptor
	// cors is the host's CORS policy, for both of its virtual hosts.
	cors *CORSPolicy
	// ipFilter is the virtual host's IP filter policy, for both hosts.
	ipFilter *IPFilter
}

// secureRoutes reports whether the plan's routes are served over TLS too:
// the root terminates TLS and has no tcpproxy. With a tcpproxy, or with
// passthrough (no secure host then), they are served on port 80 only.
func (plan *rootPlan) secureRoutes() bool { return plan.tls && plan.svh != nil && plan.tcp == nil }

// forRoots returns a builder for planning roots in turn: its own report
// (with room for a chunk's roots), recent Service answers (no
// serviceMemo), the shared read-only state, and no graph (planning never
// writes it).
func (b *builder) forRoots() *builder {
	return &builder{idx: b.idx, opts: b.opts, report: status.NewReportFor(rootChunk), owners: b.owners,
		secretChecks: b.secretChecks, global: b.global, clientCert: b.clientCert}
}

// commitRoot applies a plan to the graph.
func (b *builder) commitRoot(plan rootPlan) { b.placeHosts(b.buildHosts(plan)) }

// planRoot processes one root: TLS, its tcpproxy, then its routes and
// includes. As in Contour, a root with a tcpproxy or with TLS passthrough
// may also have routes: they are served on port 80 only (the TLS
// connection is not Envoy's to route), redirecting to https unless
// permitInsecure.
func (b *builder) planRoot(p *contourv1.HTTPProxy, fqdn string) rootPlan {
	plan := rootPlan{fqdn: fqdn}
	ref := proxyRef(p)
	b.report.Valid(ref)
	if len(p.Spec.Routes) == 0 && len(p.Spec.Includes) == 0 && p.Spec.TCPProxy == nil {
		b.report.Error(ref, status.SpecError, ReasonNothingDefined, "HTTPProxy.Spec must have at least one route, include or tcpproxy")
		return plan
	}
	if !b.jwtPermitted(ref, p) {
		return plan
	}
	b.warnGlobalRateLimitUnserved(ref, p.Spec.VirtualHost)
	ipFilter, ok := b.virtualHostIPFilter(ref, p.Spec.VirtualHost)
	if !ok {
		return plan
	}
	w := &proxyWalk{fqdn: fqdn, routes: make([]pendingRoute, 0, len(p.Spec.Routes))}
	var svh *SecureVirtualHost
	if tls := p.Spec.VirtualHost.TLS; tls != nil {
		var ok bool
		if svh, ok = b.rootTLS(ref, p, tls); !ok {
			return plan
		}
		w.tls = true
	}
	jwt, js, ok := b.virtualHostJWT(ref, p)
	if !ok {
		return plan
	}
	authz, as, ok := b.virtualHostAuthorization(ref, p, svh)
	if !ok || !b.fallbackCertificate(ref, p, svh) {
		return plan
	}
	var tcp *TCPProxy
	switch {
	case p.Spec.TCPProxy != nil:
		if tcp, ok = b.planTCPProxy(ref, p, svh); !ok {
			return plan
		}
	case svh != nil && svh.Passthrough:
		b.report.Warning(ref, status.TLSError, ReasonTLSConfigNotValid,
			"Spec.VirtualHost.TLS.Passthrough without a tcpproxy: port 443 serves nothing for this host; its routes are served on port 80 only, redirecting to https unless permitInsecure")
		svh = nil // no TLS host: there is nothing to pass the connection to
	case svh != nil:
		svh.JWTProviders, svh.Authorization = jwt, authz
	}
	b.walk(w, p, scope{jwt: js, auth: as}, []status.Ref{ref})
	if !b.planVirtualHost(&plan, w, p, ipFilter) {
		return plan
	}
	if tcp != nil {
		b.warnTCPProxyIgnores(ref, p, len(jwt) > 0)
	}
	plan.svh, plan.tcp, plan.tls = svh, tcp, w.tls
	return plan
}

// planVirtualHost completes plan with the routes root p's walk w collected
// and its virtual host's HTTP policies (ipFilter already read); false when
// the root is invalid, and its host then serves nothing.
func (b *builder) planVirtualHost(plan *rootPlan, w *proxyWalk, p *contourv1.HTTPProxy, ipFilter *IPFilter) bool {
	ref := proxyRef(p)
	rl, ok := b.vhostRateLimit(ref, p.Spec.VirtualHost)
	if w.invalid[ref] || !ok {
		return false
	}
	if plan.globalRateLimits, ok = b.vhostGlobalRateLimit(ref, p.Spec.VirtualHost); !ok {
		return false
	}
	// As in Contour, the CORS policy is read after the routes, and a bad
	// one invalidates the root (its host serves nothing).
	cors, ok := b.proxyCORS(ref, p)
	if !ok {
		return false
	}
	plan.rateLimit, plan.cors, plan.ipFilter = rl, cors, ipFilter
	plan.routes = w.routes[:0] // filtered in place: the walk is over
	for _, pr := range w.routes {
		if !w.invalid[pr.route.Source] {
			plan.routes = append(plan.routes, pr)
		}
	}
	return true
}

// planTCPProxy builds the tcpproxy of root p (svh is its secure virtual
// host, nil without TLS).
func (b *builder) planTCPProxy(ref status.Ref, p *contourv1.HTTPProxy, svh *SecureVirtualHost) (*TCPProxy, bool) {
	if svh == nil {
		b.report.Error(ref, status.TCPProxyError, "TLSMustBeConfigured", "Spec.TCPProxy requires that either Spec.TLS.Passthrough or Spec.TLS.SecretName be set")
		return nil, false
	}
	return b.tcpProxy(p, []status.Ref{ref})
}

// warnTCPProxyIgnores warns about the HTTP policies of tcpproxy root p
// that have no effect: those of its virtual host when it has no routes or
// includes (with some, they apply on port 80, as in Contour), and JWT
// providers (jwt set), which nothing verifies on port 80 either.
func (b *builder) warnTCPProxyIgnores(ref status.Ref, p *contourv1.HTTPProxy, jwt bool) {
	const why = "the tcpproxy takes the whole TLS connection, and no route is served on port 80"
	if jwt {
		b.report.Warning(ref, status.SpecError, ReasonIgnoredField,
			"Spec.VirtualHost.JWTProviders verify HTTP requests and are ignored: the tcpproxy takes the whole TLS connection, and port 80 verifies no tokens")
	}
	if len(p.Spec.Routes) > 0 || len(p.Spec.Includes) > 0 {
		return
	}
	vh := p.Spec.VirtualHost
	if rlp := vh.RateLimitPolicy; rlp != nil && rlp.Local != nil {
		b.report.Warning(ref, status.SpecError, ReasonIgnoredField, "Spec.VirtualHost.rateLimitPolicy.local is ignored: it limits HTTP requests, and %s", why)
	}
	if rlp := vh.RateLimitPolicy; rlp != nil && rlp.Global != nil && b.opts.RateLimitService.Configured() {
		b.report.Warning(ref, status.SpecError, ReasonIgnoredField, "Spec.VirtualHost.rateLimitPolicy.global is ignored: it limits HTTP requests, and %s", why)
	}
	if vh.CORSPolicy != nil {
		b.report.Warning(ref, status.SpecError, ReasonIgnoredField, "Spec.VirtualHost.CORSPolicy is ignored: %s", why)
	}
	if len(vh.IPAllowFilterPolicy) > 0 || len(vh.IPDenyFilterPolicy) > 0 {
		b.report.Warning(ref, status.SpecError, ReasonIgnoredField,
			"Spec.VirtualHost: ipAllowPolicy and ipDenyPolicy filter HTTP requests and are ignored: %s", why)
	}
}

// commitSecure records a validated secure virtual host in the graph.
func (b *builder) commitSecure(svh *SecureVirtualHost) { b.g.SecureVirtualHost(svh.Name).takeTLS(svh) }

// takeTLS sets the TLS settings of vh to those validated in svh.
func (vh *SecureVirtualHost) takeTLS(svh *SecureVirtualHost) {
	vh.Owner, vh.Secret, vh.MinTLS, vh.MaxTLS = svh.Owner, svh.Secret, svh.MinTLS, svh.MaxTLS
	vh.Passthrough, vh.ClientValidation = svh.Passthrough, svh.ClientValidation
	vh.JWTProviders, vh.Authorization, vh.Fallback = svh.JWTProviders, svh.Authorization, svh.Fallback
}

// walk collects the routes of p under s, then follows its includes, then
// adds the routes p's prefix rewrites need (expandPrefixRewrites). path is
// the chain of objects from the root, for cycle detection.
func (b *builder) walk(w *proxyWalk, p *contourv1.HTTPProxy, s scope, path []status.Ref) {
	ref := proxyRef(p)
	b.report.Valid(ref)
	if why, out := b.opts.Excluded[ref]; out {
		b.report.Error(ref, status.EnvoyRejected, ReasonEnvoyRejected, "%s", why)
		w.invalidate(ref)
		return
	}
	start := len(w.routes)
	b.proxyRoutes(w, p, s)
	own := len(w.routes)
	seen := map[MatchKey]int{}
	for i, inc := range p.Spec.Includes {
		key, childScope, notes, err := includeScope(s, inc)
		if err != nil {
			// As in Contour, the include is skipped (no 502 either: its
			// conditions say nothing that could be matched) and p, although
			// invalid, keeps serving its own routes and other includes.
			ce := err.(conditionError)
			b.report.Error(ref, includeConditionType(ce), ce.reason, "Spec.Includes[%d]: %s", i, err)
			continue
		}
		for _, n := range notes {
			b.report.Warning(ref, includeConditionType(n), n.reason, "Spec.Includes[%d]: %s", i, n.msg)
		}
		// As in Contour, includes that match everything (no conditions, or
		// a lone prefix /) are never duplicates: several may share a
		// parent's scope, their routes telling them apart.
		if !matchesEverything(key) {
			if j, dup := seen[key]; dup {
				b.report.Error(ref, status.IncludeError, ReasonDuplicateMatchConditions,
					"duplicate conditions defined on an include: Spec.Includes[%d] and Spec.Includes[%d]; the later one is ignored", j, i)
				continue
			}
			seen[key] = i
		}
		b.include(w, p, inc, childScope, path)
	}
	if !w.invalid[ref] {
		expandPrefixRewrites(w, start, own)
	}
}

// proxyRoutes collects the routes of p under s. Its Routes and their
// Backends are allocated in one block each.
func (b *builder) proxyRoutes(w *proxyWalk, p *contourv1.HTTPProxy, s scope) {
	block := make([]Route, len(p.Spec.Routes))
	services := 0
	for i := range p.Spec.Routes {
		services += len(p.Spec.Routes[i].Services)
	}
	b.backends = make([]Backend, 0, services) // see backendSlots
	// The routes share one SourceName, computed once.
	var name string
	for i := range p.Spec.Routes {
		r := &block[i]
		permitInsecure, err := b.proxyRoute(r, p, &p.Spec.Routes[i], i, s)
		if err != nil {
			w.invalidate(proxyRef(p))
			continue
		}
		if name == "" {
			name = SourceName(r.Source)
		}
		r.SourceName = name
		w.routes = append(w.routes, pendingRoute{route: r, permitInsecure: permitInsecure})
	}
}

// backendSlots returns an empty slice with room for n Backends, taken from
// the block walk allocated for the routes of one HTTPProxy while it lasts.
func (b *builder) backendSlots(n int) []Backend {
	have := len(b.backends)
	if cap(b.backends)-have < n {
		return make([]Backend, 0, n)
	}
	b.backends = b.backends[:have+n]
	return b.backends[have : have : have+n]
}

// includeConditionType is the condition type of an include's bad
// condition: an IncludeError for its path, a RouteError for its header and
// query-parameter conditions, as Contour files them.
func includeConditionType(ce conditionError) status.ConditionType {
	if ce.reason == ReasonPathMatchConditionsNotValid {
		return status.IncludeError
	}
	return status.RouteError
}

// matchesEverything reports whether an include's key (includeScope's) is
// that of no conditions or a lone prefix /.
func matchesEverything(k MatchKey) bool {
	return k.conds == "" && (k.Path.Value == "" || k.Path.Value == "/")
}

// includeScope validates an include's conditions and returns a key that
// identifies them (for duplicate detection), the scope for the child and
// the notes for warnings (conditionBlock's).
func includeScope(s scope, inc contourv1.Include) (MatchKey, scope, []conditionError, error) {
	cb, err := conditionsOf(inc.Conditions, true)
	if err != nil {
		return MatchKey{}, s, nil, err
	}
	child := scope{prefix: s.prefix, jwt: s.jwt, auth: s.auth, headers: append(append([]HeaderMatch(nil), s.headers...), cb.headers...),
		query: append(append([]QueryMatch(nil), s.query...), cb.query...)}
	if cb.hasPath {
		child.prefix = joinPrefix(s.prefix, cb.value)
	}
	probe := &Route{Path: PathMatch{Kind: PathPrefix, Value: cb.value}, Headers: cb.headers, Query: cb.query}
	return probe.Key(), child, cb.notes, nil
}

// include follows one include of parent, or answers 502 for its scope when
// the child is missing, a root, on a cycle, too deep or invalid. As in
// Contour, an include without conditions answers nothing then: it has no
// prefix of its own, and a 502 for the parent's whole scope would take
// the paths its other routes and includes leave unmatched.
func (b *builder) include(w *proxyWalk, parent *contourv1.HTTPProxy, inc contourv1.Include, s scope, path []status.Ref) {
	pref := proxyRef(parent)
	ns := inc.Namespace
	if ns == "" {
		ns = parent.Namespace
	}
	cref := status.Ref{Kind: status.KindHTTPProxy, Namespace: ns, Name: inc.Name}
	child, ok := b.lookupProxy(ns, inc.Name)
	ok = ok && b.classMatches(objectClass(child.Annotations, stringPtr(child.Spec.IngressClassName))) // another class's is not ours to see
	badGatewayRoute := func() {
		if len(inc.Conditions) > 0 {
			w.routes = append(w.routes, pendingRoute{route: badGateway(s, pref, parent)})
		}
	}
	fail := func(reason, format string, args ...any) {
		b.report.Error(pref, status.IncludeError, reason, format, args...)
		badGatewayRoute()
	}
	switch {
	case !b.includeGranted(parent.Namespace, ns):
		b.refuseInclude(pref, cref, ok, status.IncludeError)
		badGatewayRoute()
		return
	case !ok:
		fail(ReasonIncludeNotFound, "include %s/%s not found", ns, inc.Name)
		return
	case child.Spec.VirtualHost != nil:
		fail(ReasonRootIncludesRoot, "root httpproxy cannot include another root httpproxy: %s/%s", ns, inc.Name)
		return
	case len(path) >= maxIncludeDepth:
		fail(ReasonIncludeTooDeep, "include chain deeper than %d at %s/%s", maxIncludeDepth, ns, inc.Name)
		return
	}
	for _, r := range path {
		if r == cref {
			chain := make([]string, 0, len(path)+1)
			for _, x := range append(path, cref) {
				chain = append(chain, x.Namespace+"/"+x.Name)
			}
			fail(ReasonIncludeCreatesCycle, "include creates an include cycle: %s", strings.Join(chain, " -> "))
			return
		}
	}
	if len(child.Spec.Routes) == 0 && len(child.Spec.Includes) == 0 {
		b.report.Valid(cref)
		b.report.Error(cref, status.SpecError, ReasonNothingDefined, "HTTPProxy.Spec must have at least one route or include")
		badGatewayRoute()
		return
	}
	before := len(w.routes)
	// The child's path extends path in place when it has room: the walk
	// is depth-first, and no path outlives the walk it was given to.
	b.walk(w, child, s, append(path, cref))
	if w.invalid[cref] {
		// The invalid child contributes nothing; its scope answers 502 and
		// the parent says why, without becoming invalid itself.
		w.routes = w.routes[:before]
		badGatewayRoute()
		answer := "its routes answer 502"
		if len(inc.Conditions) == 0 {
			answer = "its routes are not served"
		}
		b.report.Warning(pref, status.IncludeError, ReasonIncludeNotValid, "included HTTPProxy %s/%s is invalid; %s", ns, inc.Name, answer)
	}
}

// badGateway is the route that answers 502 for an include that cannot be
// followed, limited to the include's conditions.
func badGateway(s scope, src status.Ref, p *contourv1.HTTPProxy) *Route {
	return &Route{Path: routePath(s, PathPrefix, "", false), Headers: s.headers, Query: s.query,
		DirectResponse: &DirectResponse{Code: 502}, Source: src, Age: ageOf(p)}
}
