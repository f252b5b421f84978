package router

import (
	"sort"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// luaFilter is the name under which weighted clusters configure Envoy's
// Lua filter (Contour's and Isobar's); cookieRewriteRules the filter
// context key of the cookie rewrite script's rules.
const (
	luaFilter          = "envoy.filters.http.lua"
	cookieRewriteRules = "cookie_rewrite_rules"
)

// cookieRewrites traces, for a weighted cluster the request may go to, how
// the Lua cookie rewrite script would change the Set-Cookie headers of its
// responses. The simulator has no response: it says which cookies and
// which attributes, not what a response would become.
func cookieRewrites(w *routev3.WeightedCluster_ClusterWeight, res *Result) {
	cfg := w.GetTypedPerFilterConfig()[luaFilter]
	if cfg == nil {
		return
	}
	var lua luav3.LuaPerRoute
	if err := cfg.UnmarshalTo(&lua); err != nil {
		res.tracef("cluster %s: Lua configuration not readable: %v", w.GetName(), err)
		return
	}
	rules := lua.GetFilterContext().GetFields()[cookieRewriteRules].GetStructValue().GetFields()
	if len(rules) == 0 {
		return
	}
	names := make([]string, 0, len(rules))
	for name := range rules {
		names = append(names, name)
	}
	sort.Strings(names)
	described := make([]string, len(names))
	for i, name := range names {
		described[i] = "cookie " + name + ": " + cookieRule(rules[name].GetStructValue().GetFields())
	}
	res.tracef("cluster %s: Set-Cookie headers of its responses are rewritten (Lua %s): %s",
		w.GetName(), lua.GetName(), strings.Join(described, "; "))
}

// cookieRule describes one cookie's rule: the attributes set, added or
// removed, in the order Path, Domain, Secure, SameSite.
func cookieRule(attrs map[string]*structpb.Value) string {
	var out []string
	for _, key := range []string{"Path", "Domain"} {
		if v, ok := attrs[key]; ok {
			out = append(out, key+"="+v.GetStringValue())
		}
	}
	if v, ok := attrs["Secure"]; ok {
		if v.GetBoolValue() {
			out = append(out, "Secure added")
		} else {
			out = append(out, "Secure removed")
		}
	}
	if v, ok := attrs["SameSite"]; ok {
		out = append(out, "SameSite="+v.GetStringValue())
	}
	return strings.Join(out, ", ")
}
