package router

import (
	"sort"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// corsFilterName is the name Envoy's CORS filter and its per-route and
// per-virtual-host configurations go by.
const corsFilterName = "envoy.filters.http.cors"

// corsFilter is what Envoy's CORS filter decided about one request: the
// policies that apply (the route's, then the virtual host's; each setting
// is taken from the first that has it) and the request's Origin if it is
// allowed. A zero corsFilter does nothing.
type corsFilter struct {
	policies []*corsv3.CorsPolicy
	origin   string
}

// cors runs Envoy's CORS filter before the router. It needs the filter in
// the connection manager, a route that forwards (Envoy skips redirects and
// direct responses), a policy, and an Origin header. A preflight (OPTIONS
// with Access-Control-Request-Method) from an allowed origin is answered by
// the filter itself: answered is true and res holds the 200 and its
// headers. Otherwise the returned filter adds its headers to the response
// (see respond).
func cors(hcm *hcmv3.HttpConnectionManager, vh *routev3.VirtualHost, rt *routev3.Route, p *parsed, res *Result) (f corsFilter, answered bool) {
	if !hasHTTPFilter(hcm, corsFilterName) {
		return f, false
	}
	for _, a := range []map[string]*anypb.Any{rt.GetTypedPerFilterConfig(), vh.GetTypedPerFilterConfig()} {
		cp := &corsv3.CorsPolicy{}
		if c, ok := a[corsFilterName]; ok && c.UnmarshalTo(cp) == nil {
			f.policies = append(f.policies, cp)
		}
	}
	origin := p.headers["origin"]
	if len(f.policies) == 0 || origin == "" {
		return corsFilter{}, false
	}
	if rt.GetRoute() == nil {
		res.tracef("CORS: the route does not forward, so Envoy's CORS filter leaves the request alone")
		return corsFilter{}, false
	}
	if fe := f.policies[0].GetFilterEnabled(); fe != nil && fe.GetDefaultValue().GetNumerator() == 0 {
		res.tracef("CORS: the policy's filter_enabled is off by default; the filter is assumed off")
		return corsFilter{}, false
	}
	allowed := f.originAllowed(origin)
	if allowed {
		f.origin = origin
	}
	preflight := p.method == "OPTIONS" && p.headers["access-control-request-method"] != ""
	switch {
	case !preflight && allowed:
		res.tracef("CORS: origin %q is allowed; Envoy adds Access-Control-Allow-* headers to the response", origin)
	case !preflight:
		res.tracef("CORS: origin %q is not allowed; the response gets no CORS headers", origin)
	case !allowed && f.forwardNotMatching():
		res.tracef("CORS: preflight from origin %q, which is not allowed: Envoy forwards it without CORS headers", origin)
	default:
		f.answerPreflight(p, res)
		return f, true
	}
	return f, false
}

// answerPreflight is the filter's own answer to a preflight: 200 with the
// policy's Access-Control-* headers (the origin's only when it is allowed).
func (f corsFilter) answerPreflight(p *parsed, res *Result) {
	h := map[string]string{}
	if f.origin != "" {
		h["access-control-allow-origin"] = f.origin
	}
	if f.credentials() {
		h["access-control-allow-credentials"] = "true"
	}
	if m := f.setting((*corsv3.CorsPolicy).GetAllowMethods); m == "*" {
		h["access-control-allow-methods"] = p.headers["access-control-request-method"]
	} else if m != "" {
		h["access-control-allow-methods"] = m
	}
	if hs := f.setting((*corsv3.CorsPolicy).GetAllowHeaders); hs == "*" {
		if v := p.headers["access-control-request-headers"]; v != "" {
			h["access-control-allow-headers"] = v
		}
	} else if hs != "" {
		h["access-control-allow-headers"] = hs
	}
	if age := f.setting((*corsv3.CorsPolicy).GetMaxAge); age != "" {
		h["access-control-max-age"] = age
	}
	if f.privateNetwork() && p.headers["access-control-request-private-network"] == "true" {
		h["access-control-allow-private-network"] = "true"
	}
	res.Status, res.Routed, res.ResponseHeaders = 200, true, h
	res.tracef("CORS: preflight from origin %q: Envoy's CORS filter answers 200 itself; the request is not forwarded (%s)",
		p.headers["origin"], renderHeaders(h))
}

// respond adds the filter's headers to a response that went through it:
// for an allowed origin, the origin, credentials and exposed headers.
func (f corsFilter) respond(res *Result) {
	if f.origin == "" {
		return
	}
	if res.ResponseHeaders == nil {
		res.ResponseHeaders = map[string]string{}
	}
	res.ResponseHeaders["access-control-allow-origin"] = f.origin
	if f.credentials() {
		res.ResponseHeaders["access-control-allow-credentials"] = "true"
	}
	if e := f.setting((*corsv3.CorsPolicy).GetExposeHeaders); e != "" {
		res.ResponseHeaders["access-control-expose-headers"] = e
	}
}

// originAllowed is Envoy's test: an allowed-origin matcher accepts the
// literal "*" or the origin.
func (f corsFilter) originAllowed(origin string) bool {
	for _, p := range f.policies {
		if len(p.GetAllowOriginStringMatch()) == 0 {
			continue
		}
		for _, m := range p.GetAllowOriginStringMatch() {
			if matchString(m, "*") || matchString(m, origin) {
				return true
			}
		}
		return false // the first policy with origins decides
	}
	return false
}

// setting returns the first non-empty value of a string setting.
func (f corsFilter) setting(get func(*corsv3.CorsPolicy) string) string {
	for _, p := range f.policies {
		if v := get(p); v != "" {
			return v
		}
	}
	return ""
}

func (f corsFilter) credentials() bool {
	for _, p := range f.policies {
		if p.GetAllowCredentials() != nil {
			return p.GetAllowCredentials().GetValue()
		}
	}
	return false
}

func (f corsFilter) privateNetwork() bool {
	for _, p := range f.policies {
		if p.GetAllowPrivateNetworkAccess() != nil {
			return p.GetAllowPrivateNetworkAccess().GetValue()
		}
	}
	return false
}

// forwardNotMatching is forward_not_matching_preflights, true unless set.
func (f corsFilter) forwardNotMatching() bool {
	for _, p := range f.policies {
		if p.GetForwardNotMatchingPreflights() != nil {
			return p.GetForwardNotMatchingPreflights().GetValue()
		}
	}
	return true
}

// hasHTTPFilter reports whether the connection manager runs the named HTTP
// filter.
func hasHTTPFilter(hcm *hcmv3.HttpConnectionManager, name string) bool {
	for _, f := range hcm.GetHttpFilters() {
		if f.GetName() == name {
			return true
		}
	}
	return false
}

// renderHeaders writes headers as "name: value" pairs sorted by name.
func renderHeaders(h map[string]string) string {
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + h[n]
	}
	return strings.Join(parts, ", ")
}
