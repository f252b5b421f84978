package translate

import (
	"bytes"
	"testing"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/sim/gen"
)

// BenchmarkEndpoints is the endpoints pass of a translation of S10k: every
// ClusterLoadAssignment and the Services' endpoint findings.
func BenchmarkEndpoints(b *testing.B) {
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, gen.S10k()); err != nil {
		b.Fatal(err)
	}
	idx, problems := source.LoadBytes(source.LoadOptions{}, "S10k", buf.Bytes())
	if len(problems) > 0 {
		b.Fatalf("%d problems, first: %v", len(problems), problems[0])
	}
	g, _ := graph.Build(idx, graph.Options{})
	tr, err := TranslateAll(g, idx)
	if err != nil {
		b.Fatal(err)
	}
	_, keys := (&translator{clusters: tr.Clusters}).clusterResources(sortedKeys(tr.Clusters))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := &translator{idx: idx, clusters: tr.Clusters}
		if out := t.endpoints(keys); len(out) == 0 {
			b.Fatal("no assignments")
		}
	}
}
