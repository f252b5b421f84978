package server

import (
	"testing"
	"unsafe"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestWireCodecSharesEncodings: a response built by deltaCache is written
// from the shared encodings of its resources and reads back as the same
// message with the resources' values; a message without resources is plain
// protobuf, and one with resources the cache did not encode is refused.
func TestWireCodecSharesEncodings(t *testing.T) {
	c := newDeltaCache("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment")
	c.update([]wired{
		mustWire(&discoverygrpc.Resource{Name: "b", Version: "2", Resource: &anypb.Any{TypeUrl: c.typeURL, Value: []byte{0x0a, 0x01, 'b'}}}),
		mustWire(&discoverygrpc.Resource{Name: "a", Version: "1", Resource: &anypb.Any{TypeUrl: c.typeURL, Value: []byte{0x0a, 0x01, 'a'}}}),
	}, nil)
	_, first := openStream(c, []string{"*"}, nil)
	if first == nil || len(first.GetResources()) != 2 {
		t.Fatalf("initial response %v", first)
	}
	// Build a response the way the stream does and send it through the codec.
	r := &deltaResponse{req: &discoverygrpc.DeltaDiscoveryRequest{TypeUrl: c.typeURL}, rev: 9,
		resources: placeholders(2, placeholderResource),
		wires:     []wired{c.entries["a"], c.entries["b"]}, removed: []string{"gone"}}
	msg, _ := r.GetDeltaDiscoveryResponse()
	msg.Nonce = "17"
	out, err := wireCodec{}.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 { // the other fields, then each resource framed
		t.Errorf("the shared encodings were not used: %d buffers", len(out))
	}
	if _, left := preEncoded.Load(msg); left {
		t.Error("the codec did not take the message's encodings")
	}
	var got discoverygrpc.DeltaDiscoveryResponse
	if err := proto.Unmarshal(out.Materialize(), &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(withValues(msg, []wired{c.entries["a"], c.entries["b"]}), &got, protocmp.Transform()); d != "" {
		t.Errorf("read back (-sent +got):\n%s", d)
	}
	// A first answer of a wildcard stream is shared by every such stream:
	// the codec writes it as two buffers, the second framed once.
	msgs := []*discoverygrpc.DeltaDiscoveryResponse{}
	for range 2 {
		w := &deltaWatch{req: &discoverygrpc.DeltaDiscoveryRequest{TypeUrl: c.typeURL}, since: c.rev}
		m, _ := c.everything(w, "*").GetDeltaDiscoveryResponse()
		m.Nonce = "3"
		msgs = append(msgs, m)
	}
	var bodies [][]byte
	for _, m := range msgs {
		out, err := wireCodec{}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 2 {
			t.Fatalf("a shared answer took %d buffers", len(out))
		}
		bodies = append(bodies, out[1].ReadOnlyData())
		var got discoverygrpc.DeltaDiscoveryResponse
		if err := proto.Unmarshal(out.Materialize(), &got); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(withValues(m, []wired{c.entries["a"], c.entries["b"]}), &got, protocmp.Transform()); d != "" {
			t.Errorf("shared answer read back (-sent +got):\n%s", d)
		}
	}
	if &bodies[0][0] != &bodies[1][0] {
		t.Error("two streams' first answers do not share their framed resources")
	}
	// A message the cache did not build is ordinary protobuf.
	plain := &discoverygrpc.DeltaDiscoveryResponse{Nonce: "1", RemovedResources: []string{"x"}}
	b, err := wireCodec{}.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := proto.Marshal(plain)
	if string(b.Materialize()) != string(want) {
		t.Error("a plain message was not encoded as protobuf")
	}
	if _, err := (wireCodec{}).Marshal(&discoverygrpc.DeltaDiscoveryResponse{Resources: []*discoverygrpc.Resource{{Name: "x"}}}); err == nil {
		t.Error("resources the cache did not encode were sent")
	}
	if _, err := (wireCodec{}).Marshal(msg); err == nil {
		t.Error("a response was encoded a second time, its resources without values")
	}
	if !proto.Equal(placeholderResource, &discoverygrpc.Resource{}) || !proto.Equal(placeholderAny, &anypb.Any{}) {
		t.Error("a placeholder shared by every answer was written")
	}
}

// withValues is msg as Envoy reads it: its resources (placeholders) are
// those of wires, in order, with their values.
func withValues(msg *discoverygrpc.DeltaDiscoveryResponse, wires []wired) *discoverygrpc.DeltaDiscoveryResponse {
	out := proto.CloneOf(msg)
	out.Resources = nil
	for _, w := range wires {
		out.Resources = append(out.Resources, &discoverygrpc.Resource{Name: w.name, Version: w.version, Resource: w.any()})
	}
	return out
}

// received is m as a client reads it: written by wireCodec (from the
// cache's encodings of its resources, whose messages hold no values) and
// read back.
func received[M proto.Message](m M) M {
	out, err := wireCodec{}.Marshal(m)
	if err != nil {
		panic(err)
	}
	got := m.ProtoReflect().New().Interface().(M)
	if err := proto.Unmarshal(out.Materialize(), got); err != nil {
		panic(err)
	}
	return got
}

// TestWiredStaysSmall keeps a cached resource's entry at 80 bytes: the
// caches, their logs and the shared first answers hold one per resource.
func TestWiredStaysSmall(t *testing.T) {
	if n := unsafe.Sizeof(wired{}); n > 80 {
		t.Errorf("a wired is %d bytes, want at most 80", n)
	}
}
