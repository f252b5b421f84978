package hugeheap

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// mapping is one entry of /proc/self/smaps.
type mapping struct {
	start, end    uintptr
	flags         []string
	anonHugeBytes int64
}

func readSmaps(t *testing.T) []mapping {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []mapping
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				out = append(out, mapping{start: uintptr(start), end: uintptr(end)})
				continue
			}
		}
		if len(out) == 0 {
			continue
		}
		m := &out[len(out)-1]
		switch fields[0] {
		case "VmFlags:":
			m.flags = fields[1:]
		case "AnonHugePages:":
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps: %q: %v", s.Text(), err)
			}
			m.anonHugeBytes = kb << 10
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// overlapping are the mappings that share addresses with [lo, hi).
func overlapping(ms []mapping, lo, hi uintptr) []mapping {
	var out []mapping
	for _, m := range ms {
		if m.start < hi && lo < m.end {
			out = append(out, m)
		}
	}
	return out
}

func TestPrepare(t *testing.T) {
	const size = 256 << 20
	r, err := Prepare(size)
	if err != nil {
		t.Fatal(err)
	}
	if mode := Mode(); !Supported() || addressSpaceLimited() {
		if r != (Region{}) {
			t.Fatalf("with transparent huge pages %q (strict overcommit: %v, address space limited: %v) Prepare advised %#x-%#x; want nothing",
				mode, strictOvercommit(), addressSpaceLimited(), r.Start, r.End)
		}
		return
	}
	if r.Len() < size-2*hugePageSize || r.Start%hugePageSize != 0 || r.End%hugePageSize != 0 {
		t.Fatalf("Prepare(%d) advised %#x-%#x (%d bytes), want about %d bytes on huge page boundaries", size, r.Start, r.End, r.Len(), size)
	}
	ms := overlapping(readSmaps(t), r.Start, r.End)
	if len(ms) == 0 {
		t.Fatalf("no mapping holds the advised range %#x-%#x", r.Start, r.End)
	}
	covered := uintptr(0)
	for _, m := range ms {
		if !contains(m.flags, "hg") {
			t.Errorf("mapping %#x-%#x of the advised range has flags %v, want hg (MADV_HUGEPAGE)", m.start, m.end, m.flags)
		}
		covered += min(m.end, r.End) - max(m.start, r.Start)
	}
	if covered != r.Len() {
		t.Errorf("mappings cover %d of the %d bytes advised", covered, r.Len())
	}

	// What the program allocates next comes from the range, in huge pages.
	block := make([]byte, 32<<20)
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(block)))
	hi := lo + uintptr(len(block))
	if hi > r.End || hi < r.Start+16<<20 {
		t.Fatalf("a 32 MiB allocation after Prepare is at %#x-%#x, outside the advised %#x-%#x", lo, hi, r.Start, r.End)
	}
	for i := 0; i < len(block); i += 4096 {
		block[i] = 1
	}
	var huge int64
	for _, m := range overlapping(readSmaps(t), lo, hi) {
		huge += m.anonHugeBytes
	}
	if huge < hugePageSize {
		t.Errorf("after touching 32 MiB of the advised range, its mappings hold %d bytes of huge pages", huge)
	}

	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
	for _, m := range overlapping(readSmaps(t), r.Start, r.End) {
		if contains(m.flags, "hg") || !contains(m.flags, "nh") {
			t.Errorf("after Release, mapping %#x-%#x of the range has flags %v, want nh and not hg", m.start, m.end, m.flags)
		}
	}
	if err := (Region{}).Release(); err != nil {
		t.Errorf("releasing the empty region: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestPrepareSmallIsNothing(t *testing.T) {
	if r, err := Prepare(hugePageSize); err != nil || r != (Region{}) {
		t.Errorf("Prepare(one huge page) = %+v, %v; want nothing", r, err)
	}
}

// TestPrepareUnderAddressSpaceLimit runs itself again under ulimit -v:
// there Prepare maps nothing, since mapping a heap in advance could exceed
// the limit and take the process down.
func TestPrepareUnderAddressSpaceLimit(t *testing.T) {
	if os.Getenv("HUGEHEAP_TEST_CHILD") == "1" {
		if !addressSpaceLimited() {
			t.Fatal("the child does not see its address space limit")
		}
		if r, err := Prepare(256 << 20); err != nil || r != (Region{}) {
			t.Fatalf("Prepare under ulimit -v = %+v, %v; want nothing", r, err)
		}
		return
	}
	cmd := exec.Command("sh", "-c", `ulimit -v 8000000 && exec "$0" -test.run '^TestPrepareUnderAddressSpaceLimit$' -test.v`, os.Args[0])
	cmd.Env = append(os.Environ(), "HUGEHEAP_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestPrepareUnderAddressSpaceLimit") {
		t.Fatalf("the child under ulimit -v: %v\n%s", err, out)
	}
}
