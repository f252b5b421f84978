package xds_test

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protopath"
	"google.golang.org/protobuf/reflect/protorange"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/goldentest"
	"github.com/isobar-dev/isobar/sim/gen"
)

// checkCorpus compares the fast encoder with protojson on every resource
// and returns how many it accepted. It also checks that every message in
// the resources (outside Anys) is of a type the encoder reads through its
// Go struct, its fastest path.
func checkCorpus(t *testing.T, res *xds.Resources) (accepted, total int) {
	t.Helper()
	var f xds.FastJSON // one encoder for the whole corpus, as Marshal does
	noPlan := map[protoreflect.FullName]bool{}
	for _, m := range res.Messages() {
		total++
		if f.Check(t, m) {
			accepted++
		}
		err := protorange.Range(m.ProtoReflect(), func(v protopath.Values) error {
			if msg, ok := v.Index(-1).Value.Interface().(protoreflect.Message); ok {
				if name := msg.Descriptor().FullName(); !strings.HasPrefix(string(name), "google.protobuf.") && !xds.HasStructPlan(msg.Interface()) {
					noPlan[name] = true
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for name := range noPlan {
		t.Errorf("%s is read through protoreflect, not its struct", name)
	}
	return accepted, total
}

// TestFastJSONGoldenCases: on every resource of every golden case
// (fixtures/**/input.yaml, compiled with the options of its args header),
// the fast encoder writes what protojson writes, and it is what runs: it
// declines at most 1% of them.
func TestFastJSONGoldenCases(t *testing.T) {
	t.Parallel()
	accepted, total := 0, 0
	for _, c := range goldentest.Cases(t) {
		a, n := checkCorpus(t, compileCase(t, c))
		accepted, total = accepted+a, total+n
	}
	t.Logf("accepted %d of %d resources", accepted, total)
	if total < 100 {
		t.Fatalf("only %d resources in the golden cases", total)
	}
	if accepted*100 < total*99 {
		t.Errorf("the fast encoder accepted %d of %d resources, want at least 99%%", accepted, total)
	}
}

// TestFastJSONGeneratedCorpus does the same on the generated S1k corpus
// (the shape of the benchmarks' S10k).
func TestFastJSONGeneratedCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the S1k corpus")
	}
	t.Parallel()
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, gen.S1k()); err != nil {
		t.Fatal(err)
	}
	idx, problems := source.LoadBytes(source.LoadOptions{}, "s1k", buf.Bytes())
	if len(problems) > 0 {
		t.Fatalf("%d problems, first: %v", len(problems), problems[0])
	}
	res, err := controlplane.Compile(idx, controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	accepted, total := checkCorpus(t, res.Resources)
	t.Logf("accepted %d of %d resources", accepted, total)
	if total < 1000 || accepted*100 < total*99 {
		t.Errorf("the fast encoder accepted %d of %d resources, want at least 99%%", accepted, total)
	}
}

// BenchmarkFastJSON encodes every resource of the S10k corpus on one core,
// with protojson and with the fast encoder, and reports how many the fast
// encoder declined.
func BenchmarkFastJSON(b *testing.B) {
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, gen.S10k()); err != nil {
		b.Fatal(err)
	}
	idx, _ := source.LoadBytes(source.LoadOptions{}, "s10k", buf.Bytes())
	res, err := controlplane.Compile(idx, controlplane.Options{})
	if err != nil {
		b.Fatal(err)
	}
	msgs := res.Resources.Messages()
	b.Run("protojson", func(b *testing.B) {
		opts := protojson.MarshalOptions{UseProtoNames: true}
		var out []byte
		for b.Loop() {
			for _, m := range msgs {
				if out, err = opts.MarshalAppend(out[:0], m); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		var f xds.FastJSON
		var out []byte
		declined := 0
		for b.Loop() {
			declined = 0
			for _, m := range msgs {
				var ok bool
				if out, ok = f.Append(out[:0], m); !ok {
					declined++
				}
			}
		}
		b.ReportMetric(float64(declined), "declined")
		b.ReportMetric(float64(len(msgs)), "resources")
	})
}
