package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/isobar-dev/isobar/internal/hugeheap"
	"github.com/isobar-dev/isobar/sim/gen"
)

// runAsIsobarEnv makes the test binary run isobar's main (see TestMain).
const runAsIsobarEnv = "ISOBAR_TEST_RUN_AS_ISOBAR"

// runIsobar runs isobar with args in a process of its own, with env added
// to the test's environment; it returns stdout, stderr and the process's
// minor page faults.
func runIsobar(t *testing.T, env []string, args ...string) (stdout, stderr []byte, faults int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), runAsIsobarEnv+"=1"), env...)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil {
		t.Fatalf("isobar %v: %v\n%s", args, err, errs.Bytes())
	}
	return out.Bytes(), errs.Bytes(), cmd.ProcessState.SysUsage().(*syscall.Rusage).Minflt
}

// startIsobar starts isobar with args as a process of its own, its output
// kept for the test's log should it fail; stop kills it and waits.
func startIsobar(t *testing.T, env []string, args ...string) (pid int, stop func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), runAsIsobarEnv+"=1"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("isobar %v printed:\n%s", args, out.Bytes())
		}
	}
	t.Cleanup(stop)
	return cmd.Process.Pid, stop
}

// waitFor polls check every 100 ms until it says done or within passes,
// and returns its last value.
func waitFor[V any](t *testing.T, within time.Duration, check func() (V, bool)) V {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v, done := check()
		if done || time.Now().After(deadline) {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// flaggedBytes is the size of process pid's mappings whose VmFlags (in
// /proc/PID/smaps) include flag; 0 once the process is gone.
func flaggedBytes(t *testing.T, pid int, flag string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps")
	if err != nil {
		return 0
	}
	var total, size int64
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 3 && fields[0] == "Size:":
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps: %q: %v", line, err)
			}
			size = kb << 10
		case len(fields) > 0 && fields[0] == "VmFlags:" && slices.Contains(fields[1:], flag):
			total += size
		}
	}
	return total
}

// writeS1k writes the S1k corpus to file.
func writeS1k(t *testing.T, file string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Write(f, gen.S1k()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTranslateProcessHugePages runs `isobar translate` of S1k as a process
// with and without huge pages: the output is the same, and where the kernel
// gives huge pages on request the process takes far fewer page faults.
func TestTranslateProcessHugePages(t *testing.T) {
	corpus := filepath.Join(t.TempDir(), "s1k.yaml")
	writeS1k(t, corpus)
	without, _, faultsWithout := runIsobar(t, []string{hugePagesEnv + "=off"}, "translate", "-f", corpus)
	with, _, faultsWith := runIsobar(t, nil, "translate", "-f", corpus)
	if !bytes.Equal(with, without) {
		t.Fatalf("translate printed %d bytes with huge pages and %d without; want the same bytes", len(with), len(without))
	}
	t.Logf("transparent huge pages %q: %d page faults with, %d without", hugeheap.Mode(), faultsWith, faultsWithout)
	if hugeheap.Supported() && faultsWith*2 > faultsWithout {
		t.Errorf("with huge pages requested, translate of S1k took %d page faults, against %d without; want fewer than half", faultsWith, faultsWithout)
	}
}

// TestServeProcessReleasesHugePages runs `isobar serve --fixtures` on S1k
// as a process: where the kernel gives huge pages on request, the heap of
// its first build was advised for them, and the advice is withdrawn once the
// port is open (the region's mappings are marked nh: no huge pages).
func TestServeProcessReleasesHugePages(t *testing.T) {
	dir := t.TempDir()
	writeS1k(t, filepath.Join(dir, "s1k.yaml"))
	const released = 400 << 20 // of the 448 MiB readied for S1k
	for _, off := range []bool{false, true} {
		var env []string
		if off {
			env = []string{hugePagesEnv + "=off"}
		}
		httpPort := strconv.Itoa(freePort(t))
		pid, stop := startIsobar(t, env, "serve", "--fixtures", dir, "--insecure",
			"--xds-address", "127.0.0.1", "--xds-port", strconv.Itoa(freePort(t)),
			"--http-address", "127.0.0.1", "--http-port", httpPort, "--debug-http-port", "0")
		if status := waitFor(t, 60*time.Second, func() (int, bool) {
			s := httpStatus("http://127.0.0.1:" + httpPort + "/readyz")
			return s, s == http.StatusOK
		}); status != http.StatusOK {
			t.Fatalf("serve not ready after 60 s (/readyz: %d)", status)
		}
		// The advice is withdrawn as the port opens, just after /readyz.
		within := 5 * time.Second
		if off {
			within = time.Second // for nothing to happen
		}
		nh := waitFor(t, within, func() (int64, bool) {
			n := flaggedBytes(t, pid, "nh")
			return n, n >= released
		})
		stop()
		switch {
		case off && nh >= released:
			t.Errorf("with %s=off, %d MiB of serve's mappings are marked nh; want none of the first build's", hugePagesEnv, nh>>20)
		case !off && hugeheap.Supported() && nh < released:
			t.Errorf("serve's mappings marked nh (advice withdrawn) hold %d MiB; want at least %d", nh>>20, released>>20)
		}
	}
}

// TestTranslateProcessCollectsBeforeCompile: `isobar translate`, as a
// process, collects what decoding left between reading and compiling (its
// --timings show the step), unless GOGC in its environment says how to
// collect; commands run in the test's own process leave its collector
// alone.
func TestTranslateProcessCollectsBeforeCompile(t *testing.T) {
	corpus := filepath.Join(t.TempDir(), "s1k.yaml")
	writeS1k(t, corpus)
	phases := func(stderr []byte) []string {
		var out []string
		for _, line := range strings.Split(string(stderr), "\n") {
			if fields := strings.Fields(line); len(fields) >= 3 && fields[0] == "timing:" {
				out = append(out, fields[1])
			}
		}
		return out
	}
	_, stderr, _ := runIsobar(t, nil, "translate", "--timings", "-f", corpus)
	if got, want := phases(stderr), []string{"read", "collected", "compiled", "written"}; !slices.Equal(got, want) {
		t.Errorf("translate as a process: phases %v, want %v", got, want)
	}
	_, stderr, _ = runIsobar(t, []string{"GOGC=100"}, "translate", "--timings", "-f", corpus)
	if got, want := phases(stderr), []string{"read", "compiled", "written"}; !slices.Equal(got, want) {
		t.Errorf("translate with GOGC set: phases %v, want %v", got, want)
	}
	if collectLoadGarbage() {
		t.Error("a command run in the test's process collected")
	}
}
