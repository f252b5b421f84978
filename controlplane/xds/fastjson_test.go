package xds

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// checkFastJSON encodes m with e and with protojson and reports whether
// the fast encoder accepted m. When it did, protojson must have succeeded
// with the same JSON once its spaces are removed, and the bytes before the
// fast output must be untouched.
func checkFastJSON(t testing.TB, e *jsonEncoder, m proto.Message) bool {
	t.Helper()
	const prefix = "prefix:"
	got, ok := e.appendJSON([]byte(prefix), m)
	if !strings.HasPrefix(string(got), prefix) {
		t.Fatalf("the fast encoder changed the bytes before its output: %q", got)
	}
	if !ok {
		return false
	}
	got = got[len(prefix):]
	want, err := protoOptions.Marshal(m)
	if err != nil {
		t.Fatalf("the fast encoder accepted what protojson refuses (%v); it wrote %s", err, got)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, want); err != nil {
		t.Fatalf("protojson wrote invalid JSON: %v", err)
	}
	if !bytes.Equal(got, compact.Bytes()) {
		t.Fatalf("the fast encoder differs from protojson\nfast:      %s\nprotojson: %s", got, compact.Bytes())
	}
	return true
}

func mustAny(t testing.TB, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustStruct(t testing.TB, v map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// handCases are the tricky values, as messages protojson can encode or
// must refuse. fast says whether the fast encoder must accept the message
// (and then agree with protojson) or must decline it.
func handCases(t testing.TB) map[string]struct {
	m    proto.Message
	fast bool
} {
	anyStruct := mustAny(t, mustStruct(t, map[string]any{"k": []any{1.0, "x", nil}}))
	nested := mustAny(t, anyStruct)
	return map[string]struct {
		m    proto.Message
		fast bool
	}{
		"int64 limits":         {&typev3.Int64Range{Start: math.MinInt64, End: math.MaxInt64}, true},
		"int64 zero omitted":   {&typev3.Int64Range{End: -1}, true},
		"uint64 wrapper max":   {wrapperspb.UInt64(math.MaxUint64), true},
		"int64 wrapper":        {wrapperspb.Int64(-42), true},
		"uint32 wrapper zero":  {wrapperspb.UInt32(0), true},
		"int32 wrapper min":    {wrapperspb.Int32(math.MinInt32), true},
		"bool wrapper false":   {wrapperspb.Bool(false), true},
		"string wrapper empty": {wrapperspb.String(""), true},
		"bytes wrapper":        {wrapperspb.Bytes([]byte{0, 0xff, 0xfe, 'a'}), true},
		"bytes wrapper empty":  {wrapperspb.Bytes(nil), true},
		"float wrapper":        {wrapperspb.Float(0.1), true},
		"float wrapper NaN":    {wrapperspb.Float(float32(math.NaN())), true},
		"float wrapper tiny":   {wrapperspb.Float(1e-7), true},
		"float wrapper huge":   {wrapperspb.Float(3.4e38), true},
		"double NaN and Inf":   {&typev3.DoubleRange{Start: math.NaN(), End: math.Inf(1)}, true},
		"double -Inf":          {&typev3.DoubleRange{Start: math.Inf(-1)}, true},
		"double exponents":     {&typev3.DoubleRange{Start: 1e-7, End: 1e21}, true},
		"double below 1e21":    {&typev3.DoubleRange{Start: 1e20, End: 999999999999999900000}, true},
		"double 1e-6 and less": {&typev3.DoubleRange{Start: 1e-6, End: 9.99e-7}, true},
		"double denormal":      {&typev3.DoubleRange{Start: 5e-324, End: -1.5e-300}, true},
		"double negative zero": {&typev3.DoubleRange{Start: math.Copysign(0, -1), End: 123.456}, true},
		"double big exponent":  {&typev3.DoubleRange{Start: math.MaxFloat64, End: -1e100}, true},
		"escapes":              {&clusterv3.Cluster{Name: "q\"b\\s/\b\f\n\r\t\x00\x01\x1f\x7f <>&' \u2028\u2029\ufffd é 😀"}, true},
		"invalid UTF-8":        {&clusterv3.Cluster{Name: "a\xffb"}, false},
		"invalid UTF-8 key":    {&corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"\xc0": {}}}, false},
		"unset message":        {&clusterv3.Cluster{Name: "c"}, true},
		"empty message":        {&clusterv3.Cluster{Name: "c", CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{}}, true},
		"empty top message":    {&clusterv3.Cluster{}, true},
		"enum without name":    {&clusterv3.Cluster{LbPolicy: 99, DnsLookupFamily: clusterv3.Cluster_V4_ONLY}, true},
		"enum zero omitted":    {&clusterv3.Cluster{LbPolicy: clusterv3.Cluster_ROUND_ROBIN}, true},
		"oneof empty string":   {&routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: ""}}, true},
		"oneof false":          {&routev3.HeaderMatcher{Name: "h", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: false}}, true},
		"oneof empty message":  {&routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{}}}, true},
		"nil message":          {(*clusterv3.Cluster)(nil), false},
		"nil list element":     {&routev3.VirtualHost{Name: "v", Routes: []*routev3.Route{nil}}, false},
		"unknown fields":       {withUnknown(&clusterv3.Cluster{Name: "c"}), false},
		"map order": {&corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
			"b": {}, "a": {}, "B": {}, "_": {}, "é": {}, "a\x00": {}, "": {}, "q\"": {}, "aa": {}, "Z": {},
		}}, true},
		"struct nested lists and null": {mustStruct(t, map[string]any{
			"null": nil, "list": []any{1.0, "x", []any{}, []any{nil, []any{true}}, map[string]any{}, false, nil},
			"obj": map[string]any{"d": 1e21, "e": -0.5, "f": 3.0, "g": map[string]any{"h": nil}}, "": "empty key",
		}), true},
		"struct empty":          {&structpb.Struct{}, true},
		"list value empty":      {&structpb.ListValue{}, true},
		"value null":            {structpb.NewNullValue(), true},
		"value NaN":             {structpb.NewNumberValue(math.NaN()), false},
		"value Inf":             {structpb.NewNumberValue(math.Inf(1)), false},
		"value without kind":    {&structpb.Value{}, false},
		"struct with bad value": {&structpb.Struct{Fields: map[string]*structpb.Value{"a": {}}}, false},
		"struct with nil value": {&structpb.Struct{Fields: map[string]*structpb.Value{"a": nil}}, false},
		"value odd null":        {&structpb.Value{Kind: &structpb.Value_NullValue{NullValue: 5}}, true},
		"value nil struct":      {&structpb.Value{Kind: &structpb.Value_StructValue{}}, false},
		"value nil list":        {&structpb.Value{Kind: &structpb.Value_ListValue{}}, false},
		"value nil kind":        {&structpb.Value{Kind: (*structpb.Value_BoolValue)(nil)}, false},
		"value unknown fields":  {&structpb.ListValue{Values: []*structpb.Value{withUnknown(structpb.NewBoolValue(true)).(*structpb.Value)}}, false},
		"dynamic duration":      {dynamicpb.NewMessage((&durationpb.Duration{}).ProtoReflect().Descriptor()), false},
		"dynamic empty":         {dynamicpb.NewMessage((&emptypb.Empty{}).ProtoReflect().Descriptor()), true},
		"any duration":          {mustAny(t, durationpb.New(1500*time.Millisecond)), true},
		"any struct":            {anyStruct, true},
		"any in any":            {nested, true},
		"any empty":             {mustAny(t, &emptypb.Empty{}), true},
		"any wrapper":           {mustAny(t, wrapperspb.UInt32(7)), true},
		"any value":             {mustAny(t, structpb.NewListValue(&structpb.ListValue{})), true},
		"any message":           {mustAny(t, &clusterv3.Cluster{Name: "c", ConnectTimeout: durationpb.New(time.Second)}), true},
		"any empty message":     {mustAny(t, &clusterv3.Cluster{}), true},
		"any unset":             {&anypb.Any{}, true},
		"any without type":      {&anypb.Any{Value: []byte{1}}, false},
		"any unknown type":      {&anypb.Any{TypeUrl: "type.googleapis.com/no.such.Type"}, false},
		"any bad value":         {&anypb.Any{TypeUrl: "type.googleapis.com/envoy.config.cluster.v3.Cluster", Value: []byte{0xff}}, false},
		"any in metadata": {&corev3.Metadata{TypedFilterMetadata: map[string]*anypb.Any{
			"z": mustAny(t, wrapperspb.String("s")), "y": mustAny(t, timestamppb.New(time.Unix(0, 0))),
		}}, true},
		"duration zero":           {&durationpb.Duration{}, true},
		"duration fractions":      {&routev3.RouteAction{Timeout: durationpb.New(1000001 * time.Microsecond), IdleTimeout: &durationpb.Duration{Seconds: 1, Nanos: 1}}, true},
		"duration negative":       {&durationpb.Duration{Seconds: -1, Nanos: -500000000}, true},
		"duration negative nanos": {&durationpb.Duration{Nanos: -1000}, true},
		"duration round seconds":  {&durationpb.Duration{Seconds: 1000}, true},
		"duration max":            {&durationpb.Duration{Seconds: 315576000000, Nanos: 999999999}, true},
		"duration too long":       {&durationpb.Duration{Seconds: 315576000001}, false},
		"duration mixed signs":    {&durationpb.Duration{Seconds: 1, Nanos: -1}, false},
		"duration nanos range":    {&durationpb.Duration{Nanos: 1e9}, false},
		"timestamp epoch":         {&timestamppb.Timestamp{}, true},
		"timestamp nanos":         {&timestamppb.Timestamp{Seconds: 1700000000, Nanos: 120000000}, true},
		"timestamp micros":        {&timestamppb.Timestamp{Seconds: -1, Nanos: 1000}, true},
		"timestamp min and max":   {&corev3.Metadata{TypedFilterMetadata: map[string]*anypb.Any{"min": mustAny(t, &timestamppb.Timestamp{Seconds: -62135596800}), "max": mustAny(t, &timestamppb.Timestamp{Seconds: 253402300799, Nanos: 999999999})}}, true},
		"timestamp too early":     {&timestamppb.Timestamp{Seconds: -62135596801}, false},
		"timestamp negative nano": {&timestamppb.Timestamp{Nanos: -1}, false},
		"empty":                   {&emptypb.Empty{}, true},
		"proto2 zero pointers": {&descriptorpb.FieldDescriptorProto{
			Name: proto.String(""), Number: proto.Int32(0), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			Proto3Optional: proto.Bool(false), OneofIndex: proto.Int32(0), DefaultValue: proto.String(""),
		}, true},
		"proto2 bytes presence": {&descriptorpb.UninterpretedOption{
			StringValue: []byte{}, DoubleValue: proto.Float64(math.Copysign(0, -1)), PositiveIntValue: proto.Uint64(0), NegativeIntValue: proto.Int64(math.MinInt64),
		}, true},
		"proto2 nil bytes":        {&descriptorpb.UninterpretedOption{StringValue: nil, IdentifierValue: proto.String("x")}, true},
		"proto2 required missing": {&descriptorpb.UninterpretedOption{Name: []*descriptorpb.UninterpretedOption_NamePart{{NamePart: proto.String("x")}}}, false},
		"proto2 required set":     {&descriptorpb.UninterpretedOption{Name: []*descriptorpb.UninterpretedOption_NamePart{{NamePart: proto.String("x"), IsExtension: proto.Bool(false)}}}, true},
		"message without plan":    {&descriptorpb.DescriptorProto{Name: proto.String("m"), Options: &descriptorpb.MessageOptions{Deprecated: proto.Bool(true)}}, true},
		"field mask":              {&fieldmaskpb.FieldMask{Paths: []string{"foo_bar.baz_qux", "a", "x1_y"}}, true},
		"field mask empty":        {&fieldmaskpb.FieldMask{}, true},
		"field mask camel":        {&fieldmaskpb.FieldMask{Paths: []string{"fooBar"}}, false},
		"field mask double _":     {&fieldmaskpb.FieldMask{Paths: []string{"foo__bar"}}, false},
		"field mask bad name":     {&fieldmaskpb.FieldMask{Paths: []string{"a..b"}}, false},
	}
}

func withUnknown(m proto.Message) proto.Message {
	m.ProtoReflect().SetUnknown([]byte{0xf8, 0x7f, 0x01}) // field 2047, varint 1
	return m
}

// TestFastJSONHandCases: the fast encoder writes what protojson writes for
// the tricky values and declines exactly the cases it must.
func TestFastJSONHandCases(t *testing.T) {
	t.Parallel()
	for name, tc := range handCases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var e jsonEncoder
			if got := checkFastJSON(t, &e, tc.m); got != tc.fast {
				t.Errorf("accepted = %v, want %v", got, tc.fast)
			}
			// The encoder is reusable after a decline.
			if !checkFastJSON(t, &e, &clusterv3.Cluster{Name: "after"}) {
				t.Error("declined a plain cluster after the case")
			}
		})
	}
}

// TestItemEncoderFallsBack: Marshal's item encoder writes the same YAML and
// JSON whether the fast encoder accepts a message or declines it (protojson
// drops the unknown fields the fast encoder declines).
func TestItemEncoderFallsBack(t *testing.T) {
	t.Parallel()
	plain := func() proto.Message {
		return &clusterv3.Cluster{Name: "c", ConnectTimeout: durationpb.New(time.Second), LbPolicy: clusterv3.Cluster_RING_HASH}
	}
	var fast jsonEncoder
	if _, ok := fast.appendJSON(nil, withUnknown(plain())); ok {
		t.Fatal("the fast encoder accepted unknown fields")
	}
	for _, yaml := range []bool{true, false} {
		var e itemEncoder
		accepted, err := e.encode(plain(), yaml, 0)
		if err != nil {
			t.Fatal(err)
		}
		declined, err := e.encode(withUnknown(plain()), yaml, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !yaml { // protojson may add spaces, which writeJSON drops
			var a, d bytes.Buffer
			if json.Compact(&a, accepted) != nil || json.Compact(&d, declined) != nil {
				t.Fatalf("invalid JSON:\n%s\n%s", accepted, declined)
			}
			accepted, declined = a.Bytes(), d.Bytes()
		}
		if !bytes.Equal(accepted, declined) {
			t.Errorf("yaml=%v: fast path wrote\n%s\nfallback wrote\n%s", yaml, accepted, declined)
		}
		// A size hint only sizes the scratch buffer: a fresh encoder told
		// the size writes the same bytes.
		var sized itemEncoder
		hinted, err := sized.encode(plain(), yaml, proto.Size(plain()))
		if err != nil {
			t.Fatal(err)
		}
		again, _ := e.encode(plain(), yaml, 0)
		if !bytes.Equal(hinted, again) || cap(sized.raw) < proto.Size(plain())*jsonPerProtoByte/4 {
			t.Errorf("yaml=%v: with a size hint wrote\n%s\nwithout\n%s (scratch capacity %d)", yaml, hinted, again, cap(sized.raw))
		}
	}
}

// TestStructPlans: generated messages of the open struct API are read
// through their struct; other layouts have no plan and go through
// protoreflect.
func TestStructPlans(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		typ  reflect.Type
		want bool
	}{
		"listener":            {reflect.TypeFor[listenerv3.Listener](), true},
		"route configuration": {reflect.TypeFor[routev3.RouteConfiguration](), true},
		"cluster":             {reflect.TypeFor[clusterv3.Cluster](), true},
		"proto2":              {reflect.TypeFor[descriptorpb.FieldDescriptorProto](), true},
		"well-known type":     {reflect.TypeFor[durationpb.Duration](), true}, // not used: wellKnown comes first
		"extension ranges":    {reflect.TypeFor[descriptorpb.FileOptions](), false},
		"dynamic message":     {reflect.TypeFor[dynamicpb.Message](), false},
		"not a message":       {reflect.TypeFor[struct{ state int }](), false},
		"not a struct":        {reflect.TypeFor[int](), false},
	} {
		if got := planOf(tc.typ) != nil; got != tc.want {
			t.Errorf("%s: has a plan = %v, want %v", name, got, tc.want)
		}
	}
}
