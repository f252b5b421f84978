package scenario

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/isobar-dev/isobar/internal/goldentest"
)

// TestScenarios replays every scenario under fixtures/scenarios against its
// goldens (make update-golden rewrites them).
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(goldentest.Path("fixtures/scenarios/*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios found (%v)", err)
	}
	used := map[string]bool{}
	for _, f := range files {
		sc, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Story == "" {
			t.Errorf("%s: a scenario starts with its story in a comment", f)
		}
		for _, st := range sc.Steps {
			used["golden/scenarios/"+sc.Name+"/"+st.Name+".yaml"] = true
		}
		t.Run(sc.Name, func(t *testing.T) {
			res, err := Run(sc, RunOptions{GoldenDir: goldentest.Path("golden/scenarios"), Update: goldentest.Updating()})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range res.Steps {
				for _, f := range s.Failures {
					t.Errorf("step %s: %s", s.Name, f)
				}
				if s.Diff != "" {
					t.Errorf("step %s: xDS differs from the golden:\n%s", s.Name, s.Diff)
				}
			}
		})
	}
	goldentest.Orphans(t, "golden/scenarios", used)
}

// TestChecksCanFail proves the checks bite: a wrong expectation, a route
// that stops being routed, and a changed golden are all reported.
func TestChecksCanFail(t *testing.T) {
	sc, err := Load(goldentest.Path("fixtures/scenarios/child-deleted-restored.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sc.Steps[1].AllowUnrouted = nil // the deleted child's probes now count
	sc.Steps[1].Expect.Status[0].CurrentStatus = "valid"
	res, err := Run(sc, RunOptions{GoldenDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(res.Steps[1].Failures, "\n")
	for _, want := range []string{"status of HTTPProxy roots/demo: want valid, got invalid", "transition safety: GET http://demo.projectcontour.io/blog"} {
		if !strings.Contains(got, want) {
			t.Errorf("failures do not mention %q:\n%s", want, got)
		}
	}
	if !strings.Contains(res.Steps[0].Diff, "is missing") {
		t.Errorf("a missing golden is not reported: %q", res.Steps[0].Diff)
	}
}
