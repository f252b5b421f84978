package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// TestRoutePath: an include's prefix and a route's path condition are
// concatenated as Contour concatenates them, the slash where they meet
// merged; a prefix stays a string prefix (so /kuarder/ does not match
// /kuarder), and a route without a path keeps the include's prefix.
func TestRoutePath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scope string
		kind  PathKind
		value string
		has   bool
		want  PathMatch
	}{
		{scope: "", has: false, want: PathMatch{Kind: PathPrefix, Value: "/"}},
		{scope: "", kind: PathPrefix, value: "/", has: true, want: PathMatch{Kind: PathPrefix, Value: "/"}},
		{scope: "/kuarder", has: false, want: PathMatch{Kind: PathPrefix, Value: "/kuarder"}},
		{scope: "/kuarder", kind: PathPrefix, value: "/", has: true, want: PathMatch{Kind: PathPrefix, Value: "/kuarder/"}},
		{scope: "/kuarder", kind: PathPrefix, value: "/a", has: true, want: PathMatch{Kind: PathPrefix, Value: "/kuarder/a"}},
		{scope: "/blog/", kind: PathPrefix, value: "/", has: true, want: PathMatch{Kind: PathPrefix, Value: "/blog/"}},
		{scope: "/blog/", kind: PathPrefix, value: "/a/", has: true, want: PathMatch{Kind: PathPrefix, Value: "/blog/a/"}},
		{scope: "/", kind: PathPrefix, value: "/a", has: true, want: PathMatch{Kind: PathPrefix, Value: "/a"}},
		{scope: "/", has: false, want: PathMatch{Kind: PathPrefix, Value: "/"}},
		{scope: "/docs", kind: PathExact, value: "/", has: true, want: PathMatch{Kind: PathExact, Value: "/docs/"}},
		{scope: "/docs", kind: PathExact, value: "/x", has: true, want: PathMatch{Kind: PathExact, Value: "/docs/x"}},
		{scope: "/app/", kind: PathRegex, value: "/v[0-9]+", has: true, want: PathMatch{Kind: PathRegex, Value: "/app(?:/v[0-9]+)"}},
	} {
		got := routePath(scope{prefix: tc.scope}, tc.kind, tc.value, tc.has)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("scope %q, %v %q: (-want +got)\n%s", tc.scope, tc.kind, tc.value, d)
		}
	}
}

// TestIncludeScopePrefix: nested include prefixes are joined the same way.
func TestIncludeScopePrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ parent, include, want string }{
		{"", "/blog", "/blog"},
		{"/blog", "/", "/blog/"},
		{"/blog/", "/", "/blog/"},
		{"/blog", "/a", "/blog/a"},
		{"/", "/a", "/a"},
	} {
		_, s, _, err := includeScope(scope{prefix: tc.parent}, contourv1.Include{Conditions: []contourv1.MatchCondition{{Prefix: tc.include}}})
		if err != nil || s.prefix != tc.want {
			t.Errorf("%q + include %q: prefix %q, %v; want %q", tc.parent, tc.include, s.prefix, err, tc.want)
		}
	}
}
