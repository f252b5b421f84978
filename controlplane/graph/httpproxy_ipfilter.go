package graph

import (
	"fmt"
	"net/netip"
	"strings"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// IP filter reasons, Contour's names.
const (
	ReasonIncompatibleIPAddressFilters = "IncompatibleIPAddressFilters"
	ReasonInvalidCIDR                  = "InvalidCIDR"
	ReasonIPFilterPolicyNotValid       = "IPFilterPolicyNotValid"
)

// The sources of an IP filter entry.
const (
	ipSourcePeer   = "Peer"
	ipSourceRemote = "Remote"
)

// IPFilter is an HTTPProxy ipAllowPolicy or ipDenyPolicy: which client
// addresses a virtual host or route lets through. A route's filter replaces
// its virtual host's for that route (Envoy uses the most specific
// per-filter configuration); the two are never merged.
type IPFilter struct {
	// Allow lets only clients matching a rule through (ipAllowPolicy);
	// false turns them away (ipDenyPolicy).
	Allow bool
	// Rules are in the object's order (a client matches if any rule does).
	Rules []IPFilterRule
}

// IPFilterRule is one entry of an IP filter policy.
type IPFilterRule struct {
	// Remote matches the client address Envoy derives from
	// X-Forwarded-For with the trusted hops (source Remote); false matches
	// the address of the connection's peer (source Peer).
	Remote bool
	// CIDR is the masked network: a bare address is a /32 or /128.
	CIDR netip.Prefix
}

// ipFilterError is one problem with an IP filter policy, with its Contour
// reason; field names the entry (e.g. "ipAllowPolicy[1].cidr"), if one.
type ipFilterError struct{ reason, field, msg string }

func (e ipFilterError) Error() string {
	if e.field == "" {
		return e.msg
	}
	return e.field + ": " + e.msg
}

// ipFilterPolicy reads an object's ipAllowPolicy and ipDenyPolicy. It
// returns nil and no problems when neither is set; with problems the
// filter is nil (the caller rejects the whole policy: a partial allow or
// deny list would let the wrong clients through).
func ipFilterPolicy(allow, deny []contourv1.IPFilterPolicy) (*IPFilter, []ipFilterError) {
	if len(allow) == 0 && len(deny) == 0 {
		return nil, nil // the common case: nothing to allocate
	}
	entries, field, f := allow, "ipAllowPolicy", &IPFilter{Allow: true}
	switch {
	case len(allow) > 0 && len(deny) > 0:
		return nil, []ipFilterError{{ReasonIncompatibleIPAddressFilters, "",
			"ipAllowPolicy and ipDenyPolicy cannot both be set"}}
	case len(deny) > 0:
		entries, field, f = deny, "ipDenyPolicy", &IPFilter{}
	}
	var errs []ipFilterError
	for i, e := range entries {
		at := fmt.Sprintf("%s[%d]", field, i)
		if e.Source != ipSourcePeer && e.Source != ipSourceRemote {
			errs = append(errs, ipFilterError{ReasonIPFilterPolicyNotValid, at + ".source",
				fmt.Sprintf("%q is not Peer or Remote", e.Source)})
			continue
		}
		cidr, err := parseCIDR(e.CIDR)
		if err != nil {
			errs = append(errs, ipFilterError{ReasonInvalidCIDR, at + ".cidr", err.Error()})
			continue
		}
		f.Rules = append(f.Rules, IPFilterRule{Remote: e.Source == ipSourceRemote, CIDR: cidr})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

// parseCIDR reads an address or a CIDR block, as Contour does: a bare IPv4
// address is a /32, a bare IPv6 address a /128, and host bits are cleared
// (10.1.2.3/8 is 10.0.0.0/8). IPv4-mapped IPv6 addresses stay IPv6.
func parseCIDR(s string) (netip.Prefix, error) {
	in := s
	if !strings.Contains(s, "/") {
		if strings.Contains(s, ":") {
			s += "/128"
		} else {
			s += "/32"
		}
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", in)
	}
	return p.Masked(), nil
}

// virtualHostIPFilter reads the root's virtual host IP filter policy,
// reporting each problem as an IPFilterError on ref. ok is false when the
// policy is invalid: the root is then not served, as in Contour.
func (b *builder) virtualHostIPFilter(ref status.Ref, vh *contourv1.VirtualHost) (f *IPFilter, ok bool) {
	f, errs := ipFilterPolicy(vh.IPAllowFilterPolicy, vh.IPDenyFilterPolicy)
	for _, e := range errs {
		b.report.Error(ref, status.IPFilterError, e.reason, "Spec.VirtualHost.%s", e)
	}
	return f, len(errs) == 0
}

// routeIPFilter reads route i's IP filter policy into r. A problem makes
// the route fatal (as every route error does): all but the first are
// reported here, the first is returned for proxyRoute to report.
func (b *builder) routeIPFilter(r *Route, p *contourv1.HTTPProxy, spec *contourv1.Route, i int) error {
	f, errs := ipFilterPolicy(spec.IPAllowFilterPolicy, spec.IPDenyFilterPolicy)
	if len(errs) == 0 {
		r.IPFilter = f
		return nil
	}
	for _, e := range errs[1:] {
		b.report.Error(proxyRef(p), status.IPFilterError, e.reason, "Spec.Routes[%d]: %s", i, e)
	}
	return routeError{status.IPFilterError, errs[0].reason, errs[0].Error()}
}
