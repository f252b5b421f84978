package graph

import (
	"fmt"
	"strings"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Reasons of the IngressRoute processor (v1.5.1 had only descriptions;
// these reuse Contour's HTTPProxy reason names where the meaning is the same).
const (
	ReasonDelegateNotFound  = "DelegateNotFound"
	ReasonPrefixMismatch    = "PrefixMismatch"
	ReasonRouteNotValid     = "RouteNotValid"
	ReasonDelegationCycle   = "DelegationCreatesCycle"
	ReasonRootDelegatesRoot = "RootDelegatesToRoot"
)

func routeRef(r *heptiov1beta1.IngressRoute) status.Ref {
	return status.Ref{Kind: status.KindIngressRoute, Namespace: r.Namespace, Name: r.Name}
}

// irWalk is one traversal from a root IngressRoute.
type irWalk struct {
	fqdn    string
	tls     bool
	routes  []pendingRoute
	invalid map[status.Ref]bool
}

// processIngressRoutes builds every root IngressRoute that owns its host,
// following per-route delegation. Unreached IngressRoutes are orphaned.
func (b *builder) processIngressRoutes() {
	for _, key := range source.SortedKeys(b.idx.IngressRoutes) {
		r := b.idx.IngressRoutes[key]
		class := objectClass(r.Annotations, nil)
		if !b.classMatches(class) {
			b.ignoredByClass(b.report, routeRef(r), class)
			continue
		}
		b.report.Track(routeRef(r))
	}
	for _, key := range source.SortedKeys(b.idx.IngressRoutes) {
		r := b.idx.IngressRoutes[key]
		if r.Spec.VirtualHost == nil || !b.classMatches(objectClass(r.Annotations, nil)) {
			continue
		}
		fqdn, err := normalizeFQDN(r.Spec.VirtualHost.Fqdn, false)
		if err != nil || !b.owns(routeRef(r), fqdn) {
			continue
		}
		b.processRootIngressRoute(r, fqdn)
	}
}

func (b *builder) processRootIngressRoute(r *heptiov1beta1.IngressRoute, fqdn string) {
	ref := routeRef(r)
	b.report.Valid(ref)
	w := &irWalk{fqdn: fqdn, invalid: map[status.Ref]bool{}}
	var svh *SecureVirtualHost
	if tls := r.Spec.VirtualHost.TLS; tls != nil {
		var ok bool
		if svh, ok = b.ingressRouteTLS(ref, r, fqdn, tls); !ok {
			return
		}
		w.tls = true
	}
	if r.Spec.TCPProxy != nil {
		if svh == nil {
			b.report.Error(ref, status.TCPProxyError, "TLSMustBeConfigured", "tcpproxy requires tls.secretName or tls.passthrough")
			return
		}
		tp, ok := b.ingressRouteTCPProxy(r, []status.Ref{ref})
		if !ok {
			return
		}
		b.commitSecure(svh)
		b.g.SecureVirtualHost(fqdn).TCPProxy = tp
		return
	}
	if svh != nil && svh.Passthrough {
		b.report.Error(ref, status.TLSError, ReasonTLSConfigNotValid, "tls.passthrough requires a tcpproxy")
		return
	}
	if len(r.Spec.Routes) == 0 {
		b.report.Error(ref, status.SpecError, ReasonNothingDefined, "the root has no routes and no tcpproxy")
		return
	}
	b.walkIngressRoute(w, r, "", []status.Ref{ref})
	if w.invalid[ref] {
		return
	}
	if svh != nil {
		b.commitSecure(svh)
	}
	for _, pr := range w.routes {
		if !w.invalid[pr.route.Source] {
			b.addRoute(fqdn, w.tls, pr.route, pr.permitInsecure)
		}
	}
}

func (b *builder) ingressRouteTLS(ref status.Ref, r *heptiov1beta1.IngressRoute, fqdn string, tls *heptiov1beta1.TLS) (*SecureVirtualHost, bool) {
	bad := func(reason, format string, args ...any) (*SecureVirtualHost, bool) {
		b.report.Error(ref, status.TLSError, reason, format, args...)
		return nil, false
	}
	if tls.Passthrough == (tls.SecretName != "") {
		return bad(ReasonTLSConfigNotValid, "tls: exactly one of secretName and passthrough must be set")
	}
	if v := tls.MinimumProtocolVersion; v != "" && v != "1.2" && v != "1.3" {
		return bad(ReasonTLSConfigNotValid, "tls.minimumProtocolVersion %q is not supported (1.2 or 1.3)", v)
	}
	svh := &SecureVirtualHost{VirtualHost: VirtualHost{Name: fqdn}, Owner: ref, MinTLS: tls.MinimumProtocolVersion, Passthrough: tls.Passthrough}
	if !tls.Passthrough {
		s, err := b.lookupTLSSecret(tls.SecretName, r.Namespace)
		if err != nil {
			le := err.(*LookupError)
			return bad(le.Reason, "tls %s", le.Message)
		}
		svh.Secret = s
		b.checkCertificateTime(ref, "tls.secretName", s)
	}
	return svh, true
}

// walkIngressRoute collects the routes of r; every match must start with
// parentMatch (the delegating route's match).
func (b *builder) walkIngressRoute(w *irWalk, r *heptiov1beta1.IngressRoute, parentMatch string, path []status.Ref) {
	ref := routeRef(r)
	b.report.Valid(ref)
	for i, rt := range r.Spec.Routes {
		if !strings.HasPrefix(rt.Match, parentMatch) {
			b.report.Error(ref, status.RouteError, ReasonPrefixMismatch,
				"routes[%d]: the path prefix %q does not match the parent's path prefix %q", i, rt.Match, parentMatch)
			w.invalid[ref] = true
			continue
		}
		if err := validatePath(PathPrefix, rt.Match); err != nil {
			b.report.Error(ref, status.RouteError, ReasonPathMatchConditionsNotValid, "routes[%d].match: %s", i, err)
			w.invalid[ref] = true
			continue
		}
		switch {
		case rt.Delegate != nil && len(rt.Services) > 0:
			b.report.Error(ref, status.RouteError, ReasonRouteNotValid, "routes[%d]: a route cannot have both services and a delegate", i)
			w.invalid[ref] = true
		case rt.Delegate != nil:
			b.delegate(w, r, rt, i, path)
		default:
			route, err := b.ingressRouteRoute(r, rt, i)
			if err != nil {
				w.invalid[ref] = true
				continue
			}
			w.routes = append(w.routes, pendingRoute{route: route, permitInsecure: rt.PermitInsecure})
		}
	}
}

// delegate follows route rt of parent to its delegate, or answers 502 for
// the route's prefix when the delegate is missing, a root, or on a cycle.
func (b *builder) delegate(w *irWalk, parent *heptiov1beta1.IngressRoute, rt heptiov1beta1.Route, i int, path []status.Ref) {
	pref := routeRef(parent)
	ns := rt.Delegate.Namespace
	if ns == "" {
		ns = parent.Namespace
	}
	cref := status.Ref{Kind: status.KindIngressRoute, Namespace: ns, Name: rt.Delegate.Name}
	badGateway := func() {
		w.routes = append(w.routes, pendingRoute{route: &Route{Path: PathMatch{Kind: PathPrefix, Value: rt.Match},
			DirectResponse: &DirectResponse{Code: 502}, Source: pref, Age: ageOf(parent)}})
	}
	fail := func(reason, format string, args ...any) {
		b.report.Error(pref, status.IncludeError, reason, format, args...)
		badGateway()
	}
	child, ok := b.idx.IngressRoutes[source.Key(ns, rt.Delegate.Name)]
	switch {
	case !b.includeGranted(parent.Namespace, ns):
		b.refuseInclude(pref, cref, ok, status.IncludeError)
		badGateway()
		return
	case !ok:
		fail(ReasonDelegateNotFound, "routes[%d]: delegate %s/%s not found (Contour v1.5.1 ignored this silently; Isobar answers 502 for %q)", i, ns, rt.Delegate.Name, rt.Match)
		return
	case child.Spec.VirtualHost != nil:
		fail(ReasonRootDelegatesRoot, "routes[%d]: root ingressroute cannot delegate to another root ingressroute (%s/%s)", i, ns, rt.Delegate.Name)
		return
	case len(path) >= maxIncludeDepth:
		fail(ReasonIncludeTooDeep, "routes[%d]: delegation chain deeper than %d", i, maxIncludeDepth)
		return
	}
	for _, r := range path {
		if r == cref {
			chain := make([]string, 0, len(path)+1)
			for _, x := range append(path, cref) {
				chain = append(chain, x.Namespace+"/"+x.Name)
			}
			fail(ReasonDelegationCycle, "route creates a delegation cycle: %s", strings.Join(chain, " -> "))
			return
		}
	}
	before := len(w.routes)
	b.walkIngressRoute(w, child, rt.Match, append(append([]status.Ref(nil), path...), cref))
	if w.invalid[cref] {
		w.routes = append(w.routes[:before], pendingRoute{route: &Route{Path: PathMatch{Kind: PathPrefix, Value: rt.Match},
			DirectResponse: &DirectResponse{Code: 502}, Source: pref, Age: ageOf(parent)}})
		b.report.Warning(pref, status.IncludeError, ReasonIncludeNotValid, "delegate %s/%s is invalid; %q answers 502", ns, rt.Delegate.Name, rt.Match)
	}
}

// ingressRouteRoute builds one route with services.
func (b *builder) ingressRouteRoute(r *heptiov1beta1.IngressRoute, rt heptiov1beta1.Route, i int) (*Route, error) {
	ref := routeRef(r)
	out := &Route{Path: PathMatch{Kind: PathPrefix, Value: rt.Match}, Websocket: rt.EnableWebsockets, Source: ref, Age: ageOf(r)}
	if len(rt.Services) == 0 {
		err := fmt.Errorf("routes[%d]: a route needs services or a delegate", i)
		b.report.Error(ref, status.RouteError, ReasonRouteNotValid, "%s", err)
		return nil, err
	}
	if rt.PrefixRewrite != "" {
		if strings.ContainsAny(rt.PrefixRewrite, "\r\n\x00") {
			err := fmt.Errorf("routes[%d].prefixRewrite %q contains a line break or NUL", i, rt.PrefixRewrite)
			b.report.Error(ref, status.RouteError, ReasonReplacementNotValid, "%s", err)
			return nil, err
		}
		out.PrefixRewrite = &PrefixRewrite{Prefix: rt.Match, Replacement: rt.PrefixRewrite}
	}
	if t := rt.TimeoutPolicy; t != nil && t.Request != "" {
		d, inf, err := parseTimeout(t.Request)
		if err != nil {
			b.report.Error(ref, status.RouteError, ReasonTimeoutPolicyNotValid, "routes[%d].timeoutPolicy.request %q is not a duration or \"infinity\"", i, t.Request)
			return nil, err
		}
		out.Timeouts.Response, out.Timeouts.ResponseInfinite = d, inf
	}
	if rp := rt.RetryPolicy; rp != nil {
		out.Retry = &RetryPolicy{RetryOn: []string{"5xx"}, NumRetries: max(1, rp.NumRetries)}
		if rp.PerTryTimeout != "" {
			d, _, err := parseTimeout(rp.PerTryTimeout)
			if err != nil {
				b.report.Error(ref, status.RouteError, ReasonRetryPolicyNotValid, "routes[%d].retryPolicy.perTryTimeout %q is not a duration", i, rp.PerTryTimeout)
				return nil, err
			}
			out.Retry.PerTryTimeout = d
		}
	}
	for j, s := range rt.Services {
		c, err := b.ingressRouteService(r, s)
		if err != nil {
			le := err.(*LookupError)
			b.report.Error(ref, status.ServiceError, le.Reason, "routes[%d].services[%d]: %s", i, j, le.Message)
			continue
		}
		out.Backends = append(out.Backends, Backend{Cluster: c, Weight: s.Weight})
	}
	return out, nil
}

// ingressRouteService resolves a service with its strategy, health check
// and upstream validation.
func (b *builder) ingressRouteService(r *heptiov1beta1.IngressRoute, s heptiov1beta1.Service) (*Cluster, error) {
	shared, err := b.lookupServicePort(r.Namespace, s.Name, s.Port)
	if err != nil {
		return nil, err
	}
	cc := *shared // lookupService's Cluster is shared: options are set on a copy
	c := &cc
	switch LoadBalancer(s.Strategy) {
	case WeightedLeastRequest, Random, Cookie:
		c.LoadBalancer = LoadBalancer(s.Strategy)
	}
	if h := s.HealthCheck; h != nil {
		interval, timeout, err := healthCheckTimes(h.IntervalSeconds, h.TimeoutSeconds)
		if err != nil {
			return nil, &LookupError{Reason: ReasonHealthCheckPolicyInvalid, Message: "healthCheck." + err.Error()}
		}
		if err := validatePath(PathExact, h.Path); err != nil {
			return nil, &LookupError{Reason: ReasonHealthCheckPolicyInvalid, Message: "healthCheck.path: " + err.Error()}
		}
		c.HealthCheck = &HealthCheck{Path: h.Path, Host: h.Host, Interval: interval, Timeout: timeout,
			UnhealthyThreshold: h.UnhealthyThresholdCount, HealthyThreshold: h.HealthyThresholdCount}
	}
	if v := s.UpstreamValidation; v != nil {
		ca, err := b.lookupCASecret(v.CACertificate, r.Namespace)
		if err != nil {
			return nil, &LookupError{Reason: ReasonTLSUpstreamValidation, Message: err.Error()}
		}
		c.Validation = &UpstreamValidation{CA: ca, SubjectNames: []string{v.SubjectName}}
		if c.Protocol == "" {
			c.Protocol = "tls"
		}
	}
	return c, nil
}

// ingressRouteTCPProxy builds a root's tcpproxy: services, or a delegate's.
func (b *builder) ingressRouteTCPProxy(r *heptiov1beta1.IngressRoute, path []status.Ref) (*TCPProxy, bool) {
	ref := routeRef(r)
	tp := r.Spec.TCPProxy
	if tp.Delegate != nil {
		ns := tp.Delegate.Namespace
		if ns == "" {
			ns = r.Namespace
		}
		cref := status.Ref{Kind: status.KindIngressRoute, Namespace: ns, Name: tp.Delegate.Name}
		child, ok := b.idx.IngressRoutes[source.Key(ns, tp.Delegate.Name)]
		if !b.includeGranted(r.Namespace, ns) {
			b.refuseInclude(ref, cref, ok, status.TCPProxyIncludeError)
			return nil, false
		}
		if !ok || child.Spec.TCPProxy == nil || child.Spec.VirtualHost != nil || len(path) >= maxIncludeDepth || containsRef(path, cref) {
			b.report.Error(ref, status.TCPProxyIncludeError, ReasonDelegateNotFound, "tcpproxy delegate %s/%s is missing, a root, on a cycle or has no tcpproxy", ns, tp.Delegate.Name)
			return nil, false
		}
		b.report.Valid(cref)
		return b.ingressRouteTCPProxy(child, append(append([]status.Ref(nil), path...), cref))
	}
	if len(tp.Services) == 0 {
		b.report.Error(ref, status.TCPProxyError, ReasonNothingDefined, "tcpproxy needs services or a delegate")
		return nil, false
	}
	out := &TCPProxy{Source: ref}
	for j, s := range tp.Services {
		c, err := b.ingressRouteService(r, s)
		if err != nil {
			le := err.(*LookupError)
			b.report.Error(ref, status.TCPProxyError, le.Reason, "tcpproxy.services[%d]: %s", j, le.Message)
			return nil, false
		}
		out.Backends = append(out.Backends, Backend{Cluster: c, Weight: s.Weight})
	}
	return out, true
}

func containsRef(refs []status.Ref, r status.Ref) bool {
	for _, x := range refs {
		if x == r {
			return true
		}
	}
	return false
}
