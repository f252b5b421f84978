package controlplane_test

import (
	"bytes"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/translate"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/sim/gen"
)

var corpora sync.Map // name → []byte

// corpus generates (once) the named corpus with the project's generator.
func corpus(b testing.TB, name string) []byte {
	b.Helper()
	if v, ok := corpora.Load(name); ok {
		return v.([]byte)
	}
	o := map[string]gen.Options{"S1k": gen.S1k(), "S10k": gen.S10k()}[name]
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, o); err != nil {
		b.Fatal(err)
	}
	corpora.Store(name, buf.Bytes())
	return buf.Bytes()
}

func loadCorpus(b *testing.B, name string) *source.Index {
	idx, problems := source.LoadBytes(source.LoadOptions{Trim: true}, name, corpus(b, name)) // as translate loads
	if len(problems) > 0 {
		b.Fatalf("%s: %d problems, first: %v", name, len(problems), problems[0])
	}
	return idx
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"S1k", "S10k"} {
		b.Run(name, func(b *testing.B) {
			data := corpus(b, name)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, problems := source.LoadBytes(source.LoadOptions{}, name, data); len(problems) > 0 {
					b.Fatal(problems[0])
				}
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, name := range []string{"S1k", "S10k"} {
		b.Run(name, func(b *testing.B) {
			idx := loadCorpus(b, name)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				graph.Build(idx, graph.Options{})
			}
		})
	}
}

func BenchmarkTranslate(b *testing.B) {
	for _, name := range []string{"S1k", "S10k"} {
		b.Run(name, func(b *testing.B) {
			idx := loadCorpus(b, name)
			g, _ := graph.Build(idx, graph.Options{})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := translate.Translate(g, idx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompile is the full translate (decode excluded): graph, xDS,
// validation and consistency.
func BenchmarkCompile(b *testing.B) {
	for _, name := range []string{"S1k", "S10k"} {
		b.Run(name, func(b *testing.B) {
			idx := loadCorpus(b, name)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := controlplane.Compile(idx, controlplane.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompileAsTranslate is BenchmarkCompile with Go's collector set
// as `isobar translate` sets it (cmd/isobar's tuneBatchGC and
// collectLoadGarbage): a collection before each compile, not timed, and
// none during it unless the heap nears a soft limit of 16 times the
// corpus's bytes, at least 448 MiB. Its heap is not readied for huge pages
// as the command's is (internal/hugeheap): that is the process's. It also
// reports the CPU time a compile takes (ms-cpu, the process's user and
// system time): on a shared machine the CPU time moves with the machine's
// load as much as the wall time does, and the wall time over it (near 0.5
// on 2 cores when every step keeps both busy) is what a change to how the
// work is spread moves.
func BenchmarkCompileAsTranslate(b *testing.B) {
	for _, name := range []string{"S1k", "S10k"} {
		b.Run(name, func(b *testing.B) {
			idx := loadCorpus(b, name)
			limit := max(16*int64(len(corpus(b, name))), 448<<20)
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
			var cpu time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				runtime.GC()
				c0 := processCPU(b)
				b.StartTimer()
				if _, err := controlplane.Compile(idx, controlplane.Options{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += processCPU(b) - c0
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "ms-cpu")
		})
	}
}

// processCPU is the CPU time this process has used (user and system).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkMarshal(b *testing.B) {
	for _, name := range []string{"S1k", "S10k"} {
		b.Run(name, func(b *testing.B) {
			res, err := controlplane.Compile(loadCorpus(b, name), controlplane.Options{})
			if err != nil {
				b.Fatal(err)
			}
			doc := xds.Document{Resources: res.Resources, Status: res.Statuses, Findings: res.Findings}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := xds.Marshal(io.Discard, doc, xds.MarshalOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
