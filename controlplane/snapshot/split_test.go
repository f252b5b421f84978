package snapshot_test

import (
	"bytes"
	"fmt"
	"slices"
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
	// Again through an Encoder, replacing every hundredth virtual host of
	// a new route configuration that keeps the others.
	var enc snapshot.Encoder
	if _, err := enc.Encode(snapshot.KindRoute, rc.GetName(), rc); err != nil {
		t.Fatal(err)
	}
	next := &routev3.RouteConfiguration{Name: rc.GetName(), VirtualHosts: slices.Clone(rc.GetVirtualHosts()), InternalOnlyHeaders: []string{"x-other"}}
	for i := 0; i < len(next.VirtualHosts); i += 100 {
		vh := proto.Clone(next.VirtualHosts[i]).(*routev3.VirtualHost)
		vh.Domains = append(vh.Domains, "also.example.com")
		next.VirtualHosts[i] = vh
	}
	got, err := enc.Encode(snapshot.KindRoute, rc.GetName(), next)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := (proto.MarshalOptions{Deterministic: true}).Marshal(next); !bytes.Equal(got.Bytes(), want) {
		t.Errorf("re-encoding with reuse differs from proto's (%d vs %d bytes)", got.Len(), len(want))
	}
	if r, want := enc.Reused(snapshot.KindRoute, rc.GetName()), len(next.VirtualHosts)-(len(next.VirtualHosts)+99)/100; r != want {
		t.Errorf("%d virtual hosts reused, want %d", r, want)
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

// TestEncoderReusesElements: encoding a route configuration again, as a
// new message that keeps most virtual hosts as the same messages, takes
// their pieces from the last encoding and still gives proto's bytes and the
// version a fresh Encoder gives; replaced, inserted and far-moved elements
// are handled.
func TestEncoderReusesElements(t *testing.T) {
	t.Parallel()
	first := &routev3.RouteConfiguration{Name: "big", InternalOnlyHeaders: []string{"x-a"}}
	for i := range snapshot.MinSplit + 100 {
		first.VirtualHosts = append(first.VirtualHosts, vhost(i, fmt.Sprint(i, ".example.com")))
	}
	// Replace three, insert two, drop twenty in a row (beyond the look-ahead),
	// move the last one to the front, and change a field after the list.
	vhs := slices.Clone(first.VirtualHosts)
	for _, i := range []int{3, 200, 400} {
		vhs[i] = vhost(i, "changed.example.com")
	}
	vhs = slices.Insert(vhs, 10, vhost(-1, "new.example.com"), vhost(-2, "new2.example.com"))
	vhs = slices.Delete(vhs, 300, 320)
	vhs = append(vhs[len(vhs)-1:], vhs[:len(vhs)-1]...)
	second := &routev3.RouteConfiguration{Name: "big", VirtualHosts: vhs, InternalOnlyHeaders: []string{"x-b"}}
	wantReused := len(first.VirtualHosts) - 3 - 20

	var enc snapshot.Encoder
	firstEnc, err := enc.Encode(snapshot.KindRoute, "big", first)
	if err != nil {
		t.Fatal(err)
	}
	kept := bytes.Clone(firstEnc.Bytes())
	for i, tc := range []struct {
		m      *routev3.RouteConfiguration
		reused int
	}{
		{second, wantReused},
		{second, len(vhs)},
		{first, len(first.VirtualHosts) - 3 - 20},
	} {
		got, err := enc.Encode(snapshot.KindRoute, "big", tc.m)
		if err != nil {
			t.Fatal(err)
		}
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) || got.Len() != len(want) {
			t.Errorf("step %d: encoding differs from proto's (%d vs %d bytes)", i, got.Len(), len(want))
		}
		if v := freshVersion(t, snapshot.KindRoute, tc.m); got.Version != v {
			t.Errorf("step %d: version %s, a fresh Encoder's %s", i, got.Version, v)
		}
		if r := enc.Reused(snapshot.KindRoute, "big"); r != tc.reused {
			t.Errorf("step %d: %d virtual hosts reused, want %d", i, r, tc.reused)
		}
	}
	if !bytes.Equal(firstEnc.Bytes(), kept) {
		t.Error("a later encoding wrote into an earlier one's bytes")
	}
	// Below minSplit elements, nothing is remembered, and the version is
	// Version's.
	small := &routev3.RouteConfiguration{Name: "big", VirtualHosts: vhs[:3]}
	got, err := enc.Encode(snapshot.KindRoute, "big", small)
	if err != nil {
		t.Fatal(err)
	}
	if r := enc.Reused(snapshot.KindRoute, "big"); r != -1 {
		t.Errorf("a small route configuration left a memo (%d reused)", r)
	}
	if v, _ := snapshot.Version(small); got.Version != v || len(got.Elems) != 0 {
		t.Errorf("small: version %s in %d pieces, want Version's %s in one", got.Version, len(got.Elems), v)
	}
	// A listener of the same name is another resource.
	if _, err := enc.Encode(snapshot.KindRoute, "big", second); err != nil {
		t.Fatal(err)
	}
	if r := enc.Reused(snapshot.KindListener, "big"); r != -1 {
		t.Errorf("the route configuration's memo was found for a listener (%d reused)", r)
	}
}

func vhost(i int, domain string) *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: fmt.Sprint("vh", i), Domains: []string{domain}, Routes: []*routev3.Route{{Name: fmt.Sprint("r", i)}}}
}

// freshVersion is the version of m from an Encoder that never saw it.
func freshVersion(t *testing.T, k snapshot.Kind, m proto.Message) string {
	t.Helper()
	var enc snapshot.Encoder
	e, err := enc.Encode(k, "fresh", m)
	if err != nil {
		t.Fatal(err)
	}
	return e.Version
}
