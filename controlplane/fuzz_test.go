package controlplane_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/goldentest"
)

// FuzzTranslate feeds arbitrary manifests to the whole pipeline, seeded from
// fixtures/. Properties: no panic; Compile succeeds (every emitted resource
// passed Validate and the set is consistent); Envoy would accept all of it
// (checkEnvoyAccepts); the output is deterministic.
// An input whose args header is a seed's is compiled with those options
// (the fallback certificate, global authorization, tracing, …), so that
// mutated manifests meet them too; any other header is ignored.
func FuzzTranslate(f *testing.F) {
	matches, _ := filepath.Glob("../fixtures/*/input.yaml")
	more, _ := filepath.Glob("../fixtures/*/*/input.yaml")
	headers := map[string]bool{}
	for _, m := range append(matches, more...) {
		b, err := os.ReadFile(m)
		if err == nil {
			f.Add(b)
			headers[goldentest.ArgsHeader(b)] = true
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if p := os.Getenv("FUZZ_TRACE"); p != "" {
			_ = os.WriteFile(p, data, 0o644)
		}
		file := filepath.Join(t.TempDir(), "in.yaml")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts, ns := controlplane.Options{}, "default"
		if h := goldentest.ArgsHeader(data); h != "" && headers[h] {
			if o, n, err := goldentest.ParseCaseOptions(data); err == nil {
				opts, ns = o, n
			}
		}
		run := func() []byte {
			idx, _ := source.Load(source.LoadOptions{DefaultNamespace: ns}, file)
			res, err := controlplane.Compile(idx, opts)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if err := snapshot.Consistent(res.Resources); err != nil {
				t.Fatalf("inconsistent snapshot: %v", err)
			}
			checkEnvoyAccepts(t, res.Resources)
			var out bytes.Buffer
			doc := xds.Document{Resources: res.Resources, Status: res.Statuses, Findings: res.Findings}
			if err := xds.Marshal(&out, doc, xds.MarshalOptions{}); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}
		if a, b := run(), run(); !bytes.Equal(a, b) {
			t.Fatal("two compiles of the same input differ")
		}
	})
}
