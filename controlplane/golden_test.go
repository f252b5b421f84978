package controlplane_test

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"sigs.k8s.io/yaml"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/goldentest"
	"github.com/isobar-dev/isobar/internal/typedconfig"
)

// compileCase loads and compiles one case, returning the translate document
// and the load problems rendered as text.
func compileCase(t *testing.T, c goldentest.Case) (xds.Document, string) {
	t.Helper()
	raw, err := os.ReadFile(c.Input)
	if err != nil {
		t.Fatal(err)
	}
	opts, ns := goldentest.CaseOptions(t, raw)
	idx, problems := source.Load(source.LoadOptions{DefaultNamespace: ns}, c.Input)
	res, err := controlplane.Compile(idx, opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var pb strings.Builder
	for _, p := range problems {
		pb.WriteString(strings.ReplaceAll(p.Error(), goldentest.Root()+string(filepath.Separator), "") + "\n")
	}
	return xds.Document{Resources: res.Resources, Status: res.Statuses, Findings: res.Findings}, pb.String()
}

// TestGolden compiles every fixture and compares the xDS (as protos, with
// protocmp), the statuses and the findings with golden/<case>/translate.yaml.
func TestGolden(t *testing.T) {
	used := map[string]bool{}
	for _, c := range goldentest.Cases(t) {
		gpath := path.Join("golden", c.Name, "translate.yaml")
		ppath := path.Join("golden", c.Name, "problems.txt")
		used[gpath] = true
		doc, problems := compileCase(t, c)
		if problems != "" {
			used[ppath] = true
		}
		t.Run(c.Name, func(t *testing.T) {
			var got bytes.Buffer
			if err := xds.Marshal(&got, doc, xds.MarshalOptions{}); err != nil {
				t.Fatal(err)
			}
			if problems != "" {
				goldentest.CheckText(t, ppath, []byte(problems))
			}
			checkEnvoyAccepts(t, doc.Resources)
			if goldentest.Write(t, gpath, got.Bytes()) {
				return
			}
			compareDocument(t, gpath, goldentest.Read(t, gpath), got.Bytes())
		})
	}
	goldentest.Orphans(t, "golden", withPrefixesOf(used, "golden/scenarios/", "golden/route/", "golden/diff/", "golden/readme/"))
}

// checkEnvoyAccepts fails t if Envoy would refuse something in res: a
// typed configuration (an HTTP connection manager, a filter's, a TLS
// context, …; Compile validates each resource, which stops at its Anys),
// or a rule Envoy checks in code (loadRuleError).
func checkEnvoyAccepts(t testing.TB, res *xds.Resources) {
	t.Helper()
	if err := envoyRefusal(res); err != nil {
		t.Fatalf("Envoy would refuse it: %v", err)
	}
}

// envoyRefusal is the first thing in res Envoy would refuse, or nil.
func envoyRefusal(res *xds.Resources) error {
	for _, m := range res.Messages() {
		if err := typedconfig.Validate(m); err != nil {
			return err
		}
	}
	return loadRuleError(res)
}

// withPrefixesOf marks every existing golden under the given prefixes as
// used: other tests own them and check their own orphans.
func withPrefixesOf(used map[string]bool, prefixes ...string) map[string]bool {
	out := map[string]bool{}
	for k := range used {
		out[k] = true
	}
	_ = filepath.WalkDir(goldentest.Path("golden"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(goldentest.Root(), p)
		rel = filepath.ToSlash(rel)
		for _, pre := range prefixes {
			if strings.HasPrefix(rel, pre) {
				out[rel] = true
			}
		}
		return nil
	})
	return out
}

// compareDocument parses both documents and compares resources as protos and
// status/findings as values.
func compareDocument(t *testing.T, name string, want, got []byte) {
	t.Helper()
	wantRes, err := xds.Parse(want)
	if err != nil {
		t.Fatalf("%s: golden does not parse: %v", name, err)
	}
	gotRes, err := xds.Parse(got)
	if err != nil {
		t.Fatalf("%s: output does not parse: %v", name, err)
	}
	if d := cmp.Diff(wantRes, gotRes, protocmp.Transform()); d != "" {
		t.Errorf("%s: xDS differs from the golden (-want +got); run `make update-golden` if intended:\n%s", name, d)
	}
	var wantRest, gotRest struct {
		Status   []status.Object  `json:"status"`
		Findings []status.Finding `json:"findings"`
	}
	if err := yaml.Unmarshal(want, &wantRest); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := yaml.Unmarshal(got, &gotRest); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if d := cmp.Diff(wantRest, gotRest); d != "" {
		t.Errorf("%s: status or findings differ from the golden (-want +got); run `make update-golden` if intended:\n%s", name, d)
	}
}
