package xds

import (
	"cmp"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Reading a generated message through protoreflect costs a type lookup in
// a global map for every message and list field, set or not (the getters
// build a reflect.Value of a pointer to the field). For the generated Go
// types of the open struct API (what protoc-gen-go writes by default, and
// what go-control-plane ships), the encoder reads the struct itself: the
// descriptor still says what each field is (name, kind, order, presence),
// a structPlan says where its value is. The presence rules are those of
// protobuf-go's own reflection for such structs (impl/message_reflect_field.go):
// a pointer, []byte with presence, message, list or map is present when
// non-nil or non-empty; an implicit-presence scalar when it is not zero
// (a float when not +0); a oneof when its wrapper is non-nil. A type laid
// out any other way (opaque or hybrid API, extensions, weak fields) has no
// plan and goes through protoreflect.

// structPlan is how one generated message struct holds its fields.
type structPlan struct {
	unknown int // index of the unknownFields field
	// fields in protojson's order (declaration order); a oneof stands at
	// the place of its members.
	fields []planField
}

// planField is one Go field: a proto field, or a oneof.
type planField struct {
	index int // in the Go struct
	fd    protoreflect.FieldDescriptor
	// key is the field's name as a JSON key, with its colon.
	key string
	// presence says how to tell whether the field is set.
	presence presence
	// wellKnown: the field holds well-known types, written by wellKnown.
	wellKnown bool
	// child is the plan of the field's message type (noPlan if it has
	// none), set on first use.
	child *atomic.Pointer[structPlan]
	// oneof is the oneof's descriptor (fd is nil); members its wrapper
	// types seen so far (copy on write).
	oneof   protoreflect.OneofDescriptor
	members *atomic.Pointer[[]oneofMember]
}

// oneofMember is one wrapper type of a oneof: a pointer to a struct whose
// only field holds the member's value.
type oneofMember struct {
	typ   reflect.Type
	field planField
}

type presence uint8

const (
	presentIfNonZero  presence = iota // implicit presence: not the zero value
	presentIfNonNil                   // pointer or []byte with presence, message
	presentIfNonEmpty                 // list or map
	presentIfWrapped                  // oneof: a non-nil wrapper
	presentAlways                     // a oneof member inside its wrapper
)

var (
	structPlans sync.Map // reflect.Type (of the struct) → *structPlan, or noPlan
	noPlan      = &structPlan{}
)

// planOf returns the plan of the message struct type t, or nil when t is
// not laid out as planOf expects.
func planOf(t reflect.Type) *structPlan {
	if p, ok := structPlans.Load(t); ok {
		if p == noPlan {
			return nil
		}
		return p.(*structPlan)
	}
	p := buildPlan(t)
	if p == nil {
		structPlans.Store(t, noPlan)
		return nil
	}
	structPlans.Store(t, p)
	return p
}

func buildPlan(t reflect.Type) *structPlan {
	// Check the layout before asking a zero value for its descriptor (a
	// zero dynamicpb.Message has none).
	if t.Kind() != reflect.Struct || t.NumField() == 0 || t.Field(0).Name != "state" {
		return nil
	}
	m, ok := reflect.New(t).Interface().(proto.Message)
	if !ok {
		return nil
	}
	md := m.ProtoReflect().Descriptor()
	p := &structPlan{unknown: -1}
	covered := 0 // proto fields with a Go field
	for i := range t.NumField() {
		sf := t.Field(i)
		switch {
		case sf.Name == "state" || sf.Name == "sizeCache":
		case sf.Name == "unknownFields" && sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Uint8:
			p.unknown = i
		case sf.Tag.Get("protobuf_oneof") != "" && sf.Type.Kind() == reflect.Interface && sf.IsExported():
			od := md.Oneofs().ByName(protoreflect.Name(sf.Tag.Get("protobuf_oneof")))
			if od == nil || od.IsSynthetic() || !contiguous(od) {
				return nil
			}
			p.fields = append(p.fields, planField{index: i, oneof: od, presence: presentIfWrapped, members: new(atomic.Pointer[[]oneofMember])})
			covered += od.Fields().Len()
		case sf.Tag.Get("protobuf") != "" && sf.IsExported():
			fd := fieldOfTag(md, sf.Tag.Get("protobuf"))
			if fd == nil || (fd.ContainingOneof() != nil && !fd.ContainingOneof().IsSynthetic()) {
				return nil
			}
			pres, ok := presenceOf(fd, sf.Type)
			if !ok {
				return nil
			}
			p.fields = append(p.fields, newPlanField(i, fd, pres))
			covered++
		default:
			return nil // extensions, weak fields, opaque API, ...
		}
	}
	if p.unknown < 0 || covered != md.Fields().Len() || md.ExtensionRanges().Len() > 0 {
		return nil
	}
	slices.SortFunc(p.fields, func(a, b planField) int { return cmp.Compare(a.firstIndex(), b.firstIndex()) })
	return p
}

func newPlanField(index int, fd protoreflect.FieldDescriptor, pres presence) planField {
	key, _ := appendString(nil, fd.TextName()) // a proto name is ASCII
	return planField{
		index: index, fd: fd, key: string(append(key, ':')), presence: pres,
		wellKnown: fd.Message() != nil && isWellKnown(fd.Message().FullName()),
		child:     new(atomic.Pointer[structPlan]),
	}
}

// firstIndex is the declaration index of the field, or of the first member
// of the oneof.
func (f *planField) firstIndex() int {
	if f.oneof != nil {
		return f.oneof.Fields().Get(0).Index()
	}
	return f.fd.Index()
}

// contiguous reports whether the members of od are declared one after the
// other, so that the oneof has one place in protojson's order.
func contiguous(od protoreflect.OneofDescriptor) bool {
	fds := od.Fields()
	for i := 1; i < fds.Len(); i++ {
		if fds.Get(i).Index() != fds.Get(i-1).Index()+1 {
			return false
		}
	}
	return fds.Len() > 0
}

// fieldOfTag returns the field a `protobuf:"kind,number,..."` tag names.
func fieldOfTag(md protoreflect.MessageDescriptor, tag string) protoreflect.FieldDescriptor {
	parts := strings.Split(tag, ",")
	if len(parts) < 2 {
		return nil
	}
	n, err := strconv.ParseInt(parts[1], 10, 32)
	if err != nil {
		return nil
	}
	return md.Fields().ByNumber(protoreflect.FieldNumber(n))
}

// presenceOf checks that the Go type t can hold fd as protoc-gen-go lays
// it out and says how its presence shows.
func presenceOf(fd protoreflect.FieldDescriptor, t reflect.Type) (presence, bool) {
	switch {
	case fd.IsMap():
		return presentIfNonEmpty, t.Kind() == reflect.Map
	case fd.IsList():
		return presentIfNonEmpty, t.Kind() == reflect.Slice && holds(fd, t.Elem())
	case fd.Kind() == protoreflect.MessageKind:
		return presentIfNonNil, holds(fd, t)
	case fd.HasPresence() && fd.Kind() == protoreflect.BytesKind:
		return presentIfNonNil, holds(fd, t)
	case fd.HasPresence():
		return presentIfNonNil, t.Kind() == reflect.Pointer && holds(fd, t.Elem())
	default:
		return presentIfNonZero, holds(fd, t)
	}
}

// holds reports whether one value of fd is a Go value of type t.
func holds(fd protoreflect.FieldDescriptor, t reflect.Type) bool {
	var want reflect.Kind
	switch fd.Kind() {
	case protoreflect.BoolKind:
		want = reflect.Bool
	case protoreflect.StringKind:
		want = reflect.String
	case protoreflect.BytesKind:
		return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
	case protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		want = reflect.Int32
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		want = reflect.Uint32
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		want = reflect.Int64
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		want = reflect.Uint64
	case protoreflect.FloatKind:
		want = reflect.Float32
	case protoreflect.DoubleKind:
		want = reflect.Float64
	case protoreflect.MessageKind:
		return t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct
	default:
		return false // groups
	}
	return t.Kind() == want
}

// member returns the oneof member whose wrapper has type typ, learning it
// on first sight; nil if typ is not a wrapper of f's oneof.
func (f *planField) member(typ reflect.Type) *oneofMember {
	if ms := f.members.Load(); ms != nil {
		for i := range *ms {
			if (*ms)[i].typ == typ {
				return &(*ms)[i]
			}
		}
	}
	if typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.Struct || typ.Elem().NumField() != 1 {
		return nil
	}
	sf := typ.Elem().Field(0)
	fd := fieldOfTag(f.oneof.Parent().(protoreflect.MessageDescriptor), sf.Tag.Get("protobuf"))
	if fd == nil || fd.ContainingOneof() != f.oneof || !sf.IsExported() || !holds(fd, sf.Type) {
		return nil
	}
	for {
		old := f.members.Load()
		var ms []oneofMember
		if old != nil {
			ms = slices.Clone(*old)
		}
		ms = append(ms, oneofMember{typ: typ, field: newPlanField(0, fd, presentAlways)})
		if f.members.CompareAndSwap(old, &ms) {
			return &ms[len(ms)-1]
		}
	}
}

// isSet reports whether the Go field v (of f) holds a value.
func (f *planField) isSet(v reflect.Value) bool {
	switch f.presence {
	case presentIfNonZero:
		switch v.Kind() {
		case reflect.Bool:
			return v.Bool()
		case reflect.Int32, reflect.Int64:
			return v.Int() != 0
		case reflect.Uint32, reflect.Uint64:
			return v.Uint() != 0
		case reflect.Float32, reflect.Float64:
			return v.Float() != 0 || math.Signbit(v.Float())
		default: // string, bytes
			return v.Len() > 0
		}
	case presentIfNonNil:
		return !v.IsNil()
	case presentIfNonEmpty:
		return v.Len() > 0
	case presentIfWrapped:
		return !v.IsNil() && !v.Elem().IsNil()
	}
	return true
}
