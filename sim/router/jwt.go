package router

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// jwtFilter is the name of Envoy's JWT authentication HTTP filter, under
// which routes carry the requirement they enforce.
const jwtFilter = "envoy.filters.http.jwt_authn"

// jwtNote says in the trace what the connection manager's jwt_authn filter
// does with a request to the matched route: which provider's token it
// requires (the simulator does not verify tokens: the request is routed as
// if it carried a valid one), or that the route is not verified. Nothing
// is said when the connection manager has no such filter.
func jwtNote(hcm *hcmv3.HttpConnectionManager, rt *routev3.Route, res *Result) {
	if !hasHTTPFilter(hcm, jwtFilter) {
		return
	}
	cfg := rt.GetTypedPerFilterConfig()[jwtFilter]
	if cfg == nil {
		res.tracef("JWT: this route requires no token (verification disabled, or no default provider)")
		return
	}
	var per jwtv3.PerRouteConfig
	if err := cfg.UnmarshalTo(&per); err != nil {
		res.tracef("JWT: the route's configuration cannot be read (%v)", err)
		return
	}
	if per.GetDisabled() {
		res.tracef("JWT: verification is disabled for this route")
		return
	}
	res.tracef("JWT: the route requires a JWT from provider %q (not verified by the simulator: the request is routed as if it had a valid one)",
		per.GetRequirementName())
}
