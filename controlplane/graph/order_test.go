package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSortedRoutes(t *testing.T) {
	t.Parallel()
	vh := &VirtualHost{Name: "x", Routes: map[MatchKey]*Route{}}
	for _, r := range []*Route{
		{Path: PathMatch{PathPrefix, "/"}},
		{Path: PathMatch{PathPrefix, "/api"}},
		{Path: PathMatch{PathSegmentPrefix, "/api"}},
		{Path: PathMatch{PathPrefix, "/api"}, Headers: []HeaderMatch{{Name: "x", Kind: HeaderPresent}}},
		{Path: PathMatch{PathPrefix, "/api"}, Query: []QueryMatch{{Name: "q", Kind: QueryPresent}}},
		{Path: PathMatch{PathPrefix, "/b"}},
		{Path: PathMatch{PathPrefix, "/a"}},
		{Path: PathMatch{PathRegex, "/v[0-9]"}},
		{Path: PathMatch{PathRegex, "/[a-z]+/x"}},
		{Path: PathMatch{PathExact, "/health"}},
		{Path: PathMatch{PathExact, "/aaa"}},
	} {
		vh.AddRoute(r)
	}
	var got []string
	for _, r := range SortedRoutes(vh) {
		s := r.MatchString()
		if len(r.Headers) > 0 {
			s += " +header"
		}
		if len(r.Query) > 0 {
			s += " +query"
		}
		got = append(got, s)
	}
	want := []string{
		"exact:/health", "exact:/aaa", // exact first; equal length: reverse lexical
		"regex:/[a-z]+/x", "regex:/v[0-9]", // then regex, longer first
		"segment:/api",        // same prefix: segment before string
		"prefix:/api +header", // then more headers
		"prefix:/api +query",  // then more query conditions
		"prefix:/api",
		"prefix:/b", "prefix:/a", // equal length: reverse lexical
		"prefix:/",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
}
