package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/isobar-dev/isobar/controlplane/status"
)

func TestCovers(t *testing.T) {
	t.Parallel()
	prefix := func(v string) *Route { return &Route{Path: PathMatch{PathPrefix, v}} }
	segment := func(v string) *Route { return &Route{Path: PathMatch{PathSegmentPrefix, v}} }
	exact := func(v string) *Route { return &Route{Path: PathMatch{PathExact, v}} }
	regex := func(v string) *Route { return &Route{Path: PathMatch{PathRegex, v}} }
	withHeader := func(r *Route, h HeaderMatch) *Route { r.Headers = append(r.Headers, h); return r }
	withQuery := func(r *Route, q QueryMatch) *Route { r.Query = append(r.Query, q); return r }
	hx := HeaderMatch{Name: "X-Team", Kind: HeaderExact, Value: "a"}
	qa, qv := QueryMatch{Name: "a", Kind: QueryPresent}, QueryMatch{Name: "v", Kind: QueryExact, Value: "1"}
	for _, tc := range []struct {
		name           string
		earlier, later *Route
		want           bool
	}{
		{"prefix / covers an exact", prefix("/"), exact("/api"), true},
		{"string prefix covers a longer one", prefix("/api"), prefix("/api/v1"), true},
		{"string prefix covers a segment under it", prefix("/api"), segment("/apiv1"), true},
		{"string prefix does not cover a shorter one", prefix("/api"), prefix("/ap"), false},
		{"string prefix covers a regex with its literal prefix", prefix("/api"), regex("/api/[0-9]+"), true},
		{"string prefix does not cover a regex without it", prefix("/api/v"), regex("/api/[0-9]"), false},
		{"segment covers its own exact", segment("/api"), exact("/api"), true},
		{"segment covers an exact below it", segment("/api"), exact("/api/v1"), true},
		{"segment does not cover a sibling name", segment("/api"), exact("/apiv1"), false},
		{"segment does not cover the same string prefix", segment("/api"), prefix("/api"), false},
		{"segment covers a string prefix ending the segment", segment("/api"), prefix("/api/"), true},
		{"segment / covers everything", segment("/"), prefix("/x"), true},
		{"exact covers the identical exact", exact("/a"), exact("/a"), true},
		{"exact does not cover a prefix", exact("/a"), prefix("/a"), false},
		{"catch-all regex covers a prefix", regex("/.*"), prefix("/api"), true},
		{"catch-all regex covers an exact", regex("/.*"), exact("/x"), true},
		{"regex matching only one more character does not cover a prefix", regex("/v[0-9]"), prefix("/v1"), false},
		{"regex covers the exact it matches", regex("/v[0-9]"), exact("/v1"), true},
		{"regex does not cover an exact it does not match", regex("/v[0-9]"), exact("/v10"), false},
		{"regex with a tail loop covers a prefix inside it", regex("/api(/.*)?"), prefix("/api/"), true},
		{"regex without the bare prefix does not cover it", regex("/api/.*"), prefix("/api"), false},
		{"regex against regex is not decided", regex("/.*"), regex("/a.*"), false},
		{"invalid regex covers nothing", regex("/(("), prefix("/"), false},
		{"earlier header conditions must hold for the later", withHeader(prefix("/"), hx), prefix("/api"), false},
		{"fewer conditions earlier still cover", prefix("/"), withHeader(prefix("/api"), hx), true},
		{"ignoreCase differs: not the same condition", withHeader(prefix("/"), HeaderMatch{Name: "x-team", Kind: HeaderExact, Value: "a", IgnoreCase: true}),
			withHeader(prefix("/api"), hx), false},
		{"header names compare case-insensitively", withHeader(prefix("/"), HeaderMatch{Name: "x-team", Kind: HeaderExact, Value: "a"}),
			withHeader(prefix("/api"), hx), true},
		{"query conditions must be a subset", withQuery(prefix("/"), QueryMatch{Name: "v", Kind: QueryPresent}), prefix("/api"), false},
		{"header and query conditions: each a subset", withQuery(withHeader(prefix("/"), hx), qv),
			withQuery(withQuery(withHeader(withHeader(prefix("/api"), HeaderMatch{Name: "A", Kind: HeaderPresent}), hx), qa), qv), true},
		{"header and query conditions: a query missing later", withQuery(withHeader(prefix("/"), hx), qv),
			withQuery(withHeader(prefix("/api"), hx), qa), false},
		{"header and query conditions: a header missing later", withQuery(withHeader(prefix("/"), hx), qv),
			withQuery(prefix("/api"), qv), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, l := newShadowInfo(tc.earlier), newShadowInfo(tc.later)
			if got := e.covers(&l); got != tc.want {
				t.Errorf("covers(%s, %s) = %v, want %v", tc.earlier.Key(), tc.later.Key(), got, tc.want)
			}
		})
	}
}

func TestFindShadowedRoutes(t *testing.T) {
	t.Parallel()
	proxy := status.Ref{Kind: "HTTPProxy", Namespace: "team-b", Name: "api"}
	ing := status.Ref{Kind: "Ingress", Namespace: "team-a", Name: "web"}
	for _, tc := range []struct {
		name  string
		setup func(g *Graph)
		want  []status.Finding
	}{
		{
			name: "different objects",
			setup: func(g *Graph) {
				vh := g.VirtualHost("a.com")
				vh.AddRoute(&Route{Path: PathMatch{PathRegex, "/.*"}, Source: proxy})
				vh.AddRoute(&Route{Path: PathMatch{PathSegmentPrefix, "/blog"}, Source: ing})
				vh.AddRoute(&Route{Path: PathMatch{PathExact, "/blog"}, Source: ing}) // exact sorts before the regex
			},
			want: []status.Finding{{Code: FindingShadowedRoute, Severity: status.SeverityWarning, Objects: []status.Ref{proxy, ing},
				Message: `host "a.com": path segment:/blog of Ingress team-a/web can never match: path regex:/.* of HTTPProxy team-b/api comes first in Envoy's order and matches every request it would`}},
		},
		{
			name: "same object, once per route, secure host",
			setup: func(g *Graph) {
				vh := g.SecureVirtualHost("s.com")
				vh.AddRoute(&Route{Path: PathMatch{PathRegex, "/.*"}, Source: proxy})
				vh.AddRoute(&Route{Path: PathMatch{PathRegex, "/a.*"}, Source: proxy})
				vh.AddRoute(&Route{Path: PathMatch{PathPrefix, "/x"}, Source: proxy})
			},
			want: []status.Finding{{Code: FindingShadowedRoute, Severity: status.SeverityWarning, Objects: []status.Ref{proxy},
				Message: `host "s.com": path prefix:/x of HTTPProxy team-b/api can never match: path regex:/.* of the same object comes first in Envoy's order and matches every request it would`}},
		},
		{
			name: "HTTPS redirect copies are not reported",
			setup: func(g *Graph) {
				vh := g.VirtualHost("s.com")
				vh.AddRoute(&Route{Path: PathMatch{PathRegex, "/.*"}, Source: proxy, HTTPSRedirect: true})
				vh.AddRoute(&Route{Path: PathMatch{PathPrefix, "/x"}, Source: proxy, HTTPSRedirect: true})
			},
		},
		{
			name: "a more specific route first is fine",
			setup: func(g *Graph) {
				vh := g.VirtualHost("a.com")
				vh.AddRoute(&Route{Path: PathMatch{PathPrefix, "/api"}, Source: proxy})
				vh.AddRoute(&Route{Path: PathMatch{PathPrefix, "/"}, Source: ing})
				vh.AddRoute(&Route{Path: PathMatch{PathPrefix, "/"}, Headers: []HeaderMatch{{Name: "x", Kind: HeaderPresent}}, Source: ing})
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := &builder{g: New(8080, 8443, AccessLog{}), report: status.NewReport()}
			tc.setup(b.g)
			b.findShadowedRoutes()
			if d := cmp.Diff(tc.want, b.report.Findings(), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
