package graph

import (
	"sort"
	"strings"
)

// SortedRoutes returns the routes of vh in the order Envoy must try them,
// Contour's order: exact paths, then regexes, then prefixes; longer values
// first (equal lengths in reverse lexical order); for the same prefix a
// segment prefix before a string prefix; then routes with more header
// conditions, then more query conditions, then by the conditions themselves.
// The order is total, so output never depends on insertion order.
func SortedRoutes(vh *VirtualHost) []*Route {
	out := make([]*Route, 0, len(vh.Routes))
	for _, r := range vh.Routes {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return routeLess(out[i], out[j]) })
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

func routeLess(a, b *Route) bool {
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
	ha, hb := headerKeys(a.Headers), headerKeys(b.Headers)
	for i := range ha {
		if ha[i] != hb[i] {
			return ha[i] < hb[i]
		}
	}
	qa, qb := queryKeys(a.Query), queryKeys(b.Query)
	for i := range qa {
		if qa[i] != qb[i] {
			return qa[i] < qb[i]
		}
	}
	if a.HTTPSRedirect != b.HTTPSRedirect {
		return !a.HTTPSRedirect
	}
	return a.Key() < b.Key()
}

// headerKeys renders header conditions sorted by name, kind rank, value,
// non-inverted first.
func headerKeys(hs []HeaderMatch) []string {
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
