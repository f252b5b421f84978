package graph

import (
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
