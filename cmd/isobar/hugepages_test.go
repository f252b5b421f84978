package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/isobar-dev/isobar/internal/hugeheap"
	"github.com/isobar-dev/isobar/sim/gen"
)

// runAsIsobarEnv makes the test binary run isobar's main (see TestMain).
const runAsIsobarEnv = "ISOBAR_TEST_RUN_AS_ISOBAR"

// runIsobar runs isobar with args in a process of its own, with env added
// to the test's environment; it returns stdout and the process's minor page
// faults.
func runIsobar(t *testing.T, env []string, args ...string) ([]byte, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), runAsIsobarEnv+"=1"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("isobar %v: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes(), cmd.ProcessState.SysUsage().(*syscall.Rusage).Minflt
}

// TestTranslateProcessHugePages runs `isobar translate` of S1k as a process
// with and without huge pages: the output is the same, and where the kernel
// gives huge pages on request the process takes far fewer page faults.
func TestTranslateProcessHugePages(t *testing.T) {
	corpus := filepath.Join(t.TempDir(), "s1k.yaml")
	f, err := os.Create(corpus)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Write(f, gen.S1k()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	without, faultsWithout := runIsobar(t, []string{hugePagesEnv + "=off"}, "translate", "-f", corpus)
	with, faultsWith := runIsobar(t, nil, "translate", "-f", corpus)
	if !bytes.Equal(with, without) {
		t.Fatalf("translate printed %d bytes with huge pages and %d without; want the same bytes", len(with), len(without))
	}
	t.Logf("transparent huge pages %q: %d page faults with, %d without", hugeheap.Mode(), faultsWith, faultsWithout)
	if hugeheap.Mode() == "madvise" && faultsWith*2 > faultsWithout {
		t.Errorf("with huge pages requested, translate of S1k took %d page faults, against %d without; want fewer than half", faultsWith, faultsWithout)
	}
}
