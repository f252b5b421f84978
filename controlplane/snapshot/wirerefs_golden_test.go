package snapshot_test

import (
	"os"
	"reflect"
	"testing"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/internal/goldentest"
)

// TestReferencesGolden: on the listeners of every golden case, References
// (which reads the encodings) answers as decoding them in full does.
func TestReferencesGolden(t *testing.T) {
	t.Parallel()
	for _, c := range goldentest.Cases(t) {
		raw, err := os.ReadFile(c.Input)
		if err != nil {
			t.Fatal(err)
		}
		opts, ns := goldentest.CaseOptions(t, raw)
		idx, _ := source.Load(source.LoadOptions{DefaultNamespace: ns}, c.Input)
		res, err := controlplane.Compile(idx, opts)
		if err != nil {
			t.Fatalf("%s: compile: %v", c.Name, err)
		}
		for _, l := range res.Resources.Listeners {
			want, werr := snapshot.ReferencesByUnmarshal(l)
			got, err := snapshot.References(l)
			if !reflect.DeepEqual(got, want) || (err == nil) != (werr == nil) {
				t.Errorf("%s: listener %s: got %+v (%v), want %+v (%v)", c.Name, l.GetName(), got, err, want, werr)
			}
		}
	}
}
