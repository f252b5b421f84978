package main

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/pprof/profile"
)

// TestLiveByPart charges each sample to the innermost frame of this module
// on its stack, written out as a real heap profile and read back.
func TestLiveByPart(t *testing.T) {
	fns := map[string]*profile.Function{}
	fn := func(name string) *profile.Function {
		if f, ok := fns[name]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(fns) + 1), Name: name}
		fns[name] = f
		return f
	}
	var locs []*profile.Location
	// loc is one location whose lines are names, innermost first (inlined
	// calls).
	loc := func(names ...string) *profile.Location {
		l := &profile.Location{ID: uint64(len(locs) + 1)}
		for _, n := range names {
			l.Line = append(l.Line, profile.Line{Function: fn(n)})
		}
		locs = append(locs, l)
		return l
	}
	sample := func(inuse int64, stack ...*profile.Location) *profile.Sample {
		return &profile.Sample{Location: stack, Value: []int64{1, inuse * 2, 1, inuse}}
	}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
			{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"},
		},
		Sample: []*profile.Sample{
			// A library's allocation is charged to the module's caller.
			sample(100, loc("reflect.unsafe_NewArray"), loc("reflect.MakeSlice"),
				loc("github.com/isobar-dev/isobar/controlplane/source.(*quickDecoder).sliceValue"),
				loc("github.com/isobar-dev/isobar/controlplane/live.(*Loop).Run")),
			// The innermost of inlined frames decides.
			sample(40, loc("github.com/isobar-dev/isobar/controlplane/envoy.LbEndpoints",
				"github.com/isobar-dev/isobar/controlplane/translate.assignment")),
			sample(2, loc("github.com/isobar-dev/isobar/controlplane/translate.newBlocks")),
			sample(30, loc("runtime.malg"), loc("runtime.newproc1")),
			sample(7, loc("github.com/isobar-dev/isobar/controlplane.(*Compiler).claim")),
			sample(5, loc("github.com/isobar-dev/isobar/internal/hugeheap.reserve")),
			sample(9, loc("google.golang.org/grpc/mem.NewBuffer"),
				loc("github.com/isobar-dev/isobar/controlplane/server.newWired.func1")),
		},
		Location: locs,
	}
	for _, f := range fns {
		p.Function = append(p.Function, f)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := liveByPart(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := heapBudget{"objects": 100, "xds messages": 42, "runtime and libraries": 30,
		"compiler bookkeeping": 7, "other Isobar code": 5, "encodings and streams": 9}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("liveByPart (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"objects", "xds messages", "runtime and libraries", "encodings and streams",
		"compiler bookkeeping", "other Isobar code"}, got.parts()); d != "" {
		t.Errorf("parts, largest first (-want +got):\n%s", d)
	}
	if _, err := liveByPart([]byte("not a profile")); err == nil {
		t.Error("liveByPart read a file that is not a profile")
	}
}

func TestModulePackage(t *testing.T) {
	for name, want := range map[string]string{
		"github.com/isobar-dev/isobar/controlplane/source.(*loader).add":     "controlplane/source",
		"github.com/isobar-dev/isobar/controlplane.Compile":                  "controlplane",
		"github.com/isobar-dev/isobar/controlplane.(*Compiler).Update.func1": "controlplane",
		"github.com/isobar-dev/isobar/cmd/isobar.main":                       "cmd/isobar",
		"github.com/isobar-dev/isobar/internal/parallel.For[...].func1":      "internal/parallel",
	} {
		got, ok := modulePackage(name)
		if !ok || got != want {
			t.Errorf("modulePackage(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	if _, ok := modulePackage("runtime.mallocgc"); ok {
		t.Error("runtime.mallocgc is not this module's")
	}
}
