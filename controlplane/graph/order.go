package graph

import (
	"cmp"
	"slices"
	"strings"

	"github.com/isobar-dev/isobar/internal/parallel"
)

// SortedRoutes returns the routes of vh in the order Envoy must try them,
// Contour's order: exact paths, then regexes, then prefixes; longer values
// first (equal lengths in reverse lexical order); for the same prefix a
// segment prefix before a string prefix; then routes with more header
// conditions, then more query conditions, then by the conditions themselves.
// The order is total, so output never depends on insertion order.
// The slice may be shared: callers must not modify it.
func SortedRoutes(vh *VirtualHost) []*Route {
	if vh.sorted != nil && len(vh.sorted) == len(vh.Routes) {
		return vh.sorted
	}
	out := make([]*Route, 0, len(vh.Routes))
	for _, r := range vh.Routes {
		out = append(out, r)
	}
	// The orderKeys of a route, computed when first compared: only routes
	// that tie up to their conditions need them (few do).
	var conds map[*Route][]string
	keys := func(r *Route) []string {
		k, ok := conds[r]
		if !ok {
			if conds == nil {
				conds = map[*Route][]string{}
			}
			k = orderKeys(r)
			conds[r] = k
		}
		return k
	}
	slices.SortFunc(out, func(x, y *Route) int { return routeCompare(x, y, keys) })
	return out
}

// pathRank orders path kinds: exact 0, regex 1, prefixes 2.
func pathRank(k PathKind) int {
	switch k {
	case PathExact:
		return 0
	case PathRegex:
		return 1
	}
	return 2
}

// routeCompare is -1 when a comes before b in SortedRoutes's order, +1
// when after (0 only for the same route); keys returns a route's
// orderKeys.
func routeCompare(a, b *Route, keys func(*Route) []string) int {
	if ra, rb := pathRank(a.Path.Kind), pathRank(b.Path.Kind); ra != rb {
		return cmp.Compare(ra, rb)
	}
	if len(a.Path.Value) != len(b.Path.Value) {
		return cmp.Compare(len(b.Path.Value), len(a.Path.Value)) // longer first
	}
	if c := strings.Compare(b.Path.Value, a.Path.Value); c != 0 { // reverse lexical
		return c
	}
	if a.Path.Kind != b.Path.Kind { // same prefix: segment before string
		return boolFirst(a.Path.Kind == PathSegmentPrefix)
	}
	if len(a.Headers) != len(b.Headers) {
		return cmp.Compare(len(b.Headers), len(a.Headers)) // more first
	}
	if len(a.Query) != len(b.Query) {
		return cmp.Compare(len(b.Query), len(a.Query))
	}
	if len(a.Headers)+len(a.Query) == 0 { // the same match key: the same route
		return 0
	}
	// As many header conditions and query conditions: the header keys,
	// then the query keys.
	if c := slices.Compare(keys(a), keys(b)); c != 0 {
		return c
	}
	if a.HTTPSRedirect != b.HTTPSRedirect {
		return boolFirst(!a.HTTPSRedirect)
	}
	// The same path: the match keys differ in their conditions only, in
	// flags orderKeys leaves out (rare: not worth keeping).
	return strings.Compare(conditionsKey(a), conditionsKey(b))
}

// boolFirst is -1 when first, +1 otherwise: the comparison of two items
// that differ in a flag, the one with first set going first.
func boolFirst(first bool) int {
	if first {
		return -1
	}
	return 1
}

// orderKeys renders the conditions of r as the order compares them, in
// one slice: its header conditions sorted by name, kind rank, value,
// non-inverted first, then its query conditions sorted by name, kind rank
// and value.
func orderKeys(r *Route) []string {
	if len(r.Headers)+len(r.Query) == 0 {
		return nil
	}
	out := make([]string, 0, len(r.Headers)+len(r.Query))
	for _, h := range r.Headers {
		inv := "0"
		if h.Invert {
			inv = "1"
		}
		out = append(out, strings.ToLower(h.Name)+"\x00"+string(rune('0'+h.Kind))+"\x00"+h.Value+"\x00"+inv)
	}
	for _, q := range r.Query {
		out = append(out, q.Name+"\x00"+string(rune('0'+q.Kind))+"\x00"+q.Value)
	}
	slices.Sort(out[:len(r.Headers)])
	slices.Sort(out[len(r.Headers):])
	return out
}

// SortedVirtualHosts returns the insecure virtual hosts sorted by name.
func SortedVirtualHosts(g *Graph) []*VirtualHost {
	out := make([]*VirtualHost, 0, len(g.VirtualHosts))
	for _, vh := range g.VirtualHosts {
		out = append(out, vh)
	}
	parallel.SortFunc(out, func(a, b *VirtualHost) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// SortedSecureVirtualHosts returns the secure virtual hosts sorted by name.
func SortedSecureVirtualHosts(g *Graph) []*SecureVirtualHost {
	out := make([]*SecureVirtualHost, 0, len(g.SecureVirtualHosts))
	for _, vh := range g.SecureVirtualHosts {
		out = append(out, vh)
	}
	parallel.SortFunc(out, func(a, b *SecureVirtualHost) int { return strings.Compare(a.Name, b.Name) })
	return out
}
