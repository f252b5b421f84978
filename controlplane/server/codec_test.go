package server

import (
	"testing"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestWireCodecSharesEncodings: a response built by deltaCache is written
// from the shared encodings of its resources and reads back as the same
// message; any other message is plain protobuf.
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
		resources: []*discoverygrpc.Resource{c.entries["a"].res, c.entries["b"].res},
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
	if d := cmp.Diff(msg, &got, protocmp.Transform()); d != "" {
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
		if d := cmp.Diff(m, &got, protocmp.Transform()); d != "" {
			t.Errorf("shared answer read back (-sent +got):\n%s", d)
		}
	}
	if &bodies[0][0] != &bodies[1][0] {
		t.Error("two streams' first answers do not share their framed resources")
	}
	// A message the cache did not build is ordinary protobuf.
	plain := &discoverygrpc.DeltaDiscoveryResponse{Nonce: "1", Resources: []*discoverygrpc.Resource{{Name: "x"}}}
	b, err := wireCodec{}.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := proto.Marshal(plain)
	if string(b.Materialize()) != string(want) {
		t.Error("a plain message was not encoded as protobuf")
	}
}
