package hugeheap

import "testing"

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
