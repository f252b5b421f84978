package linediff

import "testing"

func TestUnified(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ a, b, want string }{
		"equal": {"a\nb\n", "a\nb\n", ""},
		"one line changed": {
			"a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nX\ne\nf\ng\n",
			"--- want\n+++ got\n@@ -2,5 +2,5 @@\n b\n c\n-d\n+X\n e\n f\n",
		},
		"added at end": {
			"a\nb\n", "a\nb\nc\n",
			"--- want\n+++ got\n@@ -1,2 +1,3 @@\n a\n b\n+c\n",
		},
		"removed at start": {
			"x\na\nb\n", "a\nb\n",
			"--- want\n+++ got\n@@ -1,3 +1,2 @@\n-x\n a\n b\n",
		},
		"two distant hunks": {
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\nX\n3\n4\n5\n6\n7\n8\nY\n10\n",
			"--- want\n+++ got\n@@ -1,3 +1,3 @@\n 1\n-2\n+X\n 3\n@@ -8,3 +8,3 @@\n 8\n-9\n+Y\n 10\n",
		},
		"empty to text": {"", "a\n", "--- want\n+++ got\n@@ -0,0 +1,1 @@\n+a\n"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := 2
			if name == "two distant hunks" {
				ctx = 1
			}
			if got := Unified("want", "got", tc.a, tc.b, ctx); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
