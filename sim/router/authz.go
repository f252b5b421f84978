package router

import (
	"fmt"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// authzFilter is the name of Envoy's external authorization HTTP filter,
// under which routes carry their part of the check.
const authzFilter = "envoy.filters.http.ext_authz"

// authzNote says in the trace what the connection manager's ext_authz
// filter does with a request to the matched route: which authorization
// server checks it, with which context (the simulator does not call the
// server: the request is routed as if it were allowed), or that the route
// disables the check. Nothing is said when the connection manager has no
// such filter (port 80 checks only with a global authorization server).
func authzNote(hcm *hcmv3.HttpConnectionManager, rt *routev3.Route, res *Result) {
	var cfg extauthzv3.ExtAuthz
	found := false
	for _, f := range hcm.GetHttpFilters() {
		if f.GetName() == authzFilter {
			found = f.GetTypedConfig() != nil && f.GetTypedConfig().UnmarshalTo(&cfg) == nil
			break
		}
	}
	if !found {
		return
	}
	var per extauthzv3.ExtAuthzPerRoute
	if a := rt.GetTypedPerFilterConfig()[authzFilter]; a != nil {
		if err := a.UnmarshalTo(&per); err != nil {
			res.tracef("authorization: the route's configuration cannot be read (%v)", err)
			return
		}
	}
	if per.GetDisabled() {
		res.tracef("authorization: disabled for this route (the authorization server is not called)")
		return
	}
	server := "the authorization server " + cfg.GetGrpcService().GetEnvoyGrpc().GetClusterName()
	ctx := ""
	if h := cfg.GetHttpService(); h != nil {
		server = "the HTTP authorization server " + h.GetServerUri().GetCluster()
		if p := h.GetPathPrefix(); p != "" {
			server += " (path: " + p + " followed by the request's path)"
		}
	} else if c := per.GetCheckSettings().GetContextExtensions(); len(c) > 0 { // sent to gRPC servers only
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		pairs := make([]string, len(keys))
		for i, k := range keys {
			pairs[i] = fmt.Sprintf("%s=%s", k, c[k])
		}
		ctx = " with context " + strings.Join(pairs, ", ")
	}
	failure := "denied with 403"
	if cfg.GetFailureModeAllow() {
		failure = "allowed (failOpen)"
	}
	res.tracef("authorization: the request is checked by %s%s; when it fails, requests are %s (not called by the simulator: the request is routed as if it were allowed)",
		server, ctx, failure)
}
