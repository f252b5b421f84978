package router

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// TestCookieRewriteTrace: the trace describes a weighted cluster's cookie
// rewrite rules (cookies sorted, attributes in a fixed order), read from
// hand-written Envoy configuration, and says nothing without them.
func TestCookieRewriteTrace(t *testing.T) {
	t.Parallel()
	packed := func(name string, m proto.Message) map[string]*anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]*anypb.Any{name: a}
	}
	ctx, err := structpb.NewStruct(map[string]any{"cookie_rewrite_rules": map[string]any{
		"sid":  map[string]any{"SameSite": "Strict", "Secure": false, "Path": "/app", "Domain": "a.com"},
		"lang": map[string]any{"Secure": true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	lua := packed("envoy.filters.http.lua", &luav3.LuaPerRoute{Override: &luav3.LuaPerRoute_Name{Name: "cookie_rewrite.lua"}, FilterContext: ctx})
	for name, tc := range map[string]struct {
		config map[string]*anypb.Any
		want   []string
		prefix bool // the trace's one line starts with want[0] (protobuf's errors are unstable)
	}{
		"rules": {config: lua, want: []string{"cluster c: Set-Cookie headers of its responses are rewritten (Lua cookie_rewrite.lua): " +
			"cookie lang: Secure added; cookie sid: Path=/app, Domain=a.com, Secure removed, SameSite=Strict"}},
		"no Lua configuration":    {config: packed("envoy.filters.http.rbac", &rbacv3.RBACPerRoute{})},
		"no configuration":        {},
		"an unreadable one":       {config: packed("envoy.filters.http.lua", &rbacv3.RBACPerRoute{}), want: []string{"cluster c: Lua configuration not readable: "}, prefix: true},
		"a context without rules": {config: packed("envoy.filters.http.lua", &luav3.LuaPerRoute{Override: &luav3.LuaPerRoute_Name{Name: "x.lua"}})},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var res Result
			cookieRewrites(&routev3.WeightedCluster_ClusterWeight{Name: "c", TypedPerFilterConfig: tc.config}, &res)
			if tc.prefix && len(res.Trace) == 1 && strings.HasPrefix(res.Trace[0], tc.want[0]) {
				return
			}
			if d := cmp.Diff(tc.want, res.Trace); d != "" {
				t.Errorf("trace (-want +got):\n%s", d)
			}
		})
	}
}
