package graph

import (
	"slices"
	"sort"
	"strings"
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
	items := make([]sortItem, 0, len(vh.Routes))
	for k, r := range vh.Routes {
		items = append(items, sortItem{route: r, key: k, headers: headerKeys(r.Headers), query: queryKeys(r.Query)})
	}
	sort.Slice(items, func(i, j int) bool { return routeLess(&items[i], &items[j]) })
	out := make([]*Route, len(items))
	for i := range items {
		out[i] = items[i].route
	}
	return out
}

// sortItem is a route with what ordering compares, computed once.
type sortItem struct {
	route          *Route
	key            MatchKey
	headers, query []string
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

func routeLess(x, y *sortItem) bool {
	a, b := x.route, y.route
	if ra, rb := pathRank(a.Path.Kind), pathRank(b.Path.Kind); ra != rb {
		return ra < rb
	}
	if len(a.Path.Value) != len(b.Path.Value) {
		return len(a.Path.Value) > len(b.Path.Value)
	}
	if a.Path.Value != b.Path.Value {
		return a.Path.Value > b.Path.Value
	}
	if a.Path.Kind != b.Path.Kind { // same prefix: segment before string
		return a.Path.Kind == PathSegmentPrefix
	}
	if len(a.Headers) != len(b.Headers) {
		return len(a.Headers) > len(b.Headers)
	}
	if len(a.Query) != len(b.Query) {
		return len(a.Query) > len(b.Query)
	}
	if c := slices.Compare(x.headers, y.headers); c != 0 {
		return c < 0
	}
	if c := slices.Compare(x.query, y.query); c != 0 {
		return c < 0
	}
	if a.HTTPSRedirect != b.HTTPSRedirect {
		return !a.HTTPSRedirect
	}
	return x.key < y.key
}

// headerKeys renders header conditions sorted by name, kind rank, value,
// non-inverted first.
func headerKeys(hs []HeaderMatch) []string {
	if len(hs) == 0 {
		return nil
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		inv := "0"
		if h.Invert {
			inv = "1"
		}
		out[i] = strings.ToLower(h.Name) + "\x00" + string(rune('0'+h.Kind)) + "\x00" + h.Value + "\x00" + inv
	}
	sort.Strings(out)
	return out
}

func queryKeys(qs []QueryMatch) []string {
	if len(qs) == 0 {
		return nil
	}
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.Name + "\x00" + string(rune('0'+q.Kind)) + "\x00" + q.Value
	}
	sort.Strings(out)
	return out
}

// SortedVirtualHosts returns the insecure virtual hosts sorted by name.
func SortedVirtualHosts(g *Graph) []*VirtualHost {
	out := make([]*VirtualHost, 0, len(g.VirtualHosts))
	for _, vh := range g.VirtualHosts {
		out = append(out, vh)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SortedSecureVirtualHosts returns the secure virtual hosts sorted by name.
func SortedSecureVirtualHosts(g *Graph) []*SecureVirtualHost {
	out := make([]*SecureVirtualHost, 0, len(g.SecureVirtualHosts))
	for _, vh := range g.SecureVirtualHosts {
		out = append(out, vh)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
