package main

import (
	"bytes"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestCgroupMemoryLimit(t *testing.T) {
	write := func(root, rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, tc := range map[string]struct {
		self   string
		files  map[string]string
		want   int64
		wantOK bool
	}{
		"v2 own cgroup": {self: "0::/kubepods/pod1/c1\n", files: map[string]string{"kubepods/pod1/c1/memory.max": "536870912\n"},
			want: 536870912, wantOK: true},
		"v2 container sees its cgroup at the root": {self: "0::/kubepods/pod1/c1\n", files: map[string]string{"memory.max": "1073741824\n"},
			want: 1073741824, wantOK: true},
		"v2 no limit":   {self: "0::/\n", files: map[string]string{"memory.max": "max\n"}},
		"v2 hybrid":     {self: "0::/x\n", files: map[string]string{"unified/x/memory.max": "1000\n"}, want: 1000, wantOK: true},
		"v1 own cgroup": {self: "12:pids:/\n4:memory:/docker/abc\n1:cpu,cpuacct:/\n", files: map[string]string{"memory/docker/abc/memory.limit_in_bytes": "268435456"}, want: 268435456, wantOK: true},
		"v1 combined controllers": {self: "4:memory,hugetlb:/a\n", files: map[string]string{"memory/memory.limit_in_bytes": "4096"},
			want: 4096, wantOK: true},
		"v1 no limit":     {self: "4:memory:/\n", files: map[string]string{"memory/memory.limit_in_bytes": "9223372036854771712"}},
		"no cgroup files": {self: "0::/\n"},
		"garbage":         {self: "0::/\n", files: map[string]string{"memory.max": "lots"}},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			for rel, content := range tc.files {
				write(root, rel, content)
			}
			got, ok := cgroupMemoryLimit(tc.self, root)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("cgroupMemoryLimit = %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestHeapWatch: a warning when the live heap passes three quarters of the
// soft limit, one line when it is back under, nothing without a limit.
func TestHeapWatch(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var h heapWatch
	steps := []struct {
		live  uint64
		limit int64
		want  string // the level logged, "" for nothing
	}{
		{300 << 20, math.MaxInt64, ""},
		{300 << 20, 460 << 20, ""},
		{360 << 20, 460 << 20, "WARN"},
		{380 << 20, 460 << 20, ""}, // still tight: said once
		{200 << 20, 460 << 20, "INFO"},
		{900 << 20, 0, ""},
	}
	for i, s := range steps {
		buf.Reset()
		h.check(log, s.live, s.limit)
		got := ""
		if line := buf.String(); line != "" {
			got = strings.TrimPrefix(strings.Fields(line)[1], "level=")
		}
		if got != s.want {
			t.Errorf("step %d: logged %q, want level %q", i, buf.String(), s.want)
		}
	}
}

// TestBatchLimit: a compile's soft limit follows the input and has a
// floor; inputSize walks folders.
func TestBatchLimit(t *testing.T) {
	for input, want := range map[int64]int64{0: 448 << 20, 27 << 20: 448 << 20, 100 << 20: 1600 << 20} {
		if got := batchLimit(input); got != want {
			t.Errorf("input %d: %d, want %d", input, got, want)
		}
	}
	dir := t.TempDir()
	for name, n := range map[string]int{"a.yaml": 10, "sub/b.yaml": 32} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := inputSize([]string{dir, "-", filepath.Join(dir, "missing")}); got != 42 {
		t.Errorf("inputSize = %d, want 42", got)
	}
}

// TestCollectOftenForFirstBuild checks that serve's first build runs with
// the collector at firstBuildGCPercent and gets the earlier target back,
// and that GOGC, when set, is left alone.
func TestCollectOftenForFirstBuild(t *testing.T) {
	defer func(was bool) { ownProcess = was }(ownProcess)
	ownProcess = true
	prev := debug.SetGCPercent(140)
	defer debug.SetGCPercent(prev)
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	restore := collectOftenForFirstBuild()
	if got := debug.SetGCPercent(firstBuildGCPercent); got != firstBuildGCPercent {
		t.Errorf("during the first build: GOGC %d, want %d", got, firstBuildGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(140); got != 140 {
		t.Errorf("after it: GOGC %d, want 140 back", got)
	}
	t.Setenv("GOGC", "140")
	collectOftenForFirstBuild()()
	if got := debug.SetGCPercent(140); got != 140 {
		t.Errorf("with GOGC set: %d, want it left at 140", got)
	}
}
