package translate

import (
	"math"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// TestNormalizeWeights: all-zero weights split evenly; weights whose sum
// is beyond Envoy's 2^32-1 keep their proportions and fit; others pass.
func TestNormalizeWeights(t *testing.T) {
	for _, tc := range []struct{ in, want []uint32 }{
		{[]uint32{90, 10}, []uint32{90, 10}},
		{[]uint32{0, 0}, []uint32{1, 1}},
		{[]uint32{math.MaxUint32, math.MaxUint32}, []uint32{math.MaxUint32 / 2, math.MaxUint32 / 2}},
		{[]uint32{1 << 31, 1 << 31}, []uint32{1<<31 - 1, 1<<31 - 1}}, // the sum wrapped to 0 before
		{[]uint32{math.MaxUint32, 1}, []uint32{math.MaxUint32 - 1, 0}},
	} {
		var bs []graph.Backend
		for _, w := range tc.in {
			bs = append(bs, graph.Backend{Weight: w})
		}
		got := normalizeWeights(bs)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("normalizeWeights(%v) (-want +got):\n%s", tc.in, d)
		}
		var sum uint64
		for _, w := range got {
			sum += uint64(w)
		}
		if sum > math.MaxUint32 || sum == 0 {
			t.Errorf("normalizeWeights(%v) sums to %d", tc.in, sum)
		}
	}
}

// TestNeverUpstreamShortcut: the first-octet shortcut answers as a full
// parse does.
func TestNeverUpstreamShortcut(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "127.1.2.3", "0.0.0.0", "0.1.2.3", "169.254.169.254", "169.253.1.1",
		"224.0.0.1", "224.0.1.1", "10.0.0.1", "::1", "fe80::1", "::ffff:127.0.0.1", "fd00::1", "bogus", "", "1270.0.0.1"} {
		a, err := netip.ParseAddr(s)
		if want := err == nil && graph.NeverUpstream(a); neverUpstream(s) != want {
			t.Errorf("neverUpstream(%q) = %v, want %v", s, !want, want)
		}
	}
}
