package translate

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	previousroutesv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/internal_redirect/previous_routes/v3"
	safecrossschemev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/internal_redirect/safe_cross_scheme/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// sessionCookie is the cookie of the Cookie load-balancing strategy.
const sessionCookie = "X-Contour-Session-Affinity"

// forwardAction is the action of r, which forwards: that of an earlier
// route of the host when both forward to the same plain cluster (shared,
// never modified), otherwise built in a slot of b.
func (t *translator) forwardAction(b *blocks, r *graph.Route) *routev3.Route_Route {
	c := plainCluster(r)
	if c != nil {
		if shared, ok := b.plain.find(c); ok {
			return shared
		}
	}
	f := &take(&b.forwards, 1)[0]
	f.forward.Route = t.routeAction(b, r, f)
	if c != nil {
		b.plain.add(c, &f.forward)
	}
	return &f.forward
}

// plainCluster is the cluster r forwards all its traffic to when its
// action names that cluster and nothing else (routeAction sets no other
// field), nil otherwise: every such route to one cluster has the same
// action.
func plainCluster(r *graph.Route) *graph.Cluster {
	if len(r.Backends) != 1 || weighsEach(r) || r.Timeouts != (graph.Timeouts{}) || r.Retry != nil ||
		r.PrefixRewrite != nil || r.Mirror != nil || r.Websocket || r.InternalRedirect != nil || len(r.GlobalRateLimits) > 0 {
		return nil
	}
	if h := r.RequestHeaders; h != nil && (h.HostRewrite != "" || h.HostRewriteHeader != "") {
		return nil
	}
	c := r.Backends[0].Cluster
	if c.LoadBalancer == graph.Cookie || c.LoadBalancer == graph.RequestHash { // hash policies
		return nil
	}
	return c
}

// routeAction fills f's action, which it returns, to forward to the route's
// backends with its policies (f's cluster when a single cluster is named,
// weighted clusters from b otherwise). Nothing else writes the action:
// plainCluster relies on it.
func (t *translator) routeAction(b *blocks, r *graph.Route, f *forwardSlot) *routev3.RouteAction {
	a, one := &f.action, &f.cluster
	weighted := weighsEach(r)
	if len(r.Backends) == 1 && !weighted {
		one.Cluster = t.cluster(r.Backends[0].Cluster)
		a.ClusterSpecifier = one
	} else {
		var buf [4]uint32
		weights := fillWeights(buf[:0], r.Backends)
		if n, first := sharing(weights); n == 1 && !weighted {
			one.Cluster = t.cluster(r.Backends[first].Cluster)
			a.ClusterSpecifier = one
		} else {
			a.ClusterSpecifier = t.weightedClusters(b, r, weights, n)
		}
	}
	switch {
	case r.Timeouts.ResponseInfinite:
		a.Timeout = durationpb.New(0)
	case r.Timeouts.Response > 0:
		a.Timeout = durationpb.New(r.Timeouts.Response)
	}
	switch {
	case r.Timeouts.IdleInfinite:
		a.IdleTimeout = durationpb.New(0)
	case r.Timeouts.Idle > 0:
		a.IdleTimeout = durationpb.New(r.Timeouts.Idle)
	}
	if p := r.Retry; p != nil {
		a.RetryPolicy = &routev3.RetryPolicy{
			RetryOn:              strings.Join(p.RetryOn, ","),
			NumRetries:           wrapperspb.UInt32(p.NumRetries), // 0 is no retry: Envoy's default, when left out, is 1
			PerTryTimeout:        envoy.Duration(p.PerTryTimeout),
			RetriableStatusCodes: p.RetriableStatusCodes,
		}
	}
	if p := r.PrefixRewrite; p != nil {
		a.PrefixRewrite = p.Replacement
	}
	if h := r.RequestHeaders; h != nil {
		switch {
		case h.HostRewrite != "":
			a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: h.HostRewrite}
		case h.HostRewriteHeader != "":
			a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteHeader{HostRewriteHeader: h.HostRewriteHeader}
		}
	}
	if m := r.Mirror; m != nil {
		a.RequestMirrorPolicies = []*routev3.RouteAction_RequestMirrorPolicy{{
			Cluster: t.cluster(m.Cluster),
			RuntimeFraction: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{
				Numerator: m.Percent, Denominator: typev3.FractionalPercent_HUNDRED,
			}},
		}}
	}
	a.HashPolicy = hashPolicies(r)
	if r.Websocket {
		a.UpgradeConfigs = []*routev3.RouteAction_UpgradeConfig{{UpgradeType: "websocket"}}
	}
	if ir := r.InternalRedirect; ir != nil {
		a.InternalRedirectPolicy = internalRedirectPolicy(ir)
	}
	if len(r.GlobalRateLimits) > 0 {
		a.RateLimits = globalRateLimits(r.GlobalRateLimits)
	}
	return a
}

// Envoy's internal redirect predicates, as Contour names them; shared, never
// modified.
var (
	safeCrossSchemePredicate = &corev3.TypedExtensionConfig{
		Name:        "envoy.internal_redirect_predicates.safe_cross_scheme",
		TypedConfig: envoy.Any(&safecrossschemev3.SafeCrossSchemeConfig{}),
	}
	previousRoutesPredicate = &corev3.TypedExtensionConfig{
		Name:        "envoy.internal_redirect_predicates.previous_routes",
		TypedConfig: envoy.Any(&previousroutesv3.PreviousRoutesConfig{}),
	}
)

// internalRedirectPolicy is Contour's: a redirect to another scheme is
// followed Always, or SafeOnly (from https requests only: the
// safe_cross_scheme predicate), and DenyRepeatedRouteRedirect adds the
// previous_routes predicate (no redirect to a route already taken).
func internalRedirectPolicy(ir *graph.InternalRedirect) *routev3.InternalRedirectPolicy {
	out := &routev3.InternalRedirectPolicy{
		MaxInternalRedirects:     envoy.UInt32(ir.MaxRedirects),
		RedirectResponseCodes:    ir.Codes,
		AllowCrossSchemeRedirect: ir.CrossScheme == graph.CrossSchemeAlways || ir.CrossScheme == graph.CrossSchemeSafeOnly,
	}
	if ir.CrossScheme == graph.CrossSchemeSafeOnly {
		out.Predicates = append(out.Predicates, safeCrossSchemePredicate)
	}
	if ir.DenyRepeatedRouteRedirect {
		out.Predicates = append(out.Predicates, previousRoutesPredicate)
	}
	return out
}

// sharing is the number of backends with a share of the traffic (a
// non-zero weight), and the index of the first.
func sharing(weights []uint32) (n, first int) {
	first = -1
	for i, w := range weights {
		if w != 0 {
			if n == 0 {
				first = i
			}
			n++
		}
	}
	return n, first
}

// weightedClusters splits r's traffic over the n of its backends whose
// weight is not zero, with their header policies (a Host rewrite too) and
// cookie rewrites.
func (t *translator) weightedClusters(b *blocks, r *graph.Route, weights []uint32, n int) *routev3.RouteAction_WeightedClusters {
	block := &take(&b.splits, 1)[0]
	block.specifier.WeightedClusters = &block.clusters
	slots, out := take(&b.weights, n), take(&b.weighted, n)[:0]
	for i, backend := range r.Backends {
		if weights[i] == 0 {
			continue
		}
		s := &slots[len(out)]
		cw := &s.cluster
		s.weight.Value = weights[i]
		cw.Name, cw.Weight = t.cluster(backend.Cluster), &s.weight
		cw.RequestHeadersToAdd, cw.RequestHeadersToRemove = headers(backend.RequestHeaders)
		if h := backend.RequestHeaders; h != nil && h.HostRewrite != "" { // over the route's, in Envoy
			cw.HostRewriteSpecifier = &routev3.WeightedCluster_ClusterWeight_HostRewriteLiteral{HostRewriteLiteral: h.HostRewrite}
		}
		cw.ResponseHeadersToAdd, cw.ResponseHeadersToRemove = headers(backend.ResponseHeaders)
		addCookieRewrite(&cw.TypedPerFilterConfig, r.CookieRewrites, backend.CookieRewrites)
		out = append(out, cw)
	}
	block.clusters.Clusters = out
	return &block.specifier
}

// weighsEach reports whether r needs weighted clusters even for a single
// backend: per-backend headers and cookie rewrites live there.
func weighsEach(r *graph.Route) bool {
	return perBackendHeaders(r.Backends) || hasCookieRewrites(r)
}

func perBackendHeaders(bs []graph.Backend) bool {
	for _, b := range bs {
		if b.RequestHeaders != nil || b.ResponseHeaders != nil {
			return true
		}
	}
	return false
}

// hashPolicies are the inputs of the ring-hash load balancer: the session
// cookie for Cookie, the configured ones for RequestHash.
func hashPolicies(r *graph.Route) []*routev3.RouteAction_HashPolicy {
	if len(r.Backends) == 0 {
		return nil
	}
	switch r.Backends[0].Cluster.LoadBalancer {
	case graph.Cookie:
		return []*routev3.RouteAction_HashPolicy{{PolicySpecifier: &routev3.RouteAction_HashPolicy_Cookie_{
			Cookie: &routev3.RouteAction_HashPolicy_Cookie{Name: sessionCookie, Ttl: durationpb.New(0), Path: "/"},
		}}}
	case graph.RequestHash:
	default:
		return nil
	}
	var out []*routev3.RouteAction_HashPolicy
	for _, h := range r.HashPolicies {
		hp := &routev3.RouteAction_HashPolicy{Terminal: h.Terminal}
		switch {
		case h.Header != "":
			hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_Header_{Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: h.Header}}
		case h.Query != "":
			hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_QueryParameter_{QueryParameter: &routev3.RouteAction_HashPolicy_QueryParameter{Name: h.Query}}
		case h.Cookie != "":
			hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_Cookie_{Cookie: &routev3.RouteAction_HashPolicy_Cookie{Name: h.Cookie}}
		case h.SourceIP:
			hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_ConnectionProperties_{ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true}}
		default:
			continue
		}
		out = append(out, hp)
	}
	return out
}
