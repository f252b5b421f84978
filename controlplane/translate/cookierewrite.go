package translate

import (
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// CookieRewriteRules is the key of the filter context under which the Lua
// script finds its rules, Contour's: a struct from cookie name to a struct
// with any of Path, Domain, SameSite (strings) and Secure (a bool).
const CookieRewriteRules = "cookie_rewrite_rules"

// rewritesCookies reports whether a route of vh rewrites cookies: its
// connection manager then needs the Lua filter with the script.
func rewritesCookies(vh *graph.VirtualHost) bool {
	for _, r := range vh.Routes {
		if !r.HTTPSRedirect && hasCookieRewrites(r) {
			return true
		}
	}
	return false
}

// hasCookieRewrites reports whether the route or any of its backends
// rewrites cookies: such a route forwards with weighted clusters even to one
// backend, as Contour's does, each cluster carrying its rules.
func hasCookieRewrites(r *graph.Route) bool {
	if len(r.CookieRewrites) > 0 {
		return true
	}
	for _, b := range r.Backends {
		if len(b.CookieRewrites) > 0 {
			return true
		}
	}
	return false
}

// addCookieRewrite adds, to the per-filter configuration config points at
// (a weighted cluster's), the Lua filter's configuration for the route's
// rules merged with the backend's, if there are any. Other filters'
// entries are kept.
func addCookieRewrite(config *map[string]*anypb.Any, route, backend []graph.CookieRewrite) {
	if len(route) == 0 && len(backend) == 0 {
		return
	}
	setPerFilter(config, envoy.LuaFilter, cookieRewriteConfig(route, backend))
}

// cookieRewriteConfig is the LuaPerRoute that runs the cookie rewrite
// script with the rules of route and backend: for a cookie both name, the
// backend's attributes win and the route's others stay, as in Contour.
// (The filter context is a protobuf Struct, a map: its encoding is made
// deterministic by envoy.Any.)
func cookieRewriteConfig(route, backend []graph.CookieRewrite) *anypb.Any {
	rules := map[string]*structpb.Value{}
	for _, c := range append(append([]graph.CookieRewrite(nil), route...), backend...) {
		v := rules[c.Name]
		if v == nil {
			v = structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{}})
			rules[c.Name] = v
		}
		attrs := v.GetStructValue().Fields
		if c.Path != "" {
			attrs["Path"] = structpb.NewStringValue(c.Path)
		}
		if c.Domain != "" {
			attrs["Domain"] = structpb.NewStringValue(c.Domain)
		}
		if c.Secure != nil {
			attrs["Secure"] = structpb.NewBoolValue(*c.Secure)
		}
		if c.SameSite != "" {
			attrs["SameSite"] = structpb.NewStringValue(c.SameSite)
		}
	}
	return envoy.Any(&luav3.LuaPerRoute{
		Override: &luav3.LuaPerRoute_Name{Name: envoy.CookieRewriteScript},
		FilterContext: &structpb.Struct{Fields: map[string]*structpb.Value{
			CookieRewriteRules: structpb.NewStructValue(&structpb.Struct{Fields: rules}),
		}},
	})
}
