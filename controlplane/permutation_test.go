package controlplane_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/goldentest"
)

// splitDocuments splits multi-document YAML on "---" lines.
func splitDocuments(data []byte) []string {
	var docs []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.TrimRight(line, "\r\n") == "---" {
			if strings.TrimSpace(cur.String()) != "" {
				docs = append(docs, cur.String())
			}
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	if strings.TrimSpace(cur.String()) != "" {
		docs = append(docs, cur.String())
	}
	return docs
}

// translateFiles loads files and returns the translate document's bytes.
func translateFiles(t *testing.T, opts controlplane.Options, ns string, files ...string) []byte {
	t.Helper()
	idx, _ := source.Load(source.LoadOptions{DefaultNamespace: ns}, files...)
	res, err := controlplane.Compile(idx, opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	var out bytes.Buffer
	doc := xds.Document{Resources: res.Resources, Status: res.Statuses, Findings: res.Findings}
	if err := xds.Marshal(&out, doc, xds.MarshalOptions{}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestPermutation shuffles the documents of every fixture over several files
// in seeded random orders; the output must be byte-identical each time.
func TestPermutation(t *testing.T) {
	for _, c := range goldentest.Cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(c.Input)
			if err != nil {
				t.Fatal(err)
			}
			opts, ns := goldentest.CaseOptions(t, raw)
			want := translateFiles(t, opts, ns, c.Input)
			docs := splitDocuments(raw)
			for seed := uint64(1); seed <= 3; seed++ {
				r := rand.New(rand.NewPCG(seed, seed*7919))
				shuffled := append([]string(nil), docs...)
				r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				dir := t.TempDir()
				var files []string
				for i := 0; i < 3; i++ {
					var part []string
					for j := i; j < len(shuffled); j += 3 {
						part = append(part, shuffled[j])
					}
					f := filepath.Join(dir, fmt.Sprintf("part-%d.yaml", 2-i))
					if err := os.WriteFile(f, []byte(strings.Join(part, "\n---\n")), 0o644); err != nil {
						t.Fatal(err)
					}
					files = append(files, f)
				}
				if got := translateFiles(t, opts, ns, files...); !bytes.Equal(got, want) {
					t.Fatalf("seed %d: output depends on document order", seed)
				}
			}
		})
	}
}
