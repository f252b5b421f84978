package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isobar-dev/isobar/internal/goldentest"
)

// TestDiffGolden runs isobar diff on every fixtures/diff/<case>/{base,head}.yaml
// in text and markdown and checks the exit code the case's name implies.
func TestDiffGolden(t *testing.T) {
	dirs, err := filepath.Glob(goldentest.Path("fixtures/diff/*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no diff cases (%v)", err)
	}
	wantCode := map[string]int{"canary-shift": exitFindings, "delegation-revoked": exitDanger, "ingress-steal": exitFindings}
	used := map[string]bool{}
	for _, d := range dirs {
		name := filepath.Base(d)
		rel := "fixtures/diff/" + name
		for _, format := range []string{"text", "markdown"} {
			golden := "golden/diff/" + name + "." + map[string]string{"text": "txt", "markdown": "md"}[format]
			used[golden] = true
			t.Run(name+"/"+format, func(t *testing.T) {
				out, errOut, code := run(t, "", "diff", "--base", rel+"/base.yaml", "--head", rel+"/head.yaml", "-o", format)
				want, ok := wantCode[name]
				if !ok {
					t.Fatalf("add the expected exit code of %s to the test", name)
				}
				if code != want {
					t.Errorf("exit %d, want %d\n%s%s", code, want, out, errOut)
				}
				goldentest.CheckText(t, golden, []byte(out))
			})
		}
	}
	t.Run("no change", func(t *testing.T) {
		out, _, code := run(t, "", "diff", "--base", "fixtures/diff/canary-shift/base.yaml", "--head", "fixtures/diff/canary-shift/base.yaml")
		if code != 0 || out != "no change (1 requests compared)\n" {
			t.Errorf("exit %d, output %q", code, out)
		}
	})
	t.Run("timings", func(t *testing.T) {
		base := "fixtures/diff/canary-shift/base.yaml"
		_, errOut, _ := run(t, "", "diff", "--base", base, "--head", base, "--timings")
		for _, phase := range []string{"base read", "head compiled", "compared", "written"} {
			if !strings.Contains(errOut, "timing: "+phase) {
				t.Errorf("no %q timing in %q", phase, errOut)
			}
		}
		if _, errOut, _ := run(t, "", "diff", "--base", base, "--head", base); strings.Contains(errOut, "timing:") {
			t.Errorf("timings without --timings: %q", errOut)
		}
	})
	goldentest.Orphans(t, "golden/diff", used)
}

// TestDiffClientIP: a requests file's clientIP reaches the IP filters, so
// a narrowed allow list shows as a request that is no longer routed; the
// same URL from another address is another request.
func TestDiffClientIP(t *testing.T) {
	base := "fixtures/httpproxy-ip-filters/input.yaml"
	data, err := os.ReadFile(goldentest.Path(base))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	head, reqs := filepath.Join(dir, "head.yaml"), filepath.Join(dir, "requests.yaml")
	narrowed := strings.Replace(string(data), "cidr: 10.1.2.3/8", "cidr: 10.20.0.0/16", 1)
	requests := "- url: http://office.example.com/\n  clientIP: 10.1.0.1\n- url: http://office.example.com/\n  clientIP: 10.20.30.40\n"
	for name, content := range map[string]string{head: narrowed, reqs: requests} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := run(t, "", "diff", "--base", base, "--head", head, "--requests", reqs, "--no-probes")
	want := "GET http://office.example.com/ --client-ip 10.1.0.1  [UNROUTED]\n      before: 200 app/a:80\n      after:  403 (not routed)"
	if code != exitDanger || !strings.Contains(out, want) || strings.Contains(out, "10.20.30.40") || !strings.Contains(out, "2 requests compared, 1 change") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
