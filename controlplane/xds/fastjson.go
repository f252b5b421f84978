package xds

import (
	"cmp"
	"encoding/base64"
	"reflect"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// jsonEncoder writes what protojson.MarshalOptions{UseProtoNames: true}
// writes, without protojson's insignificant (and on purpose random) spaces,
// several times faster. It follows the descriptors through protoreflect
// and reads the values of generated messages straight from their Go
// structs (fastjson_plan.go), of other messages through protoreflect. It
// handles what Envoy resources are made of: proto3 and proto2 fields,
// oneofs, lists, maps, enums and the well-known types Any, Duration,
// Timestamp, Struct, Value, ListValue, the wrappers, Empty and FieldMask.
// It declines everything it is not sure to write byte for byte as
// protojson does (see appendJSON), and the caller then encodes the whole
// message with protojson; FuzzFastJSON and the corpus tests check the
// agreement.
//
// The zero value is ready to use. A jsonEncoder keeps scratch stacks
// between calls and is not safe for concurrent use.
type jsonEncoder struct {
	out []byte
	// fields holds the populated fields of every message being written,
	// innermost last; entries does the same for maps.
	fields  []fieldValue
	entries []mapEntry
	keys    []string // of Structs
	// declined is set by collectField on a field the encoder does not
	// write (an extension).
	declined bool
	// The Range callbacks, bound once so that ranging does not allocate.
	collectFieldFn func(protoreflect.FieldDescriptor, protoreflect.Value) bool
	collectEntryFn func(protoreflect.MapKey, protoreflect.Value) bool
}

type fieldValue struct {
	fd protoreflect.FieldDescriptor
	v  protoreflect.Value
}

type mapEntry struct {
	k protoreflect.MapKey
	v protoreflect.Value
}

// appendJSON appends to b the JSON protojson (with proto field names)
// writes for m, without insignificant whitespace, and reports true. It
// reports false (declines) when protojson would fail, and on what the
// encoder leaves to protojson: nil messages (also in lists and oneofs),
// extensions, unknown fields, groups, MessageSets, an Any whose type is
// not in protoregistry.GlobalTypes, and well-known types that are not the
// generated Go types (dynamic messages). protojson fails on missing
// required fields, invalid UTF-8, an Any without type or whose value does
// not unmarshal, a Value with no kind or a non-finite number, an invalid
// FieldMask path, and out-of-range Durations and Timestamps. After a
// decline the bytes appended to b are unspecified; b[:len(b)] is
// untouched.
func (e *jsonEncoder) appendJSON(b []byte, m proto.Message) ([]byte, bool) {
	if m == nil {
		return b, false
	}
	if e.collectFieldFn == nil {
		e.collectFieldFn = e.collectField
		e.collectEntryFn = e.collectEntry
	}
	if proto.CheckInitialized(m) != nil {
		return b, false
	}
	e.out = b
	ok := e.message(m.ProtoReflect(), "")
	out := e.out
	e.out = nil
	if !ok {
		// A decline leaves the stacks where it happened.
		clear(e.fields)
		clear(e.entries)
		clear(e.keys)
		e.fields, e.entries, e.keys, e.declined = e.fields[:0], e.entries[:0], e.keys[:0], false
	}
	return out, ok
}

func (e *jsonEncoder) collectField(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	if fd.IsExtension() {
		e.declined = true
		return false
	}
	e.fields = append(e.fields, fieldValue{fd, v})
	return true
}

func (e *jsonEncoder) collectEntry(k protoreflect.MapKey, v protoreflect.Value) bool {
	e.entries = append(e.entries, mapEntry{k, v})
	return true
}

// message writes m as an object. A non-empty typeURL is written first as
// "@type", as protojson does for the message inside an Any.
func (e *jsonEncoder) message(m protoreflect.Message, typeURL string) bool {
	if !m.IsValid() {
		return false
	}
	md := m.Descriptor()
	if typeURL == "" && isWellKnown(md.FullName()) {
		return len(m.GetUnknown()) == 0 && e.wellKnown(m)
	}
	if v := reflect.ValueOf(m.Interface()); v.Kind() == reflect.Pointer {
		if p := planOf(v.Type().Elem()); p != nil {
			return e.structMessage(p, v.Elem(), typeURL)
		}
	}
	if len(m.GetUnknown()) > 0 {
		return false
	}
	if mset, ok := md.(interface{ IsMessageSet() bool }); ok && mset.IsMessageSet() {
		return false // protojson refuses proto1 MessageSets
	}
	start := len(e.fields)
	m.Range(e.collectFieldFn)
	if e.declined {
		return false
	}
	end := len(e.fields)
	sortByIndex(e.fields[start:end])
	e.out = append(e.out, '{')
	if typeURL != "" {
		e.out = append(e.out, `"@type":`...)
		if !e.str(typeURL) {
			return false
		}
		if end > start {
			e.out = append(e.out, ',')
		}
	}
	for i := start; i < end; i++ {
		if i > start {
			e.out = append(e.out, ',')
		}
		f := e.fields[i] // e.fields may have grown (and moved) meanwhile
		if !e.str(f.fd.TextName()) {
			return false
		}
		e.out = append(e.out, ':')
		if !e.value(f.fd, f.v) {
			return false
		}
	}
	clear(e.fields[start:end])
	e.fields = e.fields[:start]
	e.out = append(e.out, '}')
	return true
}

// sortByIndex puts fields in declaration order, protojson's order for
// fields that are not extensions. Range visits them almost in order (it
// swaps one pair on purpose), so an insertion sort is linear here.
func sortByIndex(fs []fieldValue) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].fd.Index() < fs[j-1].fd.Index(); j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

func (e *jsonEncoder) value(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	switch {
	case fd.IsList():
		return e.list(v.List(), fd)
	case fd.IsMap():
		return e.mapValue(v.Map(), fd)
	default:
		return e.singular(fd, v)
	}
}

func (e *jsonEncoder) list(l protoreflect.List, fd protoreflect.FieldDescriptor) bool {
	return e.array(l.Len(), func(i int) bool { return e.singular(fd, l.Get(i)) })
}

// array writes n elements, each by element, as a JSON array; false when
// an element declines.
func (e *jsonEncoder) array(n int, element func(i int) bool) bool {
	e.out = append(e.out, '[')
	for i := range n {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		if !element(i) {
			return false
		}
	}
	e.out = append(e.out, ']')
	return true
}

// mapValue writes a map as an object with its keys in protojson's order:
// false before true, integers by value, strings by their bytes.
func (e *jsonEncoder) mapValue(mp protoreflect.Map, fd protoreflect.FieldDescriptor) bool {
	start := len(e.entries)
	mp.Range(e.collectEntryFn)
	end := len(e.entries)
	entries := e.entries[start:end]
	keyKind := fd.MapKey().Kind()
	switch keyKind {
	case protoreflect.StringKind:
		slices.SortFunc(entries, func(a, b mapEntry) int { return cmp.Compare(a.k.String(), b.k.String()) })
	case protoreflect.BoolKind:
		slices.SortFunc(entries, func(a, b mapEntry) int { return compareBools(a.k.Bool(), b.k.Bool()) })
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		slices.SortFunc(entries, func(a, b mapEntry) int { return cmp.Compare(a.k.Int(), b.k.Int()) })
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		slices.SortFunc(entries, func(a, b mapEntry) int { return cmp.Compare(a.k.Uint(), b.k.Uint()) })
	default:
		return false
	}
	vd := fd.MapValue()
	e.out = append(e.out, '{')
	for i := start; i < end; i++ {
		if i > start {
			e.out = append(e.out, ',')
		}
		ent := e.entries[i]
		if !e.mapKey(keyKind, ent.k) {
			return false
		}
		e.out = append(e.out, ':')
		if !e.singular(vd, ent.v) {
			return false
		}
	}
	clear(e.entries[start:end])
	e.entries = e.entries[:start]
	e.out = append(e.out, '}')
	return true
}

// mapKey writes a map key as protojson does: the string itself, or the
// decimal (or true/false) form quoted.
func (e *jsonEncoder) mapKey(kind protoreflect.Kind, k protoreflect.MapKey) bool {
	switch kind {
	case protoreflect.StringKind:
		return e.str(k.String())
	case protoreflect.BoolKind:
		e.out = append(e.out, '"')
		e.out = strconv.AppendBool(e.out, k.Bool())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		e.out = append(e.out, '"')
		e.out = strconv.AppendUint(e.out, k.Uint(), 10)
	default:
		e.out = append(e.out, '"')
		e.out = strconv.AppendInt(e.out, k.Int(), 10)
	}
	e.out = append(e.out, '"')
	return true
}

func compareBools(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// singular writes one value of a field that is not a list or a map (or one
// element or map value of one).
func (e *jsonEncoder) singular(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		e.out = strconv.AppendBool(e.out, v.Bool())
	case protoreflect.StringKind:
		return e.str(v.String())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		e.out = strconv.AppendInt(e.out, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		e.out = strconv.AppendUint(e.out, v.Uint(), 10)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		// 64-bit integers are JSON strings.
		e.out = append(e.out, '"')
		e.out = strconv.AppendInt(e.out, v.Int(), 10)
		e.out = append(e.out, '"')
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		e.out = append(e.out, '"')
		e.out = strconv.AppendUint(e.out, v.Uint(), 10)
		e.out = append(e.out, '"')
	case protoreflect.FloatKind:
		e.out = appendFloat(e.out, v.Float(), 32)
	case protoreflect.DoubleKind:
		e.out = appendFloat(e.out, v.Float(), 64)
	case protoreflect.BytesKind:
		e.out = append(e.out, '"')
		e.out = base64.StdEncoding.AppendEncode(e.out, v.Bytes())
		e.out = append(e.out, '"')
	case protoreflect.EnumKind:
		return e.enum(fd.Enum(), v.Enum())
	case protoreflect.MessageKind:
		return e.message(v.Message(), "")
	default:
		return false // groups
	}
	return true
}

// enum writes an enum value by name, by number when the number has no
// name, and google.protobuf.NullValue as null.
func (e *jsonEncoder) enum(ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) bool {
	if ed.FullName() == "google.protobuf.NullValue" {
		e.out = append(e.out, "null"...)
		return true
	}
	if vd := ed.Values().ByNumber(n); vd != nil {
		return e.str(string(vd.Name()))
	}
	e.out = strconv.AppendInt(e.out, int64(n), 10)
	return true
}

// str writes s as a JSON string escaped as protojson escapes it. It
// declines invalid UTF-8, which protojson refuses.
func (e *jsonEncoder) str(s string) bool {
	var ok bool
	e.out, ok = appendString(e.out, s)
	return ok
}
