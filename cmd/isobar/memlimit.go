package main

import (
	"context"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/isobar-dev/isobar/internal/hugeheap"
)

// memoryLimitRatio's flag text, shared by the long-running commands.
const memoryLimitRatioUsage = "Go's soft memory limit as a share of the container's cgroup memory limit (0 turns it off; GOMEMLIMIT wins)"

// applyMemoryLimit gives Go's collector the container's memory limit, as a
// soft limit of ratio times it, so that a long-running process collects
// harder before the kernel's OOM killer would act (Go does not read cgroup
// limits itself). It does nothing when GOMEMLIMIT is set, when ratio is 0,
// or when no limit applies. It returns the limit it set, 0 if none.
func applyMemoryLimit(ratio float64, log *slog.Logger) int64 {
	if os.Getenv("GOMEMLIMIT") != "" || ratio <= 0 {
		return 0
	}
	limit, ok := containerMemoryLimit()
	if !ok {
		return 0
	}
	soft := int64(float64(limit) * min(ratio, 1))
	debug.SetMemoryLimit(soft)
	log.Info("memory limit from the cgroup", "cgroupBytes", limit, "goSoftLimitBytes", soft)
	return soft
}

// containerMemoryLimit is this process's cgroup memory limit; ok is false
// when none applies.
func containerMemoryLimit() (limit int64, ok bool) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	return cgroupMemoryLimit(string(self), "/sys/fs/cgroup")
}

// cgroupMemoryLimit finds the memory limit of the cgroup that procSelf (the
// text of /proc/self/cgroup) names, under the cgroup file systems mounted
// at root: cgroup v2's memory.max, or v1's memory.limit_in_bytes. Inside a
// container the process's cgroup is usually the root of what is mounted,
// so that is tried too. ok is false when there is no limit.
func cgroupMemoryLimit(procSelf, root string) (limit int64, ok bool) {
	var candidates []string
	for _, line := range strings.Split(strings.TrimSpace(procSelf), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "": // v2 (unified)
			for _, mount := range []string{root, filepath.Join(root, "unified")} {
				candidates = append(candidates, filepath.Join(mount, parts[2], "memory.max"), filepath.Join(mount, "memory.max"))
			}
		case hasController(parts[1], "memory"): // v1
			mount := filepath.Join(root, "memory")
			candidates = append(candidates, filepath.Join(mount, parts[2], "memory.limit_in_bytes"), filepath.Join(mount, "memory.limit_in_bytes"))
		}
	}
	for _, path := range candidates {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(data))
		if v == "max" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 { // v1 writes a huge number for "no limit"
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// hasController reports whether a /proc/self/cgroup controller list
// ("cpu,cpuacct") names c.
func hasController(list, c string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == c {
			return true
		}
	}
	return false
}

// heapWatch warns once the live heap leaves Go's collector too little room
// under the soft memory limit: above limitShare of it, the collector runs
// almost without pause and takes up to half the CPU, and the process
// spends its time collecting instead of serving. It says so again when
// the heap is back under.
type heapWatch struct {
	tight bool
}

// limitShare is the share of the soft memory limit above which the live
// heap leaves the collector too little room.
const limitShare = 0.75

// check compares the live heap with the soft limit (math.MaxInt64: none)
// and logs a change of state.
func (h *heapWatch) check(log *slog.Logger, live uint64, limit int64) {
	tight := limit > 0 && limit != math.MaxInt64 && float64(live) > limitShare*float64(limit)
	switch {
	case tight && !h.tight:
		log.Warn("the live heap is close to Go's memory limit: the collector runs almost all the time and takes up to half the CPU; give the container more memory (about twice the live heap)",
			"liveHeapBytes", live, "goSoftLimitBytes", limit)
	case !tight && h.tight:
		log.Info("the live heap is back well under Go's memory limit", "liveHeapBytes", live, "goSoftLimitBytes", limit)
	}
	h.tight = tight
}

// watchHeap checks the live heap against Go's memory limit every period
// until ctx ends (see heapWatch).
func watchHeap(ctx context.Context, log *slog.Logger, period time.Duration) {
	var h heapWatch
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.check(log, liveHeap(), debug.SetMemoryLimit(-1))
		}
	}
}

// liveHeap returns the heap the last collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// ownProcess lets commands tune the process's collector and heap
// (tuneBatchGC, serve's huge pages): off in tests, whose commands run in the
// test's own process.
var ownProcess = true

// Sizes of tuneBatchGC's soft limit: a multiple of the input's bytes (the
// live heap of a compile is about 13 times its YAML at S10k, which is
// HTTPProxy-heavy, the costliest kind per byte), never under a floor.
const (
	batchHeapPerInputByte = 16
	batchHeapFloor        = 448 << 20
)

// hugePagesEnv set to "off" keeps tuneBatchGC from advising huge pages
// (to compare, or should a kernel misbehave with them).
const hugePagesEnv = "ISOBAR_HUGE_PAGES"

// tuneBatchGC sets Go's collector for a command that reads its input,
// computes and exits (translate, check, route, diff): no collection until
// the heap nears the soft limit, at most 90 % of a container's limit,
// instead of one at every doubling of the heap, which costs about a tenth of
// such a run's time and CPU. When the live heap outgrows the limit, Go keeps
// collecting at up to half the CPU: slower, never wrong. GOGC or GOMEMLIMIT
// in the environment win. It also readies that much heap for huge pages
// (hugeheap.Prepare): where each first touch of a page is slow, as on many
// virtual machines, that is most of such a run's time. It returns the limit
// set, 0 if none.
func tuneBatchGC(limit int64) int64 {
	if !ownProcess {
		return 0
	}
	limit = withinContainer(limit)
	adviseHugePages(limit)
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(-1)
	batchTuned = true
	return limit
}

// batchTuned is set once tuneBatchGC has told the collector to wait.
var batchTuned bool

// collectLoadGarbage runs one collection between loading and compiling in
// a command whose collector waits for its soft limit (tuneBatchGC), and
// reports whether it did. Decoding leaves about as much garbage as the
// index it built; left there, the compile's own allocations reach the limit
// halfway, and the collection then has to mark the index and the half-built
// result while the compile waits on it. At S10k the collection takes
// 60–80 ms, and the compile 0.33 s instead of 0.70 s, with a peak heap of
// 370 MB instead of 433 MB.
func collectLoadGarbage() bool {
	if !batchTuned {
		return false
	}
	runtime.GC()
	return true
}

// serveFirstBuildHeap is how much heap serve readies for huge pages when it
// watches a cluster, whose size it cannot know before listing it: about
// what S10k's first build takes.
const serveFirstBuildHeap = 512 << 20

// firstBuildHeap is how serve's heap is set for its first build: a region
// readied for huge pages, and the collector's target to set back.
type firstBuildHeap struct {
	huge      hugeheap.Region
	restoreGC func()
}

// prepareServeHeap sets the heap for serve's first build: the collector
// runs often (collectOftenForFirstBuild), and a region is readied for huge
// pages (hugeheap.Prepare): as much as a batch command would for the
// fixtures, or serveFirstBuildHeap for a cluster, at most 90 % of a
// container's limit. serve ends both once the build is served
// (whenListening). Nothing is done inside tests.
func prepareServeHeap(fixtures string) firstBuildHeap {
	h := firstBuildHeap{restoreGC: collectOftenForFirstBuild()}
	if !ownProcess {
		return h
	}
	n := int64(serveFirstBuildHeap)
	if fixtures != "" {
		n = batchLimit(inputSize([]string{fixtures}))
	}
	h.huge = adviseHugePages(withinContainer(n))
	return h
}

// end sets the collector's target back and withdraws the huge page
// advice; the error is the advice's, which then stays.
func (h firstBuildHeap) end() error {
	h.restoreGC()
	return h.huge.Release()
}

// withinContainer is n, at most 90 % of the container's memory limit.
func withinContainer(n int64) int64 {
	if c, ok := containerMemoryLimit(); ok {
		return min(n, c*9/10)
	}
	return n
}

// adviseHugePages readies n bytes of heap for huge pages
// (hugeheap.Prepare) unless hugePagesEnv says off, and returns the region.
// Only speed is at stake: a failure leaves the heap as it would have been.
func adviseHugePages(n int64) hugeheap.Region {
	if os.Getenv(hugePagesEnv) == "off" {
		return hugeheap.Region{}
	}
	r, _ := hugeheap.Prepare(n)
	return r
}

// firstBuildGCPercent is Go's collector target (GOGC) while `serve` reads
// its objects and makes its first build. Collecting four times as often as
// Go's default reuses the room of that phase's garbage (decoding, the
// first compile) for the objects that stay, rather than leaving them
// scattered among free slots for the life of the process: at S10k the heap
// in use after the first build is 7–8 MB smaller for the same live objects,
// and the first build about a second (a quarter) slower on 2 cores.
const firstBuildGCPercent = 25

// collectOftenForFirstBuild sets the collector's target for serve's first
// build (firstBuildGCPercent) and returns what sets it back. It does
// nothing when GOGC is set (the operator's choice stands) or when serve
// runs inside tests.
func collectOftenForFirstBuild() (restore func()) {
	if !ownProcess || os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(firstBuildGCPercent)
	return func() { debug.SetGCPercent(prev) }
}

// batchLimit is the soft limit of a compile of inputBytes of input:
// batchHeapPerInputByte times it, at least batchHeapFloor.
func batchLimit(inputBytes int64) int64 {
	return max(batchHeapPerInputByte*inputBytes, batchHeapFloor)
}

// inputSize is the bytes of the files under paths (folders walked; stdin
// and unreadable paths count nothing).
func inputSize(paths []string) int64 {
	var n int64
	for _, p := range paths {
		if p == "-" {
			continue
		}
		_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if info, err := d.Info(); err == nil {
					n += info.Size()
				}
			}
			return nil
		})
	}
	return n
}
