package server

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// lightCodec lets benchmark clients stand in for Envoys that run elsewhere:
// it decodes a DeltaDiscoveryResponse's names, versions, type and nonce but
// not the resources' bytes, so the clients' decoding does not take the CPU
// the server is measured on. Everything else is plain protobuf. It is a
// gRPC CodecV2: a message spread over several buffers is gathered into a
// pooled buffer rather than a new one (an S10k client receives 17 MB).
type lightCodec struct{}

func (lightCodec) Name() string { return "proto" }

func (lightCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := proto.Marshal(v.(proto.Message))
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (lightCodec) Unmarshal(data mem.BufferSlice, v any) error {
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return lightUnmarshal(buf.ReadOnlyData(), v) // keeps copies of what it reads
}

// lightUnmarshal is lightCodec's decoding of one message's bytes.
func lightUnmarshal(data []byte, v any) error {
	r, ok := v.(*discoverygrpc.DeltaDiscoveryResponse)
	if !ok {
		return proto.Unmarshal(data, v.(proto.Message))
	}
	return scanFields(data, func(num protowire.Number, b []byte) error {
		switch num {
		case 2:
			res := &discoverygrpc.Resource{}
			r.Resources = append(r.Resources, res)
			return scanFields(b, func(num protowire.Number, b []byte) error {
				switch num {
				case 3:
					res.Name = string(b)
				case 1:
					res.Version = string(b)
				}
				return nil
			})
		case 4:
			r.TypeUrl = string(b)
		case 5:
			r.Nonce = string(b)
		case 6:
			r.RemovedResources = append(r.RemovedResources, string(b))
		}
		return nil
	})
}

// scanFields calls f with every length-delimited field of a message and
// skips the others.
func scanFields(data []byte, f func(protowire.Number, []byte) error) error {
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return fmt.Errorf("bad tag: %w", protowire.ParseError(n))
		}
		data = data[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, data)
			if n < 0 {
				return protowire.ParseError(n)
			}
			data = data[n:]
			continue
		}
		b, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if err := f(num, b); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

func TestLightCodecReadsNamesAndNonce(t *testing.T) {
	full := &discoverygrpc.DeltaDiscoveryResponse{SystemVersionInfo: "7", TypeUrl: "type.googleapis.com/x", Nonce: "42",
		Resources: []*discoverygrpc.Resource{
			{Name: "a", Version: "v1", Resource: &anypb.Any{TypeUrl: "type.googleapis.com/x", Value: []byte("payload")}},
			{Name: "b", Version: "v2"}},
		RemovedResources: []string{"gone"}}
	b, err := proto.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	var got discoverygrpc.DeltaDiscoveryResponse
	if err := (lightCodec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(b[:5]), mem.SliceBuffer(b[5:])}, &got); err != nil {
		t.Fatal(err)
	}
	want := &discoverygrpc.DeltaDiscoveryResponse{TypeUrl: "type.googleapis.com/x", Nonce: "42",
		Resources: []*discoverygrpc.Resource{{Name: "a", Version: "v1"}, {Name: "b", Version: "v2"}}, RemovedResources: []string{"gone"}}
	if d := cmp.Diff(want, &got, protocmp.Transform()); d != "" {
		t.Errorf("light decoding (-want +got):\n%s", d)
	}
}
