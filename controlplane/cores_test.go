package controlplane_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/sim/gen"
)

// TestCompileSameOnAnyCoreCount compiles a generated cluster large enough
// for every parallel stage (admissions, roots, shadow checks, host sorts,
// hosts, clusters, endpoints, validation, resource sorts) on one core and
// on several: the results must be equal.
func TestCompileSameOnAnyCoreCount(t *testing.T) {
	var buf bytes.Buffer
	o := gen.S1k()
	o.Proxies, o.Ingresses = 6000, 600
	if _, err := gen.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	idx, problems := source.LoadBytes(source.LoadOptions{}, "gen.yaml", buf.Bytes())
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	compile := func(procs int) *controlplane.Result {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		res, err := controlplane.Compile(idx, controlplane.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res.Graph = nil // compared through what it produced
		return res
	}
	one := compile(1)
	many := compile(4)
	if d := cmp.Diff(one, many, protocmp.Transform()); d != "" {
		t.Errorf("one core and four differ (-one +four):\n%s", d)
	}
	if len(one.Statuses) < 600 || len(one.Resources.Clusters) == 0 {
		t.Errorf("too little compiled to compare: %d statuses, %d clusters", len(one.Statuses), len(one.Resources.Clusters))
	}
}
