package xds

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// fuzzTypes are the messages FuzzFastJSON reads its input as: Envoy
// resources, the containers of well-known types (Any, Struct), proto2
// generated types (descriptors) and the dynamic messages of
// fastjson_dynamic_test.go, which have every kind.
func fuzzTypes(t testing.TB) []func() proto.Message {
	kinds := testFile(t, kindsProto).Messages().ByName("Kinds")
	legacy := testFile(t, legacyProto).Messages().ByName("Legacy")
	return []func() proto.Message{
		func() proto.Message { return &routev3.RouteConfiguration{} },
		func() proto.Message { return &clusterv3.Cluster{} },
		func() proto.Message { return &listenerv3.Listener{} },
		func() proto.Message { return &corev3.Metadata{} },
		func() proto.Message { return &anypb.Any{} },
		func() proto.Message { return &structpb.Struct{} },
		func() proto.Message { return &descriptorpb.FileDescriptorProto{} },
		func() proto.Message { return &descriptorpb.UninterpretedOption{} },
		func() proto.Message { return dynamicpb.NewMessage(kinds) },
		func() proto.Message { return dynamicpb.NewMessage(legacy) },
	}
}

// FuzzFastJSON reads the input as the wire form of one of fuzzTypes and
// checks that whenever the fast encoder accepts the message, it writes
// what protojson writes; neither may panic. The seeds are the hand-written
// and dynamic cases, each under every type.
func FuzzFastJSON(f *testing.F) {
	types := fuzzTypes(f)
	seeds := []proto.Message{}
	for _, tc := range handCases(f) {
		seeds = append(seeds, tc.m)
	}
	for _, tc := range dynamicCases(f) {
		seeds = append(seeds, tc.m)
	}
	for _, m := range seeds {
		if m == nil || !m.ProtoReflect().IsValid() {
			continue
		}
		data, err := proto.MarshalOptions{AllowPartial: true, Deterministic: true}.Marshal(m)
		if err != nil {
			continue // invalid UTF-8 in a proto3 string
		}
		for k := range types {
			f.Add(uint8(k), data)
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		m, ok := unmarshalFuzz(types[int(kind)%len(types)](), data)
		if !ok {
			t.Skip()
		}
		var e jsonEncoder
		checkFastJSON(t, &e, m)
		// Dropping the unknown fields, which the fast encoder declines,
		// lets it see the rest of the message.
		dropUnknown(m.ProtoReflect())
		checkFastJSON(t, &e, m)
	})
}

// dropUnknown clears the unknown fields of m's messages, all the way down.
func dropUnknown(m protoreflect.Message) {
	m.SetUnknown(nil)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				dropUnknown(mv.Message())
				return true
			})
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				dropUnknown(v.List().Get(i).Message())
			}
		case !fd.IsMap() && !fd.IsList() && fd.Message() != nil:
			dropUnknown(v.Message())
		}
		return true
	})
}

// unmarshalFuzz reads data into m and reports whether it could. proto
// v1.36 panics on some map entries of dynamic messages whose key has the
// wrong wire type (testdata/fuzz/FuzzFastJSON/a0d2fb594cce94c8): such an
// input is skipped like any other that does not unmarshal.
func unmarshalFuzz(m proto.Message, data []byte) (_ proto.Message, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return m, proto.UnmarshalOptions{AllowPartial: true}.Unmarshal(data, m) == nil
}
