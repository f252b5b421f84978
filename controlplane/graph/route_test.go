package graph

import "testing"

// TestMatchKey: routes have the same key exactly when they have the same
// path and the same sets of header and query conditions; a route without
// conditions has none in its key.
func TestMatchKey(t *testing.T) {
	h := func(name, value string) HeaderMatch { return HeaderMatch{Name: name, Kind: HeaderExact, Value: value} }
	q := QueryMatch{Name: "q", Kind: QueryPresent}
	route := func(kind PathKind, path string, hs []HeaderMatch, qs []QueryMatch) *Route {
		return &Route{Path: PathMatch{Kind: kind, Value: path}, Headers: hs, Query: qs}
	}
	base := route(PathPrefix, "/a", []HeaderMatch{h("x", "1"), h("Y", "2")}, []QueryMatch{q})
	if got, want := base.Key().String(), "prefix:/a\x00h:x|exact|1|false|false|false\x00h:y|exact|2|false|false|false\x00q:q|present||false"; got != want {
		t.Errorf("key %q, want %q", got, want)
	}
	if k := route(PathExact, "/a", nil, nil).Key(); k.String() != "exact:/a" || k.conds != "" {
		t.Errorf("key without conditions %q (conditions %q)", k, k.conds)
	}
	for _, tc := range []struct {
		name string
		r    *Route
		same bool
	}{
		{"headers in another order, another case", route(PathPrefix, "/a", []HeaderMatch{h("y", "2"), h("X", "1")}, []QueryMatch{q}), true},
		{"another path kind", route(PathSegmentPrefix, "/a", []HeaderMatch{h("x", "1"), h("Y", "2")}, []QueryMatch{q}), false},
		{"another path", route(PathPrefix, "/b", []HeaderMatch{h("x", "1"), h("Y", "2")}, []QueryMatch{q}), false},
		{"a header less", route(PathPrefix, "/a", []HeaderMatch{h("x", "1")}, []QueryMatch{q}), false},
		{"another header value", route(PathPrefix, "/a", []HeaderMatch{h("x", "1"), h("Y", "3")}, []QueryMatch{q}), false},
		{"no query", route(PathPrefix, "/a", []HeaderMatch{h("x", "1"), h("Y", "2")}, nil), false},
		{"inverted", route(PathPrefix, "/a", []HeaderMatch{h("x", "1"), {Name: "Y", Kind: HeaderExact, Value: "2", Invert: true}}, []QueryMatch{q}), false},
	} {
		if got := tc.r.Key() == base.Key(); got != tc.same {
			t.Errorf("%s: same key %v, want %v", tc.name, got, tc.same)
		}
	}
}
