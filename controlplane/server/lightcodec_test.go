package server

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// lightCodec lets benchmark clients stand in for Envoys that run elsewhere:
// it decodes a DeltaDiscoveryResponse's names, versions, type and nonce but
// not the resources' bytes, so the clients' decoding does not take the CPU
// the server is measured on. Everything else is plain protobuf. It is a
// gRPC CodecV2: a response is read where gRPC received it, over its
// buffers, without gathering them (an S10k client receives 17 MB).
type lightCodec struct {
	// watched, when set, limits the resources decoded to those it names:
	// the others are all the same empty Resource (counted, not read).
	watched map[string]bool
}

func (lightCodec) Name() string { return "proto" }

func (lightCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := proto.Marshal(v.(proto.Message))
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (c lightCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*discoverygrpc.DeltaDiscoveryResponse); ok {
		return scanResponse(&pieceReader{bufs: data}, r, c.watched) // keeps copies of what it reads
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), v.(proto.Message))
}

func TestLightCodecReadsNamesAndNonce(t *testing.T) {
	full := &discoverygrpc.DeltaDiscoveryResponse{SystemVersionInfo: "7", TypeUrl: "type.googleapis.com/x", Nonce: "42",
		Resources: []*discoverygrpc.Resource{
			{Name: "a", Version: "v1", Resource: &anypb.Any{TypeUrl: "type.googleapis.com/x", Value: []byte("payload")},
				Aliases: []string{"alias"}, Ttl: durationpb.New(3)},
			{Name: strings.Repeat("long-name/", 20), Version: "v2"}},
		RemovedResources: []string{"gone", "also-gone"}}
	b, err := proto.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	want := &discoverygrpc.DeltaDiscoveryResponse{TypeUrl: "type.googleapis.com/x", Nonce: "42",
		Resources:        []*discoverygrpc.Resource{{Name: "a", Version: "v1"}, {Name: strings.Repeat("long-name/", 20), Version: "v2"}},
		RemovedResources: []string{"gone", "also-gone"}}
	// gRPC may hand the message over in any number of pieces: every split
	// in two, and one byte per piece.
	var splits []mem.BufferSlice
	for k := 0; k <= len(b); k++ {
		splits = append(splits, mem.BufferSlice{mem.SliceBuffer(b[:k]), mem.SliceBuffer(b[k:])})
	}
	var bytewise mem.BufferSlice
	for i := range b {
		bytewise = append(bytewise, mem.SliceBuffer(b[i:i+1]))
	}
	for i, data := range append(splits, bytewise) {
		var got discoverygrpc.DeltaDiscoveryResponse
		if err := (lightCodec{}).Unmarshal(data, &got); err != nil {
			t.Fatalf("split %d: %v", i, err)
		}
		if d := cmp.Diff(want, &got, protocmp.Transform()); d != "" {
			t.Fatalf("split %d: light decoding (-want +got):\n%s", i, d)
		}
	}
	var got discoverygrpc.DeltaDiscoveryResponse
	if err := (lightCodec{watched: map[string]bool{"a": true}}).Unmarshal(splits[7], &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Resources) != 2 || got.Resources[0].GetName() != "a" || got.Resources[1] != unwatched {
		t.Errorf("watching only a: resources %v", got.Resources)
	}
	if err := (lightCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(b[:len(b)-1])}, &discoverygrpc.DeltaDiscoveryResponse{}); err == nil {
		t.Error("a truncated response decoded without error")
	}
}
