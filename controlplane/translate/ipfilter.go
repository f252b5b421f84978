package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// IPFilterPolicy is the name of the one RBAC policy an IP filter becomes,
// Contour's.
const IPFilterPolicy = "ip-rules"

// ipFilterConfig is the typed_per_filter_config of the RBAC filter for f,
// as Contour emits it: one policy, IPFilterPolicy, that grants every
// permission to principals matching any rule, with action ALLOW for an
// ipAllowPolicy and DENY for an ipDenyPolicy. A Peer rule matches the
// connection's address (direct_remote_ip), a Remote rule the address Envoy
// derives from X-Forwarded-For (remote_ip). Principals keep the object's
// order, as Contour's: Envoy ORs them, so the order changes nothing, and
// the object fixes it (no sorting is needed for determinism).
func ipFilterConfig(f *graph.IPFilter) *anypb.Any {
	action := rbacconfigv3.RBAC_DENY
	if f.Allow {
		action = rbacconfigv3.RBAC_ALLOW
	}
	principals := make([]*rbacconfigv3.Principal, len(f.Rules))
	for i, r := range f.Rules {
		cidr := &corev3.CidrRange{AddressPrefix: r.CIDR.Addr().String(), PrefixLen: wrapperspb.UInt32(uint32(r.CIDR.Bits()))}
		if r.Remote {
			principals[i] = &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_RemoteIp{RemoteIp: cidr}}
		} else {
			principals[i] = &rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_DirectRemoteIp{DirectRemoteIp: cidr}}
		}
	}
	return envoy.Any(&rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: &rbacconfigv3.RBAC{
		Action: action,
		Policies: map[string]*rbacconfigv3.Policy{IPFilterPolicy: {
			Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}},
			Principals:  principals,
		}},
	}}})
}

// setIPFilter puts f, if set, in the per-filter configuration of a virtual
// host or route (config points at its TypedPerFilterConfig).
func setIPFilter(config *map[string]*anypb.Any, f *graph.IPFilter) {
	if f == nil {
		return
	}
	setPerFilter(config, envoy.RBACFilter, ipFilterConfig(f))
}

// routeIPFilter sets the route's own IP filter policy on out, except on
// the port-80 copy of a secure route that only redirects to https: as in
// Contour, only the virtual host's policy applies there, and the route's
// own applies once the client follows the redirect.
func routeIPFilter(out *routev3.Route, r *graph.Route) {
	if !r.HTTPSRedirect {
		setIPFilter(&out.TypedPerFilterConfig, r.IPFilter)
	}
}
