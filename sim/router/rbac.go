package router

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// rbacFilter is the name of Envoy's RBAC HTTP filter, under which virtual
// hosts and routes carry its per-route configuration.
const rbacFilter = "envoy.filters.http.rbac"

// rbacDenied is the body Envoy's RBAC filter answers a denied request with.
const rbacDenied = "RBAC: access denied"

// clientAddresses are the two addresses RBAC principals match: the
// connection's peer (direct_remote_ip) and the client address Envoy trusts
// after X-Forwarded-For processing (remote_ip).
type clientAddresses struct {
	peer, remote netip.Addr
}

// rbac runs the connection manager's RBAC filter for the matched route, as
// Envoy does before the router: the route's per-filter configuration, else
// the virtual host's. It answers false, with status 403, when the request
// is denied. Without a client address the filter is not evaluated (the
// trace says so).
func rbac(hcm *hcmv3.HttpConnectionManager, vh *routev3.VirtualHost, rt *routev3.Route, p *parsed, res *Result) bool {
	if !hasHTTPFilter(hcm, rbacFilter) {
		return true
	}
	cfg, where := mostSpecific(vh, rt, rbacFilter)
	if cfg == nil {
		return true
	}
	var per rbacv3.RBACPerRoute
	if err := cfg.UnmarshalTo(&per); err != nil {
		res.tracef("RBAC: the %s's configuration cannot be read (%v); not evaluated", where, err)
		return true
	}
	rules := per.GetRbac().GetRules()
	if rules == nil {
		res.tracef("RBAC: the %s turns the filter off", where)
		return true
	}
	if !p.clientIP.IsValid() {
		res.tracef("RBAC: the %s's rules (%s) filter client addresses, but the request has none (--client-ip): not evaluated", where, rules.GetAction())
		return true
	}
	addrs := clientAddressesOf(hcm, p)
	matched := matchingPolicies(rules, addrs)
	allowed := true // LOG only records
	switch rules.GetAction() {
	case rbacconfigv3.RBAC_ALLOW:
		allowed = len(matched) > 0
	case rbacconfigv3.RBAC_DENY:
		allowed = len(matched) == 0
	}
	verdict := "no policy matches"
	if len(matched) > 0 {
		verdict = "policy " + strings.Join(matched, ", ") + " matches"
	}
	if allowed {
		res.tracef("RBAC (the %s's rules, %s): peer %s, remote %s: %s: allowed", where, rules.GetAction(), addrs.peer, addrs.remote, verdict)
		return true
	}
	res.Status, res.Body = 403, rbacDenied
	res.tracef("RBAC (the %s's rules, %s): peer %s, remote %s: %s: denied, 403 %q", where, rules.GetAction(), addrs.peer, addrs.remote, verdict, rbacDenied)
	return false
}

// clientAddressesOf derives the remote address as Envoy does. With
// use_remote_address and xff_num_trusted_hops N, it is the Nth address from
// the right of X-Forwarded-For (the peer when N is 0, when the header has
// fewer than N addresses, or when that entry is not an IP address); without
// use_remote_address it is the (N+1)th. The peer is the request's client
// address (the PROXY protocol is not modelled).
func clientAddressesOf(hcm *hcmv3.HttpConnectionManager, p *parsed) clientAddresses {
	out := clientAddresses{peer: p.clientIP, remote: p.clientIP}
	n := int(hcm.GetXffNumTrustedHops())
	if !hcm.GetUseRemoteAddress().GetValue() {
		n++
	}
	xff := p.headers["x-forwarded-for"]
	if n == 0 || xff == "" {
		return out
	}
	hops := strings.Split(xff, ",")
	if len(hops) < n {
		return out
	}
	if a, err := netip.ParseAddr(strings.TrimSpace(hops[len(hops)-n])); err == nil {
		out.remote = a
	}
	return out
}

// matchingPolicies returns the names of the policies the request matches
// (one of their permissions and one of their principals), sorted.
func matchingPolicies(rules *rbacconfigv3.RBAC, a clientAddresses) []string {
	var out []string
	for name, pol := range rules.GetPolicies() {
		if anyPermission(pol.GetPermissions()) && anyPrincipal(pol.GetPrincipals(), a) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// anyPermission reports whether one of ps grants the request. Only the
// client address is modelled: permission any (Isobar's only one) grants,
// and a permission on another property of the request (path, header...)
// is taken as granting.
func anyPermission(ps []*rbacconfigv3.Permission) bool {
	for _, p := range ps {
		if a, ok := p.GetRule().(*rbacconfigv3.Permission_Any); !ok || a.Any {
			return true
		}
	}
	return false
}

// anyPrincipal reports whether one of ps matches.
func anyPrincipal(ps []*rbacconfigv3.Principal, a clientAddresses) bool {
	for _, p := range ps {
		if principalMatches(p, a) {
			return true
		}
	}
	return false
}

// principalMatches evaluates the address principals and their
// combinations; other identifiers (authenticated, headers...) never match.
func principalMatches(p *rbacconfigv3.Principal, a clientAddresses) bool {
	switch id := p.GetIdentifier().(type) {
	case *rbacconfigv3.Principal_Any:
		return id.Any
	case *rbacconfigv3.Principal_DirectRemoteIp:
		return inRange(id.DirectRemoteIp, a.peer)
	case *rbacconfigv3.Principal_RemoteIp:
		return inRange(id.RemoteIp, a.remote)
	case *rbacconfigv3.Principal_SourceIp:
		return inRange(id.SourceIp, a.peer)
	case *rbacconfigv3.Principal_OrIds:
		return anyPrincipal(id.OrIds.GetIds(), a)
	case *rbacconfigv3.Principal_AndIds:
		for _, q := range id.AndIds.GetIds() {
			if !principalMatches(q, a) {
				return false
			}
		}
		return true
	case *rbacconfigv3.Principal_NotId:
		return !principalMatches(id.NotId, a)
	}
	return false
}

// inRange reports whether addr is in the CIDR range (an IPv4 address never
// matches an IPv6 range, nor the reverse).
func inRange(c *corev3.CidrRange, addr netip.Addr) bool {
	base, err := netip.ParseAddr(c.GetAddressPrefix())
	if err != nil {
		return false
	}
	bits := int(c.GetPrefixLen().GetValue())
	if bits > base.BitLen() {
		bits = base.BitLen()
	}
	pfx, err := base.Prefix(bits)
	return err == nil && pfx.Contains(addr)
}

// parseClientIP reads a request's client address ("" is none).
func parseClientIP(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("client IP %q is not an IP address", s)
	}
	return a, nil
}
