package main

import (
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
