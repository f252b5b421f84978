package router

import (
	"fmt"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// globalRateLimitFilter is the name of Envoy's global rate limit HTTP
// filter, under which routes say whether their virtual host's rate limits
// apply.
const globalRateLimitFilter = "envoy.filters.http.ratelimit"

// globalRateLimitNote says in the trace which descriptors the connection
// manager's ratelimit filter would send to the rate limit service for a
// request to route rt of vh, as Envoy builds them: the route action's
// rate_limits, then the virtual host's unless the route has its own (or,
// with the route's per-filter IGNORE, never). A descriptor one of whose
// actions finds nothing in the request is not sent. The simulator does not
// call the service. Nothing is said without the filter.
func globalRateLimitNote(hcm *hcmv3.HttpConnectionManager, vh *routev3.VirtualHost, rt *routev3.Route, m *matcher, p *parsed, res *Result) {
	var cfg ratelimitv3.RateLimit
	found := false
	for _, f := range hcm.GetHttpFilters() {
		if f.GetName() == globalRateLimitFilter {
			found = f.GetTypedConfig() != nil && f.GetTypedConfig().UnmarshalTo(&cfg) == nil
			break
		}
	}
	if !found {
		return
	}
	limits := rt.GetRoute().GetRateLimits()
	ignoreHost := false
	if a := rt.GetTypedPerFilterConfig()[globalRateLimitFilter]; a != nil {
		var per ratelimitv3.RateLimitPerRoute
		if err := a.UnmarshalTo(&per); err != nil {
			res.tracef("global rate limit: the route's configuration cannot be read (%v)", err)
			return
		}
		ignoreHost = per.GetVhRateLimits() == ratelimitv3.RateLimitPerRoute_IGNORE
	}
	if len(limits) == 0 && !ignoreHost {
		limits = vh.GetRateLimits()
	}
	remote := clientAddressesOf(hcm, p).remote
	var sent []string
	for _, rl := range limits {
		if d, ok := descriptor(rl, m, remote.String(), remote.IsValid()); ok {
			sent = append(sent, d)
		}
	}
	service := cfg.GetRateLimitService().GetGrpcService().GetEnvoyGrpc().GetClusterName()
	if len(sent) == 0 {
		res.tracef("global rate limit: no descriptor applies to this request; the rate limit service (%s) is not asked", service)
		return
	}
	failure := "refused (failure_mode_deny)"
	if !cfg.GetFailureModeDeny() {
		failure = "let through"
	}
	res.tracef("global rate limit: domain %q, descriptors %s would be sent to the rate limit service (%s), which the simulator does not call; "+
		"if it fails the request is %s", cfg.GetDomain(), strings.Join(sent, ", "), service, failure)
}

// descriptor renders the descriptor rate limit rl makes of a request, as
// [key=value, ...]; false when an action finds nothing (Envoy then sends
// none). remote is the trusted client address, when known.
func descriptor(rl *routev3.RateLimit, m *matcher, remote string, known bool) (string, bool) {
	var entries []string
	for _, a := range rl.GetActions() {
		switch x := a.GetActionSpecifier().(type) {
		case *routev3.RateLimit_Action_GenericKey_:
			key := x.GenericKey.GetDescriptorKey()
			if key == "" {
				key = "generic_key"
			}
			entries = append(entries, key+"="+x.GenericKey.GetDescriptorValue())
		case *routev3.RateLimit_Action_RequestHeaders_:
			v, ok := m.header(x.RequestHeaders.GetHeaderName())
			if !ok {
				return "", false
			}
			entries = append(entries, x.RequestHeaders.GetDescriptorKey()+"="+v)
		case *routev3.RateLimit_Action_HeaderValueMatch_:
			all := true
			for _, h := range x.HeaderValueMatch.GetHeaders() {
				all = all && m.matchHeader(h)
			}
			expect := x.HeaderValueMatch.GetExpectMatch() == nil || x.HeaderValueMatch.GetExpectMatch().GetValue()
			if all != expect {
				return "", false
			}
			entries = append(entries, "header_match="+x.HeaderValueMatch.GetDescriptorValue())
		case *routev3.RateLimit_Action_RemoteAddress_:
			if !known {
				return "", false
			}
			entries = append(entries, "remote_address="+remote)
		default:
			return "", false
		}
	}
	return fmt.Sprintf("[%s]", strings.Join(entries, ", ")), true
}
