package router_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/goldentest"
	"github.com/isobar-dev/isobar/sim/router"
)

// TestSameAnswerFromDump checks that the evaluator gives the same answer for
// a configuration produced by Compile and for the same configuration read
// back from its JSON and YAML dumps.
func TestSameAnswerFromDump(t *testing.T) {
	files, _ := filepath.Glob(goldentest.Path("fixtures/seeds/*/requests.yaml"))
	if len(files) == 0 {
		t.Fatal("no requests files")
	}
	for _, f := range files {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			idx, _ := source.Load(source.LoadOptions{}, dir)
			res, err := controlplane.Compile(idx, controlplane.Options{})
			if err != nil {
				t.Fatal(err)
			}
			cases, err := router.LoadCases(f)
			if err != nil {
				t.Fatal(err)
			}
			direct := router.New(res.Resources, router.Options{})
			for _, format := range []xds.Format{xds.JSON, xds.YAML} {
				var dump bytes.Buffer
				if err := xds.Marshal(&dump, xds.Document{Resources: res.Resources}, xds.MarshalOptions{Format: format, ShowSecrets: true}); err != nil {
					t.Fatal(err)
				}
				parsed, err := xds.Parse(dump.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				fromDump := router.New(parsed, router.Options{})
				for _, c := range cases {
					if d := cmp.Diff(direct.Evaluate(c.Request()), fromDump.Evaluate(c.Request())); d != "" {
						t.Errorf("%s %s: answers differ (-compiled +%s dump):\n%s", format, c.URL, format, d)
					}
				}
			}
		})
	}
}
