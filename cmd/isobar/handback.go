package main

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Go's scavenger returns free heap memory to the system only above about
// 110 % of the collector's goal, which is twice the live heap: after a
// burst (a thousand Envoys connecting, a reconnect storm, a big change) a
// server's resident memory stays near the burst's peak although the burst's
// garbage is long dead. serve hands it back itself once work has quieted
// down (quietHandBack).
const (
	// handBackTick is how often serve samples its heap.
	handBackTick = time.Second
	// handBackQuietCPU is the share of one core under which serve counts a
	// tick as quiet. Allocation says nothing here: sending the same encoded
	// set to a thousand Envoys keeps the process busy writing but allocates
	// little.
	handBackQuietCPU = 0.1
	// handBackFloor is the least memory worth a collection: below it the
	// collection's CPU is not worth the pages. It bounds how far an idle
	// server's resident memory drifts above what it needs: scrapes, the
	// clients' keepalives and slow churn leave garbage that the collector,
	// whose goal is twice the live heap, would let grow by 200 MB at S10k.
	handBackFloor = 16 << 20
	// handBackLiveShare: and at least this fraction of the live heap (13 MB
	// at S10k, where a full collection takes about 0.2 s of CPU).
	handBackLiveShare = 16
	// handBackEvery is the least time between two hand-backs, which bounds
	// the collector's extra work under steady slow churn to one full
	// collection per interval.
	handBackEvery = 30 * time.Second
)

// handBackEnv set to "off" keeps serve from handing memory back after
// bursts (to compare, or to leave it all to Go's scavenger).
const handBackEnv = "ISOBAR_HAND_BACK"

// heapSample is what quietHandBack reads of the heap at one tick.
type heapSample struct {
	at time.Time
	// cpu is the process's CPU time (user and system) since it started.
	cpu time.Duration
	// live is the heap the last collection found reachable.
	live uint64
	// reclaimable is resident heap memory holding nothing live: garbage
	// not yet collected, and free spans not yet returned to the system.
	reclaimable uint64
	// released is heap memory returned to the system and not reused.
	released uint64
}

// handBackPolicy decides, tick by tick, when to hand memory back.
type handBackPolicy struct {
	prev heapSample
	last time.Time // the last hand-back
}

// due reports whether to hand memory back now: the last tick was quiet
// (the process used under handBackQuietCPU of a core), there is at least handBackFloor and
// a sixteenth of the live heap to gain, and the last hand-back is at least
// handBackEvery ago. The first sample only primes the policy.
func (p *handBackPolicy) due(s heapSample) bool {
	prev := p.prev
	p.prev = s
	if prev.at.IsZero() || !s.at.After(prev.at) || s.at.Sub(p.last) < handBackEvery {
		return false
	}
	if busy := float64(s.cpu-prev.cpu) / float64(s.at.Sub(prev.at)); busy >= handBackQuietCPU {
		return false
	}
	return s.reclaimable >= max(handBackFloor, s.live/handBackLiveShare)
}

// handedBack records a hand-back that ended with the heap as s.
func (p *handBackPolicy) handedBack(s heapSample) { p.prev, p.last = s, s.at }

// heapMetrics are the runtime metrics a heapSample is read from.
var heapMetrics = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
}

// handBackMetrics count hand-backs on serve's /metrics.
type handBackMetrics struct {
	count    prometheus.Counter
	released prometheus.Counter
}

// newHandBackMetrics registers isobar_heap_handbacks_total and
// isobar_heap_handed_back_bytes_total with reg.
func newHandBackMetrics(reg prometheus.Registerer) *handBackMetrics {
	m := &handBackMetrics{
		count: prometheus.NewCounter(prometheus.CounterOpts{Name: "isobar_heap_handbacks_total",
			Help: "Times serve collected and returned its free heap to the system after a burst had quieted down."}),
		released: prometheus.NewCounter(prometheus.CounterOpts{Name: "isobar_heap_handed_back_bytes_total",
			Help: "Heap memory those hand-backs returned to the system."}),
	}
	reg.MustRegister(m.count, m.released)
	return m
}

// heapSampleBuffer returns the runtime metrics samples readHeapSample
// fills.
func heapSampleBuffer() []metrics.Sample {
	buf := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		buf[i].Name = name
	}
	return buf
}

// readHeapSample reads the heap's counters into a sample taken at now.
func readHeapSample(now time.Time, buf []metrics.Sample) heapSample {
	metrics.Read(buf)
	v := make([]uint64, len(buf))
	for i, s := range buf {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	s := heapSample{at: now, cpu: processCPU(), live: v[0], reclaimable: v[2], released: v[3]}
	if v[1] > v[0] {
		s.reclaimable += v[1] - v[0]
	}
	return s
}

// quietHandBack samples the heap every handBackTick until ctx ends and,
// when the policy says so, collects and returns the free memory to the
// system (two collections, then debug.FreeOSMemory), counting it in m and
// logging what it gave back.
func quietHandBack(ctx context.Context, log *slog.Logger, m *handBackMetrics) {
	if os.Getenv(handBackEnv) == "off" {
		return
	}
	buf := heapSampleBuffer()
	var policy handBackPolicy
	tick := time.NewTicker(handBackTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s := readHeapSample(now, buf)
			if !policy.due(s) {
				continue
			}
			// The first collection moves what sync.Pools hold (gRPC's
			// shared write buffers: 32 KiB for each connection that wrote)
			// to their victim caches, the second frees it.
			runtime.GC()
			debug.FreeOSMemory()
			after := readHeapSample(time.Now(), buf)
			policy.handedBack(after)
			released := after.released - min(s.released, after.released)
			m.count.Inc()
			m.released.Add(float64(released))
			log.Debug("heap memory handed back to the system after a burst", "reclaimableBytes", s.reclaimable,
				"releasedBytes", released, "liveBytes", after.live, "took", after.at.Sub(now).String())
		}
	}
}
