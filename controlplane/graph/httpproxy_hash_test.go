package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRequestHashPolicies: as in Contour, a request hash policy that sets
// no input or several, names an invalid header or an empty query
// parameter, or repeats an earlier input is left out with an IgnoredField
// warning; the HTTPProxy stays valid, and with none left the route's
// cluster balances RoundRobin.
func TestRequestHashPolicies(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		policies     string
		want         []HashPolicy
		wantLB       LoadBalancer
		wantWarnings []string
	}{
		"valid entries are kept, names in canonical and lower case": {
			policies: `[{headerHashOptions: {headerName: x-user}, terminal: true}, {queryParameterHashOptions: {parameterName: Session}}, {hashSourceIP: true}]`,
			want:     []HashPolicy{{Header: "X-User", Terminal: true}, {Query: "session"}, {SourceIP: true}},
			wantLB:   RequestHash,
		},
		"bad entries are dropped, the rest kept": {
			policies: `[{headerHashOptions: {headerName: X-Some-Header}}, {terminal: true}, {hashSourceIP: true, headerHashOptions: {headerName: X-Other}},
  {headerHashOptions: {headerName: x-some-header}}, {queryParameterHashOptions: {parameterName: ""}}, {headerHashOptions: {headerName: "bad name"}},
  {queryParameterHashOptions: {parameterName: a}}, {queryParameterHashOptions: {parameterName: A}}, {hashSourceIP: true}, {hashSourceIP: true, terminal: true}]`,
			want:   []HashPolicy{{Header: "X-Some-Header"}, {Query: "a"}, {SourceIP: true}},
			wantLB: RequestHash,
			wantWarnings: []string{
				"Spec.Routes[0].loadBalancerPolicy.requestHashPolicies[1] is ignored: it must set exactly one of hashSourceIP, headerHashOptions and queryParameterHashOptions",
				"Spec.Routes[0].loadBalancerPolicy.requestHashPolicies[2] is ignored: it must set exactly one of hashSourceIP, headerHashOptions and queryParameterHashOptions",
				"Spec.Routes[0].loadBalancerPolicy.requestHashPolicies[3] is ignored: it hashes on header X-Some-Header, as an earlier entry does",
				"Spec.Routes[0].loadBalancerPolicy.requestHashPolicies[4] is ignored: queryParameterHashOptions.parameterName is empty",
				`Spec.Routes[0].loadBalancerPolicy.requestHashPolicies[5] is ignored: headerHashOptions.headerName: header name "bad name" contains ' '`,
				"Spec.Routes[0].loadBalancerPolicy.requestHashPolicies[7] is ignored: it hashes on query parameter a, as an earlier entry does",
				"Spec.Routes[0].loadBalancerPolicy.requestHashPolicies[9] is ignored: it hashes on the source address, as an earlier entry does",
			},
		},
		"none valid: RoundRobin": {
			policies: `[{}, {headerHashOptions: {headerName: ""}}]`,
			wantLB:   RoundRobin,
			wantWarnings: []string{
				"Spec.Routes[0].loadBalancerPolicy.requestHashPolicies[0] is ignored: it must set exactly one of hashSourceIP, headerHashOptions and queryParameterHashOptions",
				"Spec.Routes[0].loadBalancerPolicy.requestHashPolicies[1] is ignored: headerHashOptions.headerName: header name is empty",
				"Spec.Routes[0].loadBalancerPolicy: strategy RequestHash has no valid requestHashPolicies; RoundRobin is used",
			},
		},
		"none given: RoundRobin": {
			policies:     `[]`,
			wantLB:       RoundRobin,
			wantWarnings: []string{"Spec.Routes[0].loadBalancerPolicy: strategy RequestHash has no valid requestHashPolicies; RoundRobin is used"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - loadBalancerPolicy:
      strategy: RequestHash
      requestHashPolicies: `+tc.policies+`
    services: [{name: s, port: 80}]
`+svcs("ns", "s"))
			routes := SortedRoutes(SortedVirtualHosts(g)[0])
			if len(routes) != 1 || len(routes[0].Backends) != 1 {
				t.Fatalf("routes: %v", summary(g))
			}
			if d := cmp.Diff(tc.want, routes[0].HashPolicies); d != "" {
				t.Errorf("hash policies (-want +got):\n%s", d)
			}
			if got := routes[0].Backends[0].Cluster.LoadBalancer; got != tc.wantLB {
				t.Errorf("load balancer %s, want %s", got, tc.wantLB)
			}
			o := r.Objects()[0]
			if o.CurrentStatus != "valid" {
				t.Errorf("status %s, want valid", o.CurrentStatus)
			}
			var got []string
			for _, w := range o.Conditions[0].Warnings {
				if w.Type != "SpecError" || w.Reason != "IgnoredField" {
					t.Errorf("warning %s/%s, want SpecError/IgnoredField", w.Type, w.Reason)
				}
				got = append(got, w.Message)
			}
			if d := cmp.Diff(tc.wantWarnings, got); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
		})
	}
}
