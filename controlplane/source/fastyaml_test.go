package source

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// sameAsFullParser checks that whenever the fast path accepts a document,
// it gives the same JSON value as the full YAML parser.
func sameAsFullParser(t *testing.T, name string, lines []string) bool {
	t.Helper()
	fast, ok := fastJSON(lines)
	if !ok {
		return false
	}
	full, err := yaml.YAMLToJSON([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Errorf("%s: the fast path accepted a document the full parser rejects (%v):\n%s", name, err, strings.Join(lines, "\n"))
		return true
	}
	var a, b any
	if err := json.Unmarshal(fast, &a); err != nil {
		t.Fatalf("%s: fast path wrote invalid JSON %s: %v", name, fast, err)
	}
	if err := json.Unmarshal(full, &b); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(b, a); d != "" {
		t.Errorf("%s: fast path differs from the full parser (-full +fast):\n%s\ninput:\n%s", name, d, strings.Join(lines, "\n"))
	}
	return true
}

func TestFastYAMLCases(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in     string
		accept bool
	}{
		"block mapping":        {"a: 1\nb: x\nc:\n  d: true\n  e: null\n  f: ~", true},
		"indentless sequence":  {"list:\n- a\n- b: 1\n  c: 2\n-\n  - nested", true},
		"flow":                 {"a: {b: [1, 2, \"x,y\"], c: {}}\nd: []", true},
		"quotes":               {"a: \"x\\ty\\u00e9\"\nb: 'it''s'\nc: \"1.2\"", true},
		"comments":             {"# head\na: 1 # trailing\n\nb: 2", true},
		"urls and colons":      {"a: http://x.com:80/p\nb: 10.0.0.1\nc: 10s\nd: -x\ne: -1", true},
		"yes is a bool":        {"a: yes", false},
		"float":                {"a: 1.5", false},
		"octal":                {"a: 0755", false},
		"hex":                  {"a: 0x1f", false},
		"date":                 {"a: 2026-01-01", false},
		"block scalar":         {"a: |\n  text", false},
		"anchor":               {"a: &x 1\nb: *x", false},
		"multi-line plain":     {"a: one\n  two", false},
		"duplicate key":        {"a: 1\na: 2", false},
		"mis-indented mapping": {"spec: wordpress-blog\n rules:\n - host: x", false},
	} {
		lines := strings.Split(tc.in, "\n")
		if got := sameAsFullParser(t, name, lines); got != tc.accept {
			t.Errorf("%s: fast path accepted=%v, want %v", name, got, tc.accept)
		}
	}
}

// TestFastYAMLOnFixtures runs every document of every fixture through both
// parsers.
func TestFastYAMLOnFixtures(t *testing.T) {
	t.Parallel()
	var files []string
	_ = filepath.WalkDir("../../fixtures", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	accepted := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range splitDocuments(string(bytes.TrimSpace(data))) {
			if d.splitLines(); sameAsFullParser(t, f, d.lines) {
				accepted++
			}
		}
	}
	if accepted < 50 {
		t.Errorf("the fast path accepted only %d fixture documents", accepted)
	}
}

// FuzzFastYAML: whatever the fast path accepts, it agrees with the full parser.
func FuzzFastYAML(f *testing.F) {
	for _, s := range []string{"a: 1\nb:\n- x\n- {y: [1, 2]}", "metadata:\n  name: x\n  labels: {a: b}", "k: 'q''s'\nl: \"e\\n\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sameAsFullParser(t, "fuzz", strings.Split(s, "\n"))
	})
}

// TestMayParseAsNumber: whenever strconv.ParseFloat or ParseInt (base 0)
// accepts a string (underscores removed), mayParseAsNumber says it may, so
// numberLike's answers do not change; IP addresses and durations skip the
// parses.
func TestMayParseAsNumber(t *testing.T) {
	accepted := func(v string) bool {
		v = strings.ReplaceAll(v, "_", "")
		_, ferr := strconv.ParseFloat(v, 64)
		_, ierr := strconv.ParseInt(v, 0, 64)
		return ferr == nil || ierr == nil
	}
	for _, v := range []string{"1", "-1.5", "+.5", "1e3", "1E-3", "0x1F", "0x1.8p3", "0o17", "0b101", "1_000", "inf", "-Infinity",
		"NaN", "1.", ".5e+7", "0X_1f", "10.0.0.1", "10s", "1.2.3", "1h30m", "192.168.1.1:80", "2026-12-01", "abc", "1-2", "--1", "0xg"} {
		if accepted(v) && !mayParseAsNumber(v) {
			t.Errorf("%q is a number but mayParseAsNumber says no", v)
		}
	}
	for _, v := range []string{"10.0.0.1", "10s", "1.2.3", "1h30m", "250ms"} {
		if mayParseAsNumber(v) {
			t.Errorf("%q: mayParseAsNumber says it may parse", v)
		}
	}
}

// FuzzMayParseAsNumber: no string strconv accepts as a number is refused.
func FuzzMayParseAsNumber(f *testing.F) {
	for _, v := range []string{"1", "0x1.8p3", "-inf", "10.0.0.1", "1_0"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		w := strings.ReplaceAll(v, "_", "")
		_, ferr := strconv.ParseFloat(w, 64)
		_, ierr := strconv.ParseInt(w, 0, 64)
		if (ferr == nil || ierr == nil) && !mayParseAsNumber(v) {
			t.Errorf("%q is a number but mayParseAsNumber says no", v)
		}
	})
}
