package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/isobar-dev/isobar/sim/gen"
)

// The whole-process benchmarks run the built binary on generated corpora,
// as a user or a CI job would: start-up, reading, compiling and writing all
// count. Each reports the process's peak RSS next to the time.

// buildBinary builds isobar once for a benchmark.
func buildBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "isobar")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeCorpus writes the S10k corpus to dir/name/all.yaml, with edit
// applied to its text, and returns the folder.
func writeCorpus(b *testing.B, dir, name string, edit func([]byte) []byte) string {
	b.Helper()
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, gen.S10k()); err != nil {
		b.Fatal(err)
	}
	folder := filepath.Join(dir, name)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "all.yaml"), edit(buf.Bytes()), 0o644); err != nil {
		b.Fatal(err)
	}
	return folder
}

var gcTrace = regexp.MustCompile(`(\d+)->(\d+)->\d+ MB`)

// runProcess runs bin with args b.N times and reports peak RSS and, with
// heap, the peak Go heap (which the collector's trace shows only for a
// process that collects: diff does not). Exit codes in ok are expected.
func runProcess(b *testing.B, bin string, heap bool, ok map[int]bool, args ...string) {
	b.Helper()
	var rss, peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); err != nil && !ok[code] {
			b.Fatalf("%v: %v\n%s", args, err, stderr.Bytes())
		}
		if ru, isRusage := cmd.ProcessState.SysUsage().(*syscall.Rusage); isRusage {
			rss = max(rss, ru.Maxrss*1024)
		}
		for _, m := range gcTrace.FindAllSubmatch(stderr.Bytes(), -1) {
			for _, n := range m[1:] {
				v, _ := strconv.ParseInt(string(n), 10, 64)
				peak = max(peak, v<<20)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rss)/(1<<20), "MB-peak-rss")
	if heap {
		b.ReportMetric(float64(peak)/(1<<20), "MB-peak-heap")
	}
}

// BenchmarkTranslateProcess: `isobar translate -f s10k.yaml > /dev/null`.
func BenchmarkTranslateProcess(b *testing.B) {
	bin := buildBinary(b)
	corpus := writeCorpus(b, b.TempDir(), "s10k", func(d []byte) []byte { return d })
	runProcess(b, bin, true, nil, "translate", "-f", corpus)
}

// BenchmarkDiffProcess: `isobar diff` of two S10k states differing in one
// object (a root HTTPProxy's fqdn), probes included.
func BenchmarkDiffProcess(b *testing.B) {
	bin := buildBinary(b)
	dir := b.TempDir()
	base := writeCorpus(b, dir, "base", func(d []byte) []byte { return d })
	head := writeCorpus(b, dir, "head", func(d []byte) []byte {
		out := bytes.Replace(d, []byte("fqdn: p0.example.com\n"), []byte("fqdn: changed-p0.example.com\n"), 1)
		if bytes.Equal(out, d) {
			b.Fatal("the corpus has no p0.example.com root to change")
		}
		return out
	})
	runProcess(b, bin, false, map[int]bool{exitFindings: true, exitDanger: true}, "diff", "--base", base, "--head", head)
}
