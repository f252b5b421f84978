package snapshot_test

import (
	"bytes"
	"fmt"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/sim/gen"
)

// TestMarshalSplitIsProtoEncoding: assembling a route configuration or a
// listener from its elements encoded apart gives proto's own bytes, on a
// generated cluster big enough to split, and with fields on both sides of
// the split one.
func TestMarshalSplitIsProtoEncoding(t *testing.T) {
	var buf bytes.Buffer
	o := gen.S1k()
	o.Proxies, o.Ingresses = 2400, 10
	if _, err := gen.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	idx, problems := source.LoadBytes(source.LoadOptions{}, "gen.yaml", buf.Bytes())
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	res, err := controlplane.Compile(idx, controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rc := proto.Clone(res.Resources.RouteConfiguration("ingress_http")).(*routev3.RouteConfiguration)
	rc.ValidateClusters = nil
	rc.MaxDirectResponseBodySizeBytes = nil
	rc.InternalOnlyHeaders = []string{"x-internal"} // numbered above virtual_hosts
	split := 0
	msgs := []proto.Message{rc}
	for _, l := range res.Resources.Listeners {
		msgs = append(msgs, l)
	}
	for _, m := range msgs {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := snapshot.MarshalSplit(m)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		split++
		if !bytes.Equal(got, want) {
			t.Errorf("%T: split encoding differs from proto's (%d vs %d bytes)", m, len(got), len(want))
		}
	}
	if split < 2 {
		t.Errorf("only %d resources were big enough to split", split)
	}
}

func TestMarshalSplitSmallMessages(t *testing.T) {
	l := &listenerv3.Listener{Name: "l"}
	for i := range snapshot.MinSplit - 1 {
		l.FilterChains = append(l.FilterChains, &listenerv3.FilterChain{Name: fmt.Sprint(i)})
	}
	if _, ok, _ := snapshot.MarshalSplit(l); ok {
		t.Error("a listener below minSplit filter chains was split")
	}
}
