package hugeheap

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSelected(t *testing.T) {
	for choice, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never":   "always",
		"always madvise [never]":   "never",
		"always madvise never":     "",
		"[]":                       "",
		"":                         "",
	} {
		if got := selected(choice); got != want {
			t.Errorf("selected(%q) = %q, want %q", choice, got, want)
		}
	}
}

func TestRegionLen(t *testing.T) {
	if got := (Region{Start: 4 << 20, End: 10 << 20}).Len(); got != 6<<20 {
		t.Errorf("Len = %d, want %d", got, 6<<20)
	}
	if got := (Region{}).Len(); got != 0 {
		t.Errorf("empty Len = %d", got)
	}
}

func TestStrictPolicyIn(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]bool{"2\n": true, "0\n": false, "1": false, "": false} {
		path := filepath.Join(dir, "overcommit")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := strictPolicyIn(path); got != want {
			t.Errorf("policy %q: strict = %v, want %v", content, got, want)
		}
	}
	if strictPolicyIn(filepath.Join(dir, "missing")) {
		t.Error("a missing policy file says strict")
	}
}

func TestMemTotal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meminfo")
	if err := os.WriteFile(path, []byte("MemTotal:       24584916 kB\nMemFree:        23000000 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := memTotal(path), int64(24584916)<<10; got != want {
		t.Errorf("memTotal = %d, want %d", got, want)
	}
	if got := memTotal(filepath.Join(t.TempDir(), "missing")); got != 0 {
		t.Errorf("memTotal of a missing file = %d, want 0", got)
	}
}
