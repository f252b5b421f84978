package router

import "testing"

func TestStripHostDot(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a.com.": "a.com", "a.com": "a.com", "a.com.:8080": "a.com:8080", "a.com:8080": "a.com:8080",
		"[::1]": "[::1]", "[::1]:80": "[::1]:80", "": "",
	} {
		if got := stripHostDot(in); got != want {
			t.Errorf("stripHostDot(%q) = %q, want %q", in, got, want)
		}
	}
}
