package translate

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// blocks are where the routes of one virtual host take their messages
// from: one allocation per kind of message for the whole host rather than
// one per route (S10k has 70k routes on 14k hosts). Each take falls back
// to a new allocation when its block runs short, so the counts newBlocks
// makes only decide how much is allocated at once.
type blocks struct {
	routes   []routeSlot
	forwards []forwardSlot
	matchers []*routev3.HeaderMatcher
	splits   []weightedBlock
	weights  []clusterWeightSlot
	weighted []*routev3.WeightedCluster_ClusterWeight
	plain    plainForwards
}

// newBlocks sizes the blocks of routes; with authority, every route gets
// that header condition before its own.
func newBlocks(routes []*graph.Route, authority bool) blocks {
	var forwarding, matchers, splits, weights int
	var seen plainForwards // as forwardAction will meet them
	for _, r := range routes {
		matchers += len(r.Headers)
		if authority {
			matchers++
		}
		if forwards(r) {
			// The routes to a cluster met before share its action, unless
			// one has options (plainCluster, not asked here: it would cost
			// more than the rare route that takes its slot from a new
			// allocation).
			if len(r.Backends) == 1 {
				c := r.Backends[0].Cluster
				if _, ok := seen.find(c); ok {
					continue
				}
				seen.add(c, nil)
			}
			forwarding++
			if len(r.Backends) > 1 || weighsEach(r) {
				splits++
				weights += len(r.Backends)
			}
		}
	}
	return blocks{
		routes: make([]routeSlot, len(routes)), forwards: make([]forwardSlot, forwarding),
		matchers: make([]*routev3.HeaderMatcher, matchers),
		splits:   make([]weightedBlock, splits), weights: make([]clusterWeightSlot, weights),
		weighted: make([]*routev3.WeightedCluster_ClusterWeight, weights),
	}
}

// take returns the next n elements of *block, with no room to grow,
// allocating them when *block holds fewer.
func take[T any](block *[]T, n int) []T {
	if len(*block) < n {
		return make([]T, n)
	}
	out := (*block)[:n:n]
	*block = (*block)[n:]
	return out
}

// routeSlot holds the messages every route uses.
type routeSlot struct {
	route  routev3.Route
	match  routev3.RouteMatch
	prefix routev3.RouteMatch_Prefix
}

// forwardSlot holds the messages of a route that forwards to its backends
// (a single cluster's name in cluster).
type forwardSlot struct {
	action  routev3.RouteAction
	forward routev3.Route_Route
	cluster routev3.RouteAction_Cluster
}

// headerSlot holds the messages of a header condition (exact: of one that
// matches an exact value, the common kind).
type headerSlot struct {
	header routev3.HeaderMatcher
	match  routev3.HeaderMatcher_StringMatch
	value  matcherv3.StringMatcher
	exact  matcherv3.StringMatcher_Exact
}

// weightedBlock holds a route's weighted clusters with their oneof wrapper.
type weightedBlock struct {
	specifier routev3.RouteAction_WeightedClusters
	clusters  routev3.WeightedCluster
}

// clusterWeightSlot is a weighted cluster with its weight.
type clusterWeightSlot struct {
	cluster routev3.WeightedCluster_ClusterWeight
	weight  wrapperspb.UInt32Value
}

// headerMatchers are the header conditions of r, after authority when it
// is not nil, in a list from b.
func (t *translator) headerMatchers(b *blocks, r *graph.Route, authority *routev3.HeaderMatcher) []*routev3.HeaderMatcher {
	n := len(r.Headers)
	if authority != nil {
		n++
	}
	if n == 0 {
		return nil
	}
	out := take(&b.matchers, n)
	i := 0
	if authority != nil {
		out[0], i = authority, 1
	}
	for k, h := range r.Headers {
		out[i+k] = t.headerMatcher(h)
	}
	return out
}

// headerMatcher returns the message of the header condition h: one per
// distinct condition, shared by the routes t translates and never
// modified (the routes of S10k have 19,598 header conditions, 5 of them
// distinct; validateVirtualHost checks each message once).
func (t *translator) headerMatcher(h graph.HeaderMatch) *routev3.HeaderMatcher {
	if m, ok := t.headerMemo[h]; ok {
		return m
	}
	if t.headerMemo == nil {
		t.headerMemo = map[graph.HeaderMatch]*routev3.HeaderMatcher{}
	}
	m := headerMatcher(h)
	t.headerMemo[h] = m
	return m
}

// plainForwards are the first plainShared plain clusters (plainCluster)
// the routes of a host forward to, each with the action built for the
// first route: the later routes to that cluster share it (one message
// fewer to build, and to validate: see validateVirtualHost).
type plainForwards struct {
	clusters [plainShared]*graph.Cluster
	actions  [plainShared]*routev3.Route_Route
	n        int
}

// plainShared is how many plain clusters a host's routes share actions
// for: the routes of an object mostly name a few Services.
const plainShared = 4

// find returns the action kept for c, and whether c is kept.
func (p *plainForwards) find(c *graph.Cluster) (*routev3.Route_Route, bool) {
	for i := range p.n {
		if p.clusters[i] == c {
			return p.actions[i], true
		}
	}
	return nil, false
}

// add keeps action as that of c while there is room.
func (p *plainForwards) add(c *graph.Cluster, action *routev3.Route_Route) {
	if p.n < plainShared {
		p.clusters[p.n], p.actions[p.n] = c, action
		p.n++
	}
}
