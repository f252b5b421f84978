package server

import (
	"errors"
	"sync"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

var deterministic = proto.MarshalOptions{Deterministic: true}

// preEncoded holds, for each response deltaCache has built and the stream
// is about to send, the encodings of its resources. wireCodec takes the
// entry when it encodes the message.
var preEncoded sync.Map // *DeltaDiscoveryResponse or *DiscoveryResponse → encodedResources

// encodedResources are the framed encodings of a response's resources,
// each shared by every stream; framed, when set, is all of them in few
// buffers (see frame), shared by every stream the same answer goes to, so
// that a thousand in-flight copies of a 20,000 resource answer cost a few
// buffers each rather than 20,000. sotw says the response is a
// state-of-the-world DiscoveryResponse (see wired.sotwPieces).
type encodedResources struct {
	wires  []wired
	framed [][]byte
	sotw   bool
}

// errResourcesChanged is wireCodec's answer to a response whose resources
// were changed after deltaCache built it.
var errResourcesChanged = errors.New("isobar: a delta response's resources changed after it was built")

// errNotPreEncoded is wireCodec's answer to a response with resources
// that deltaCache did not hand over (or that is sent a second time).
var errNotPreEncoded = errors.New("isobar: a response's resources were not encoded by the cache")

// resourcesField is DeltaDiscoveryResponse.resources, sotwResourcesField
// DiscoveryResponse.resources: both field 2.
var (
	resourcesField     = (&discoverygrpc.DeltaDiscoveryResponse{}).ProtoReflect().Descriptor().Fields().ByName("resources")
	sotwResourcesField = (&discoverygrpc.DiscoveryResponse{}).ProtoReflect().Descriptor().Fields().ByName("resources")
)

// wireCodec is the server's gRPC codec: protobuf, except that a
// DeltaDiscoveryResponse or DiscoveryResponse built by deltaCache is
// written from its resources' framed encodings (see wired), made once per
// resource version and shared by every stream, instead of being encoded
// again for each of a thousand Envoys. Protobuf parsers accept fields in
// any order, so the message's other fields followed by the resources is a
// valid encoding of the same message.
type wireCodec struct{}

var standard = encoding.GetCodecV2(protocodec.Name)

// Name is "proto": on the wire this is ordinary protobuf.
func (wireCodec) Name() string { return protocodec.Name }

// Unmarshal decodes requests: state-of-the-world ones with readRequest,
// the others with the standard codec.
func (wireCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if req, ok := v.(*discoverygrpc.DiscoveryRequest); ok {
		return readRequest(data, req)
	}
	return standard.Unmarshal(data, v)
}

// Marshal encodes v, sharing pre-encoded resources when it can.
func (wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	var msg proto.Message
	var count int
	var field protoreflect.FieldDescriptor
	switch m := v.(type) {
	case *discoverygrpc.DeltaDiscoveryResponse:
		msg, count, field = m, len(m.GetResources()), resourcesField
	case *discoverygrpc.DiscoveryResponse:
		msg, count, field = m, len(m.GetResources()), sotwResourcesField
	default:
		return standard.Marshal(v)
	}
	w, ok := preEncoded.LoadAndDelete(msg)
	if !ok {
		if count > 0 {
			// Every answer with resources is built by deltaCache, whose
			// resources are placeholders (see placeholders): encoded as
			// they are, they would tell Envoy to use empty resources.
			return nil, errNotPreEncoded
		}
		return standard.Marshal(v)
	}
	enc := w.(encodedResources)
	wires := enc.wires
	if len(wires) != count || enc.sotw != (field == sotwResourcesField) {
		// The message is not what deltaCache built, and its resources
		// are placeholders (see placeholders): refuse rather than send
		// them empty.
		return nil, errResourcesChanged
	}
	// Every field but the resources, encoded normally.
	head := msg.ProtoReflect().Type().New()
	msg.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if fd != field {
			head.Set(fd, val)
		}
		return true
	})
	hb, err := deterministic.Marshal(head.Interface())
	if err != nil {
		return nil, err
	}
	out := make(mem.BufferSlice, 0, 1+len(enc.framed))
	out = append(out, mem.SliceBuffer(hb))
	if enc.framed != nil {
		for _, b := range enc.framed {
			out = append(out, mem.SliceBuffer(b))
		}
		return out, nil
	}
	for _, w := range wires {
		if enc.sotw {
			w.sotwPieces(func(p []byte) { out = append(out, mem.SliceBuffer(p)) })
		} else {
			out = w.appendBuffers(out)
		}
	}
	return out, nil
}
