package xds

import (
	"math"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// kindsProto declares what Envoy's messages lack: every scalar kind, maps
// with integer and bool keys, a proto3 optional field, a oneof of scalars
// and fields declared out of number order. protojson orders fields by
// declaration, not by number.
const kindsProto = `
name: "isobar/fastjson/kinds.proto" package: "isobar.fastjson" syntax: "proto3"
message_type {
  name: "Kinds"
  field { name: "last_by_number" number: 99 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "i32" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
  field { name: "s32" number: 2 label: LABEL_OPTIONAL type: TYPE_SINT32 }
  field { name: "sf32" number: 3 label: LABEL_OPTIONAL type: TYPE_SFIXED32 }
  field { name: "u32" number: 4 label: LABEL_OPTIONAL type: TYPE_UINT32 }
  field { name: "f32" number: 5 label: LABEL_OPTIONAL type: TYPE_FIXED32 }
  field { name: "i64" number: 6 label: LABEL_OPTIONAL type: TYPE_INT64 }
  field { name: "s64" number: 7 label: LABEL_OPTIONAL type: TYPE_SINT64 }
  field { name: "sf64" number: 8 label: LABEL_OPTIONAL type: TYPE_SFIXED64 }
  field { name: "u64" number: 9 label: LABEL_OPTIONAL type: TYPE_UINT64 }
  field { name: "f64" number: 10 label: LABEL_OPTIONAL type: TYPE_FIXED64 }
  field { name: "fl" number: 11 label: LABEL_OPTIONAL type: TYPE_FLOAT }
  field { name: "db" number: 12 label: LABEL_OPTIONAL type: TYPE_DOUBLE }
  field { name: "bo" number: 13 label: LABEL_OPTIONAL type: TYPE_BOOL }
  field { name: "by" number: 14 label: LABEL_OPTIONAL type: TYPE_BYTES }
  field { name: "color" number: 15 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".isobar.fastjson.Color" }
  field { name: "child" number: 16 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".isobar.fastjson.Kinds" }
  field { name: "floats" number: 17 label: LABEL_REPEATED type: TYPE_FLOAT }
  field { name: "u64s" number: 18 label: LABEL_REPEATED type: TYPE_UINT64 }
  field { name: "colors" number: 19 label: LABEL_REPEATED type: TYPE_ENUM type_name: ".isobar.fastjson.Color" }
  field { name: "by_int" number: 20 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".isobar.fastjson.Kinds.ByIntEntry" }
  field { name: "by_bool" number: 21 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".isobar.fastjson.Kinds.ByBoolEntry" }
  field { name: "by_u64" number: 22 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".isobar.fastjson.Kinds.ByU64Entry" }
  field { name: "by_s64" number: 23 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".isobar.fastjson.Kinds.ByS64Entry" }
  field { name: "o_int" number: 24 label: LABEL_OPTIONAL type: TYPE_INT32 oneof_index: 0 }
  field { name: "o_bytes" number: 25 label: LABEL_OPTIONAL type: TYPE_BYTES oneof_index: 0 }
  field { name: "opt" number: 26 label: LABEL_OPTIONAL type: TYPE_DOUBLE oneof_index: 1 proto3_optional: true }
  field { name: "first_by_number" number: 0x7fff label: LABEL_OPTIONAL type: TYPE_INT32 }
  nested_type { name: "ByIntEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING } }
  nested_type { name: "ByBoolEntry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_BOOL }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".isobar.fastjson.Kinds" } }
  nested_type { name: "ByU64Entry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_FIXED64 }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".isobar.fastjson.Color" } }
  nested_type { name: "ByS64Entry" options { map_entry: true }
    field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_SINT64 }
    field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_DOUBLE } }
  oneof_decl { name: "choice" }
  oneof_decl { name: "_opt" }
}
enum_type { name: "Color" value { name: "RED" number: 0 } value { name: "GREEN" number: 1 } value { name: "BLUE" number: -2 } }
`

// legacyProto is proto2: required fields, defaults, a group and an
// extension.
const legacyProto = `
name: "isobar/fastjson/legacy.proto" package: "isobar.fastjson2" syntax: "proto2"
message_type {
  name: "Legacy"
  field { name: "req" number: 1 label: LABEL_REQUIRED type: TYPE_INT32 }
  field { name: "opt" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING default_value: "dflt" }
  field { name: "grp" number: 3 label: LABEL_OPTIONAL type: TYPE_GROUP type_name: ".isobar.fastjson2.Legacy.Grp" }
  nested_type { name: "Grp" field { name: "a" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 } }
  extension_range { start: 100 end: 200 }
}
extension { name: "ext" number: 100 label: LABEL_OPTIONAL type: TYPE_INT32 extendee: ".isobar.fastjson2.Legacy" }
`

var (
	testFilesOnce sync.Once
	testFiles     map[string]protoreflect.FileDescriptor
	testFilesErr  error
)

// testFile builds (once) the file descriptor declared by one of the
// constants above.
func testFile(t testing.TB, text string) protoreflect.FileDescriptor {
	t.Helper()
	testFilesOnce.Do(func() {
		testFiles = map[string]protoreflect.FileDescriptor{}
		for _, src := range []string{kindsProto, legacyProto} {
			var fdp descriptorpb.FileDescriptorProto
			if testFilesErr = prototext.Unmarshal([]byte(src), &fdp); testFilesErr != nil {
				return
			}
			var fd protoreflect.FileDescriptor
			if fd, testFilesErr = protodesc.NewFile(&fdp, new(protoregistry.Files)); testFilesErr != nil {
				return
			}
			testFiles[src] = fd
		}
	})
	if testFilesErr != nil {
		t.Fatal(testFilesErr)
	}
	return testFiles[text]
}

func kindsMessage(t testing.TB) *dynamicpb.Message {
	return dynamicpb.NewMessage(testFile(t, kindsProto).Messages().ByName("Kinds"))
}

// set assigns the named fields of m: scalars as they are, []any as lists,
// map[any]any as maps (keys and values converted by protoreflect.ValueOf).
func set(m *dynamicpb.Message, fields map[string]any) *dynamicpb.Message {
	for name, v := range fields {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		switch v := v.(type) {
		case []any:
			l := m.Mutable(fd).List()
			for _, x := range v {
				l.Append(protoreflect.ValueOf(x))
			}
		case map[any]any:
			mp := m.Mutable(fd).Map()
			for k, x := range v {
				mp.Set(protoreflect.ValueOf(k).MapKey(), protoreflect.ValueOf(x))
			}
		default:
			m.Set(fd, protoreflect.ValueOf(v))
		}
	}
	return m
}

func dynamicCases(t testing.TB) map[string]struct {
	m    proto.Message
	fast bool
} {
	k := func(fields map[string]any) *dynamicpb.Message { return set(kindsMessage(t), fields) }
	legacy := testFile(t, legacyProto)
	l := func(fields map[string]any) *dynamicpb.Message {
		return set(dynamicpb.NewMessage(legacy.Messages().ByName("Legacy")), fields)
	}
	withExt := l(map[string]any{"req": int32(1)})
	withExt.Set(dynamicpb.NewExtensionType(legacy.Extensions().ByName("ext")).TypeDescriptor(), protoreflect.ValueOfInt32(5))
	grp := l(map[string]any{"req": int32(1)})
	grpFd := grp.Descriptor().Fields().ByName("grp")
	grp.Mutable(grpFd).Message().Set(grpFd.Message().Fields().ByName("a"), protoreflect.ValueOfInt32(2))
	red, blue, unnamed := protoreflect.EnumNumber(0), protoreflect.EnumNumber(-2), protoreflect.EnumNumber(7)
	return map[string]struct {
		m    proto.Message
		fast bool
	}{
		"declaration order": {k(map[string]any{"first_by_number": int32(1), "last_by_number": "z", "i32": int32(-1), "color": blue}), true},
		"integer kinds": {k(map[string]any{
			"i32": int32(math.MinInt32), "s32": int32(-3), "sf32": int32(math.MaxInt32), "u32": uint32(math.MaxUint32), "f32": uint32(1),
			"i64": int64(math.MinInt64), "s64": int64(-7), "sf64": int64(math.MaxInt64), "u64": uint64(math.MaxUint64), "f64": uint64(1 << 63),
		}), true},
		"floats": {k(map[string]any{
			"fl": float32(1e-7), "db": 1e21, "floats": []any{float32(0.1), float32(1e21), float32(9.99e20), float32(1e-6), float32(9.9e-7),
				float32(math.NaN()), float32(math.Inf(-1)), float32(math.SmallestNonzeroFloat32), float32(math.MaxFloat32), float32(-0.0), float32(16777217)},
		}), true},
		"negative zero float":     {k(map[string]any{"fl": float32(math.Copysign(0, -1)), "db": math.Copysign(0, -1)}), true},
		"bool bytes enum":         {k(map[string]any{"bo": true, "by": []byte("\x00\x01hello?>"), "color": unnamed, "colors": []any{red, blue, unnamed}}), true},
		"repeated uint64":         {k(map[string]any{"u64s": []any{uint64(0), uint64(math.MaxUint64)}}), true},
		"int map order":           {k(map[string]any{"by_int": map[any]any{int32(10): "ten", int32(-1): "minus one", int32(2): "two", int32(0): ""}}), true},
		"bool map order":          {k(map[string]any{"by_bool": map[any]any{true: kindsMessage(t), false: k(map[string]any{"bo": true})}}), true},
		"uint64 map order":        {k(map[string]any{"by_u64": map[any]any{uint64(math.MaxUint64): unnamed, uint64(1): red, uint64(1 << 40): blue}}), true},
		"sint64 map order":        {k(map[string]any{"by_s64": map[any]any{int64(math.MinInt64): math.NaN(), int64(-1): 1e-300, int64(3): 2.5}}), true},
		"oneof zero int":          {k(map[string]any{"o_int": int32(0)}), true},
		"oneof empty bytes":       {k(map[string]any{"o_bytes": []byte{}}), true},
		"optional zero":           {k(map[string]any{"opt": 0.0}), true},
		"nested child":            {k(map[string]any{"child": k(map[string]any{"child": kindsMessage(t), "i64": int64(1)})}), true},
		"proto2 required set":     {l(map[string]any{"req": int32(0), "opt": ""}), true},
		"proto2 default":          {l(map[string]any{"req": int32(3)}), true},
		"proto2 required missing": {l(map[string]any{"opt": "x"}), false},
		"extension":               {withExt, false},
		"descriptor of kinds":     {protodesc.ToFileDescriptorProto(testFile(t, kindsProto)), true},
		"descriptor of legacy":    {protodesc.ToFileDescriptorProto(legacy), true},
		"group":                   {grp, false},
	}
}

// TestFastJSONDynamicCases covers the kinds Envoy's messages lack with
// dynamic messages.
func TestFastJSONDynamicCases(t *testing.T) {
	t.Parallel()
	for name, tc := range dynamicCases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var e jsonEncoder
			if got := checkFastJSON(t, &e, tc.m); got != tc.fast {
				t.Errorf("accepted = %v, want %v", got, tc.fast)
			}
		})
	}
}
