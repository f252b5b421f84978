package graph

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUpstreamCircuitBreakers: Contour's cluster.circuit-breakers fill the
// thresholds a Service's annotations leave at 0, one by one; the
// annotations win where they set one.
func TestUpstreamCircuitBreakers(t *testing.T) {
	t.Parallel()
	global := CircuitBreakers{MaxConnections: 99, MaxPendingRequests: 98, MaxRequests: 97, MaxRetries: 5, PerHostMaxConnections: 3}
	for _, tc := range []struct {
		name            string
		service, global CircuitBreakers
		want            CircuitBreakers
	}{
		{name: "neither"},
		{name: "the global ones only", global: global, want: global},
		{name: "the Service's only", service: CircuitBreakers{MaxRequests: 7}, want: CircuitBreakers{MaxRequests: 7}},
		{name: "merged", service: CircuitBreakers{MaxConnections: 10, MaxRetries: 1}, global: global,
			want: CircuitBreakers{MaxConnections: 10, MaxPendingRequests: 98, MaxRequests: 97, MaxRetries: 1, PerHostMaxConnections: 3}},
		{name: "every one set on the Service", service: CircuitBreakers{1, 2, 3, 4, 5}, global: global, want: CircuitBreakers{1, 2, 3, 4, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Cluster{CircuitBreakers: tc.service}
			Upstream{CircuitBreakers: tc.global}.applyTo(c)
			if d := cmp.Diff(tc.want, c.CircuitBreakers); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestUpstreamTLS: Contour's cluster.upstream-tls, checked as tls.* is;
// one setting given, the others take Contour's defaults; none, the cluster
// keeps Envoy's.
func TestUpstreamTLS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		u                   Upstream
		wantMin, wantMax    string
		wantCiphers, errSub string
	}{
		{name: "unset"},
		{name: "a minimum", u: Upstream{TLSMinimumVersion: "1.3"}, wantMin: "1.3", wantMax: "1.3", wantCiphers: strings.Join(contourCipherSuites, "\n")},
		{name: "suites, repeats dropped", u: Upstream{TLSCipherSuites: "AES128-SHA\nAES128-SHA"}, wantMin: "1.2", wantMax: "1.3", wantCiphers: "AES128-SHA"},
		{name: "1.1", u: Upstream{TLSMaximumVersion: "1.1"}, errSub: `cluster-upstream-tls-maximum-protocol-version "1.1": must be 1.2 or 1.3`},
		{name: "min above max", u: Upstream{TLSMinimumVersion: "1.3", TLSMaximumVersion: "1.2"},
			errSub: "cluster-upstream-tls-minimum-protocol-version 1.3 is above cluster-upstream-tls-maximum-protocol-version 1.2"},
		{name: "RC4", u: Upstream{TLSCipherSuites: "RC4-SHA"}, errSub: `cluster-upstream-tls-cipher-suite "RC4-SHA": not a cipher suite`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.u.Check()
			if tc.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("error %v, want %q", err, tc.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := &Cluster{}
			tc.u.applyTo(c)
			if c.UpstreamTLSMin != tc.wantMin || c.UpstreamTLSMax != tc.wantMax || c.UpstreamTLSCipherSuites != tc.wantCiphers {
				t.Errorf("got %q %q %q, want %q %q %q", c.UpstreamTLSMin, c.UpstreamTLSMax, c.UpstreamTLSCipherSuites, tc.wantMin, tc.wantMax, tc.wantCiphers)
			}
		})
	}
}
