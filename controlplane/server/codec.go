package server

import (
	"sync"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

var deterministic = proto.MarshalOptions{Deterministic: true}

// preEncoded holds, for each DeltaDiscoveryResponse deltaCache has built and
// the stream is about to send, the encodings of its resources. wireCodec
// takes the entry when it encodes the message.
var preEncoded sync.Map // *DeltaDiscoveryResponse → encodedResources

// encodedResources are the encodings of a response's resources, each
// shared by every stream; framed, when set, is all of them already framed as
// the message's resources field (tag, length, bytes), shared by every stream
// the same answer goes to, so that a thousand in-flight copies of a 20,000
// resource answer cost one buffer each rather than 40,000.
type encodedResources struct {
	wires  [][]byte
	framed []byte
}

// frame returns wires framed as DeltaDiscoveryResponse resources.
func frame(wires [][]byte) []byte {
	size := 0
	for _, b := range wires {
		size += protowire.SizeTag(resourcesField.Number()) + protowire.SizeBytes(len(b))
	}
	out := make([]byte, 0, size)
	for _, b := range wires {
		out = protowire.AppendTag(out, resourcesField.Number(), protowire.BytesType)
		out = protowire.AppendBytes(out, b)
	}
	return out
}

// resourcesField is DeltaDiscoveryResponse.resources.
var resourcesField = (&discoverygrpc.DeltaDiscoveryResponse{}).ProtoReflect().Descriptor().Fields().ByName("resources")

// wireCodec is the server's gRPC codec: protobuf, except that a
// DeltaDiscoveryResponse built by deltaCache is written from its resources'
// encodings, made once per resource version and shared by every stream,
// instead of being encoded again for each of a thousand Envoys. Protobuf
// parsers accept fields in any order, so the message's other fields followed
// by the resources is a valid encoding of the same message.
type wireCodec struct{}

var standard = encoding.GetCodecV2(protocodec.Name)

// Name is "proto": on the wire this is ordinary protobuf.
func (wireCodec) Name() string { return protocodec.Name }

// Unmarshal decodes requests with the standard codec.
func (wireCodec) Unmarshal(data mem.BufferSlice, v any) error { return standard.Unmarshal(data, v) }

// Marshal encodes v, sharing pre-encoded resources when it can.
func (wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	msg, ok := v.(*discoverygrpc.DeltaDiscoveryResponse)
	if !ok {
		return standard.Marshal(v)
	}
	w, ok := preEncoded.LoadAndDelete(msg)
	if !ok {
		return standard.Marshal(v)
	}
	enc := w.(encodedResources)
	wires := enc.wires
	if len(wires) != len(msg.GetResources()) {
		return standard.Marshal(v)
	}
	// Every field but the resources, encoded normally.
	head := msg.ProtoReflect().Type().New()
	msg.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if fd != resourcesField {
			head.Set(fd, val)
		}
		return true
	})
	hb, err := deterministic.Marshal(head.Interface())
	if err != nil {
		return nil, err
	}
	if enc.framed != nil {
		return mem.BufferSlice{mem.SliceBuffer(hb), mem.SliceBuffer(enc.framed)}, nil
	}
	out := make(mem.BufferSlice, 0, 1+2*len(wires))
	out = append(out, mem.SliceBuffer(hb))
	// One tag and length per resource, in one array sized up front so the
	// slices taken from it stay put.
	prefixes := make([]byte, 0, len(wires)*(1+protowire.SizeVarint(1<<63)))
	for _, b := range wires {
		start := len(prefixes)
		prefixes = protowire.AppendTag(prefixes, resourcesField.Number(), protowire.BytesType)
		prefixes = protowire.AppendVarint(prefixes, uint64(len(b)))
		out = append(out, mem.SliceBuffer(prefixes[start:]), mem.SliceBuffer(b))
	}
	return out, nil
}
