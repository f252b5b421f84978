package source_test

import (
	"bytes"
	"testing"

	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/sim/gen"
)

// BenchmarkWriteAfterSnapshot is what a live index pays for one change
// between two builds, with S10k loaded: a Snapshot for the build, then the
// write of one HTTPProxy or one EndpointSlice (the two kinds that take
// the incremental paths), which copies what the snapshot shares.
func BenchmarkWriteAfterSnapshot(b *testing.B) {
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, gen.S10k()); err != nil {
		b.Fatal(err)
	}
	idx, problems := source.LoadBytes(source.LoadOptions{}, "S10k", buf.Bytes())
	if len(problems) > 0 {
		b.Fatal(problems[0])
	}
	objects := map[string]any{}
	objects["HTTPProxy"], _ = idx.HTTPProxies.Get(idx.HTTPProxies.SortedKeys()[0])
	slices, _ := idx.EndpointSlices.Get(idx.EndpointSlices.SortedKeys()[0])
	for _, s := range slices {
		objects["EndpointSlice"] = s // any of the first Service's
	}
	for _, kind := range []string{"HTTPProxy", "EndpointSlice"} {
		b.Run(kind, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				idx.Snapshot()
				if err := idx.Upsert(objects[kind]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
