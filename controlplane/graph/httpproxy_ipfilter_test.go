package graph

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// prefixes compare by value (netip.Prefix has unexported fields).
var prefixes = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

func TestIPFilterPolicy(t *testing.T) {
	t.Parallel()
	peer := func(cidr string) contourv1.IPFilterPolicy {
		return contourv1.IPFilterPolicy{Source: "Peer", CIDR: cidr}
	}
	remote := func(cidr string) contourv1.IPFilterPolicy {
		return contourv1.IPFilterPolicy{Source: "Remote", CIDR: cidr}
	}
	list := func(ps ...contourv1.IPFilterPolicy) []contourv1.IPFilterPolicy { return ps }
	for name, tc := range map[string]struct {
		allow, deny []contourv1.IPFilterPolicy
		want        *IPFilter
		wantErrs    []ipFilterError
	}{
		"neither":       {},
		"empty lists":   {allow: list(), deny: list()},
		"bare IPv4 /32": {allow: list(peer("192.0.2.7")), want: &IPFilter{Allow: true, Rules: []IPFilterRule{{CIDR: netip.MustParsePrefix("192.0.2.7/32")}}}},
		"bare IPv6 /128 in a deny list": {deny: list(remote("2001:db8::1")),
			want: &IPFilter{Rules: []IPFilterRule{{Remote: true, CIDR: netip.MustParsePrefix("2001:db8::1/128")}}}},
		"host bits are cleared": {allow: list(peer("10.1.2.3/8"), remote("2001:db8:1::5/32")),
			want: &IPFilter{Allow: true, Rules: []IPFilterRule{
				{CIDR: netip.MustParsePrefix("10.0.0.0/8")}, {Remote: true, CIDR: netip.MustParsePrefix("2001:db8::/32")}}}},
		"the object's order is kept": {allow: list(remote("203.0.113.0/24"), peer("10.0.0.0/8"), remote("198.51.100.0/24")),
			want: &IPFilter{Allow: true, Rules: []IPFilterRule{
				{Remote: true, CIDR: netip.MustParsePrefix("203.0.113.0/24")}, {CIDR: netip.MustParsePrefix("10.0.0.0/8")},
				{Remote: true, CIDR: netip.MustParsePrefix("198.51.100.0/24")}}}},
		"an IPv4-mapped address stays IPv6": {allow: list(peer("::ffff:10.0.0.1")),
			want: &IPFilter{Allow: true, Rules: []IPFilterRule{{CIDR: netip.MustParsePrefix("::ffff:10.0.0.1/128")}}}},
		"allow and deny": {allow: list(peer("10.0.0.0/8")), deny: list(peer("10.9.0.0/16")),
			wantErrs: []ipFilterError{{ReasonIncompatibleIPAddressFilters, "", "ipAllowPolicy and ipDenyPolicy cannot both be set"}}},
		"every bad entry is reported, and nothing is kept": {
			deny: list(peer("10.0.0.300/8"), peer("10.0.0.0/8"), peer("10.0.0.0/33"), remote("fe80::1%eth0"), peer("example.com"), peer("")),
			wantErrs: []ipFilterError{
				{ReasonInvalidCIDR, "ipDenyPolicy[0].cidr", `"10.0.0.300/8" is not an IP address or CIDR block`},
				{ReasonInvalidCIDR, "ipDenyPolicy[2].cidr", `"10.0.0.0/33" is not an IP address or CIDR block`},
				{ReasonInvalidCIDR, "ipDenyPolicy[3].cidr", `"fe80::1%eth0" is not an IP address or CIDR block`},
				{ReasonInvalidCIDR, "ipDenyPolicy[4].cidr", `"example.com" is not an IP address or CIDR block`},
				{ReasonInvalidCIDR, "ipDenyPolicy[5].cidr", `"" is not an IP address or CIDR block`},
			}},
		"a source other than Peer or Remote": {
			allow: list(contourv1.IPFilterPolicy{Source: "peer", CIDR: "10.0.0.0/8"}, contourv1.IPFilterPolicy{CIDR: "10.0.0.0/8"}),
			wantErrs: []ipFilterError{
				{ReasonIPFilterPolicyNotValid, "ipAllowPolicy[0].source", `"peer" is not Peer or Remote`},
				{ReasonIPFilterPolicyNotValid, "ipAllowPolicy[1].source", `"" is not Peer or Remote`},
			}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, errs := ipFilterPolicy(tc.allow, tc.deny)
			if d := cmp.Diff(tc.want, got, prefixes); d != "" {
				t.Errorf("filter (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantErrs, errs, cmp.AllowUnexported(ipFilterError{})); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}

// TestIPFilterHosts: where the policies land in the graph, and what an
// invalid one does to its object.
func TestIPFilterHosts(t *testing.T) {
	t.Parallel()
	allow10 := &IPFilter{Allow: true, Rules: []IPFilterRule{{CIDR: netip.MustParsePrefix("10.0.0.0/8")}}}
	deny9 := &IPFilter{Rules: []IPFilterRule{{Remote: true, CIDR: netip.MustParsePrefix("10.9.0.0/16")}}}
	type placed struct {
		Host   string
		Secure bool
		Route  string // "" for the virtual host itself
		Filter *IPFilter
	}
	for name, tc := range map[string]struct {
		yaml         string
		want         []placed
		wantStatuses []string
	}{
		"host and route on an insecure root": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com, ipAllowPolicy: [{source: Peer, cidr: 10.0.0.0/8}]}
  routes:
  - services: [{name: s, port: 80}]
  - conditions: [{prefix: /admin}]
    ipDenyPolicy: [{source: Remote, cidr: 10.9.0.0/16}]
    services: [{name: s, port: 80}]
` + svcs("ns", "s"),
			want:         []placed{{"a.com", false, "", allow10}, {"a.com", false, "prefix:/admin", deny9}, {"a.com", false, "prefix:/", nil}},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"a TLS root's policy is on both hosts; the redirect copy keeps the route's (translate leaves it out)": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com, tls: {secretName: cert}, ipAllowPolicy: [{source: Peer, cidr: 10.0.0.0/8}]}
  routes:
  - ipDenyPolicy: [{source: Remote, cidr: 10.9.0.0/16}]
    services: [{name: s, port: 80}]
` + svcs("ns", "s") + certSecret(t, "ns", "cert"),
			want: []placed{{"a.com", false, "", allow10}, {"a.com", false, "prefix:/", deny9},
				{"a.com", true, "", allow10}, {"a.com", true, "prefix:/", deny9}},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"an invalid host policy: the root is not served": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com, ipDenyPolicy: [{source: Peer, cidr: 10.0.0.0/8}, {source: Peer, cidr: 10.0.0/8}]}
  routes: [{services: [{name: s, port: 80}]}]
` + svcs("ns", "s"),
			wantStatuses: []string{"HTTPProxy ns/p: invalid InvalidCIDR"},
		},
		"both lists on a root's route: the root is not served": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - services: [{name: s, port: 80}]
  - conditions: [{prefix: /x}]
    ipAllowPolicy: [{source: Peer, cidr: 10.0.0.0/8}]
    ipDenyPolicy: [{source: Peer, cidr: 10.9.0.0/16}]
    services: [{name: s, port: 80}]
` + svcs("ns", "s"),
			wantStatuses: []string{"HTTPProxy ns/p: invalid IncompatibleIPAddressFilters"},
		},
		"an included object's bad route: its scope answers 502 under the host's policy": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: root, namespace: ns}
spec:
  virtualhost: {fqdn: a.com, ipAllowPolicy: [{source: Peer, cidr: 10.0.0.0/8}]}
  includes: [{name: child, conditions: [{prefix: /c}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: child, namespace: ns}
spec:
  routes:
  - ipAllowPolicy: [{source: Remote, cidr: 10.0.0.0/8}, {source: Remote, cidr: nope}]
    services: [{name: s, port: 80}]
` + svcs("ns", "s"),
			want:         []placed{{"a.com", false, "", allow10}, {"a.com", false, "prefix:/c", nil}},
			wantStatuses: []string{"HTTPProxy ns/child: invalid InvalidCIDR", "HTTPProxy ns/root: valid warn:IncludeNotValid"},
		},
		"a tcpproxy ignores the policy, and says so": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com, tls: {passthrough: true}, ipDenyPolicy: [{source: Peer, cidr: 10.0.0.0/8}]}
  tcpproxy: {services: [{name: s, port: 80}]}
` + svcs("ns", "s"),
			wantStatuses: []string{"HTTPProxy ns/p: valid warn:IgnoredField"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, tc.yaml)
			var got []placed
			add := func(vh *VirtualHost, secure bool) {
				if vh.IPFilter != nil {
					got = append(got, placed{vh.Name, secure, "", vh.IPFilter})
				}
				for _, rt := range SortedRoutes(vh) {
					got = append(got, placed{vh.Name, secure, rt.MatchString(), rt.IPFilter})
				}
			}
			for _, vh := range SortedVirtualHosts(g) {
				add(vh, false)
			}
			for _, vh := range SortedSecureVirtualHosts(g) {
				add(&vh.VirtualHost, true)
			}
			if d := cmp.Diff(tc.want, got, prefixes); d != "" {
				t.Errorf("filters (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatuses, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
		})
	}
}

// certSecret returns a kubernetes.io/tls Secret document for a.com.
func certSecret(t *testing.T, ns, name string) string {
	t.Helper()
	cert, key := testCert(t, "a.com", "a.com")
	return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: kubernetes.io/tls\ndata: {tls.crt: %s, tls.key: %s}\n",
		name, ns, base64.StdEncoding.EncodeToString(cert), base64.StdEncoding.EncodeToString(key))
}
