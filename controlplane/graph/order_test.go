package graph

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// describe renders a route's conditions for order expectations.
func describe(r *Route) string {
	s := r.MatchString()
	for _, h := range r.Headers {
		not := ""
		if h.Invert {
			not = "!"
		}
		s += fmt.Sprintf(" h:%s%s=%s:%s", not, h.Name, h.Kind, h.Value)
		if h.TreatMissingAsEmpty {
			s += " ~"
		}
		if h.IgnoreCase {
			s += " ^"
		}
	}
	for _, q := range r.Query {
		s += fmt.Sprintf(" q:%s=%s:%s", q.Name, q.Kind, q.Value)
	}
	return s
}

func TestSortedRoutes(t *testing.T) {
	t.Parallel()
	p := func(k PathKind, v string, hs []HeaderMatch, qs []QueryMatch) *Route {
		return &Route{Path: PathMatch{k, v}, Headers: hs, Query: qs}
	}
	hdr := func(name string, k HeaderMatchKind, v string, inv bool) HeaderMatch {
		return HeaderMatch{Name: name, Kind: k, Value: v, Invert: inv}
	}
	for _, tc := range []struct {
		name   string
		routes []*Route
		want   []string
	}{
		{
			name: "path kinds and lengths",
			routes: []*Route{
				p(PathPrefix, "/", nil, nil),
				p(PathPrefix, "/api", nil, nil),
				p(PathSegmentPrefix, "/api", nil, nil),
				p(PathPrefix, "/b", nil, nil),
				p(PathPrefix, "/a", nil, nil),
				p(PathSegmentPrefix, "/ab", nil, nil),
				p(PathRegex, "/v[0-9]", nil, nil),
				p(PathRegex, "/[a-z]+/x", nil, nil),
				p(PathRegex, "/w[0-9]", nil, nil),
				p(PathExact, "/health", nil, nil),
				p(PathExact, "/aaa", nil, nil),
				p(PathExact, "/zzz", nil, nil),
			},
			want: []string{
				"exact:/health", "exact:/zzz", "exact:/aaa", // exact first; longer first, then reverse lexical
				"regex:/[a-z]+/x", "regex:/w[0-9]", "regex:/v[0-9]", // then regexes
				"segment:/api", "prefix:/api", // same prefix: segment first
				"segment:/ab", "prefix:/b", "prefix:/a", // segment and string prefixes sort together
				"prefix:/",
			},
		},
		{
			name: "more header conditions, then more query conditions",
			routes: []*Route{
				p(PathPrefix, "/api", nil, nil),
				p(PathPrefix, "/api", nil, []QueryMatch{{Name: "q", Kind: QueryPresent}}),
				p(PathPrefix, "/api", []HeaderMatch{hdr("x", HeaderPresent, "", false)}, nil),
				p(PathPrefix, "/api", []HeaderMatch{hdr("x", HeaderPresent, "", false), hdr("y", HeaderPresent, "", false)}, nil),
				p(PathPrefix, "/api", []HeaderMatch{hdr("x", HeaderPresent, "", false)}, []QueryMatch{{Name: "q", Kind: QueryPresent}}),
			},
			want: []string{
				"prefix:/api h:x=present: h:y=present:",
				"prefix:/api h:x=present: q:q=present:",
				"prefix:/api h:x=present:",
				"prefix:/api q:q=present:",
				"prefix:/api",
			},
		},
		{
			name: "header conditions item by item: name, kind rank, value, non-inverted first",
			routes: []*Route{
				p(PathPrefix, "/", []HeaderMatch{hdr("b", HeaderExact, "v", false)}, nil),
				p(PathPrefix, "/", []HeaderMatch{hdr("a", HeaderPresent, "", false)}, nil),
				p(PathPrefix, "/", []HeaderMatch{hdr("a", HeaderExact, "z", false)}, nil),
				p(PathPrefix, "/", []HeaderMatch{hdr("a", HeaderExact, "y", true)}, nil),
				p(PathPrefix, "/", []HeaderMatch{hdr("a", HeaderExact, "y", false)}, nil),
				p(PathPrefix, "/", []HeaderMatch{hdr("a", HeaderContains, "y", false)}, nil),
				p(PathPrefix, "/", []HeaderMatch{hdr("a", HeaderRegex, "y", false)}, nil),
			},
			want: []string{
				"prefix:/ h:a=exact:y",
				"prefix:/ h:!a=exact:y",
				"prefix:/ h:a=exact:z",
				"prefix:/ h:a=regex:y",
				"prefix:/ h:a=contains:y",
				"prefix:/ h:a=present:",
				"prefix:/ h:b=exact:v",
			},
		},
		{
			name: "query conditions item by item; conditions compared as sorted lists",
			routes: []*Route{
				p(PathExact, "/q", nil, []QueryMatch{{Name: "a", Kind: QueryPresent}}),
				p(PathExact, "/q", nil, []QueryMatch{{Name: "a", Kind: QueryPrefix, Value: "x"}}),
				p(PathExact, "/q", nil, []QueryMatch{{Name: "a", Kind: QueryExact, Value: "x"}}),
				p(PathExact, "/q", nil, []QueryMatch{{Name: "b", Kind: QueryExact, Value: "x"}, {Name: "a", Kind: QueryExact, Value: "y"}}),
				p(PathExact, "/q", nil, []QueryMatch{{Name: "a", Kind: QueryExact, Value: "x"}, {Name: "c", Kind: QueryExact, Value: "x"}}),
			},
			want: []string{
				"exact:/q q:a=exact:x q:c=exact:x",
				"exact:/q q:b=exact:x q:a=exact:y",
				"exact:/q q:a=exact:x",
				"exact:/q q:a=prefix:x",
				"exact:/q q:a=present:",
			},
		},
		{
			name: "conditions that differ only in flags the order ignores: the match key decides",
			routes: []*Route{
				p(PathPrefix, "/", []HeaderMatch{{Name: "a", Kind: HeaderExact, Value: "v", IgnoreCase: true}}, nil),
				p(PathPrefix, "/", []HeaderMatch{{Name: "a", Kind: HeaderExact, Value: "v", TreatMissingAsEmpty: true}}, nil),
				p(PathPrefix, "/", []HeaderMatch{{Name: "a", Kind: HeaderExact, Value: "v"}}, nil),
			},
			want: []string{"prefix:/ h:a=exact:v", "prefix:/ h:a=exact:v ~", "prefix:/ h:a=exact:v ^"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, reversed := range []bool{false, true} {
				vh := &VirtualHost{Name: "x", Routes: map[MatchKey]*Route{}}
				routes := slices.Clone(tc.routes)
				if reversed {
					slices.Reverse(routes)
				}
				for _, r := range routes {
					if loser := vh.AddRoute(r); loser != nil {
						t.Fatalf("duplicate route in the table: %s", describe(loser))
					}
				}
				var got []string
				for _, r := range SortedRoutes(vh) {
					got = append(got, describe(r))
				}
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("order (reversed input %v) (-want +got):\n%s", reversed, d)
				}
			}
		})
	}
}

func TestSortedVirtualHosts(t *testing.T) {
	t.Parallel()
	g := New(8080, 8443, AccessLog{})
	for _, n := range []string{"b.com", "*", "*.a.com", "a.com"} {
		g.VirtualHost(n)
		g.SecureVirtualHost(n)
	}
	want := []string{"*", "*.a.com", "a.com", "b.com"}
	var got, gotSecure []string
	for _, vh := range SortedVirtualHosts(g) {
		got = append(got, vh.Name)
	}
	for _, vh := range SortedSecureVirtualHosts(g) {
		gotSecure = append(gotSecure, vh.Name)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("virtual hosts (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want, gotSecure); d != "" {
		t.Errorf("secure virtual hosts (-want +got):\n%s", d)
	}
}
