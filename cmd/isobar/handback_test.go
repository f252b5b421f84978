package main

import (
	"runtime"
	"testing"
	"time"
)

// TestHandBackPolicy walks the policy through a burst and its aftermath,
// tick by tick, with the decisions written out by hand.
func TestHandBackPolicy(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	const mb = 1 << 20
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	steps := []struct {
		name string
		s    heapSample
		want bool
	}{
		{"first sample only primes", heapSample{at: at(40), cpu: 0, live: 260 * mb, reclaimable: 200 * mb}, false},
		{"busy: a core fully used", heapSample{at: at(41), cpu: time.Second, live: 260 * mb, reclaimable: 200 * mb}, false},
		{"busy: just over a tenth of a core", heapSample{at: at(42), cpu: 1100 * time.Millisecond, live: 260 * mb, reclaimable: 200 * mb}, false},
		{"quiet, plenty to gain", heapSample{at: at(43), cpu: 1150 * time.Millisecond, live: 260 * mb, reclaimable: 200 * mb}, true},
		{"quiet, but the last hand-back was 1 s ago", heapSample{at: at(44), cpu: 1150 * time.Millisecond, live: 260 * mb, reclaimable: 200 * mb}, false},
		{"quiet, 30 s later, under the floor", heapSample{at: at(73), cpu: 1200 * time.Millisecond, live: 100 * mb, reclaimable: 15 * mb}, false},
		{"quiet, over the floor but under a sixteenth of the live heap", heapSample{at: at(74), cpu: 1200 * time.Millisecond, live: 800 * mb, reclaimable: 49 * mb}, false},
		{"quiet, over both", heapSample{at: at(75), cpu: 1200 * time.Millisecond, live: 800 * mb, reclaimable: 50 * mb}, true},
		{"a sample out of order is ignored", heapSample{at: at(70), cpu: 1200 * time.Millisecond, live: 260 * mb, reclaimable: 200 * mb}, false},
	}
	var p handBackPolicy
	for _, step := range steps {
		got := p.due(step.s)
		if got != step.want {
			t.Fatalf("%s: due = %v, want %v", step.name, got, step.want)
		}
		if got {
			p.handedBack(step.s)
		}
	}
}

// TestReadHeapSample checks that the runtime's counters and the process's
// CPU time are read.
func TestReadHeapSample(t *testing.T) {
	t.Parallel()
	runtime.GC() // the live heap is known once a collection has ended
	buf := heapSampleBuffer()
	s := readHeapSample(time.Now(), buf)
	if s.live == 0 || s.cpu <= 0 {
		t.Fatalf("sample %+v: the live heap and CPU time must be read", s)
	}
}
