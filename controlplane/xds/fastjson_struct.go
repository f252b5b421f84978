package xds

import (
	"reflect"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// structMessage writes the generated message struct v (reached through a
// pointer) with its plan p, as message does through protoreflect.
func (e *jsonEncoder) structMessage(p *structPlan, v reflect.Value, typeURL string) bool {
	if v.Field(p.unknown).Len() > 0 {
		return false
	}
	e.out = append(e.out, '{')
	first := true
	if typeURL != "" {
		e.out = append(e.out, `"@type":`...)
		if !e.str(typeURL) {
			return false
		}
		first = false
	}
	for i := range p.fields {
		f := &p.fields[i]
		fv := v.Field(f.index)
		if !f.isSet(fv) {
			continue
		}
		if f.oneof != nil {
			w := fv.Elem() // the wrapper, a non-nil pointer
			m := f.member(w.Type())
			if m == nil {
				return false
			}
			f, fv = &m.field, w.Elem().Field(0)
		}
		if !first {
			e.out = append(e.out, ',')
		}
		first = false
		e.out = append(e.out, f.key...)
		if !e.structField(v, f, fv) {
			return false
		}
	}
	e.out = append(e.out, '}')
	return true
}

// structField writes the value of the set field f, held in fv, of the
// message struct parent.
func (e *jsonEncoder) structField(parent reflect.Value, f *planField, fv reflect.Value) bool {
	fd := f.fd
	switch {
	case fd.IsMap():
		// Maps are rare in Envoy resources: protoreflect reads them.
		m := parent.Addr().Interface().(proto.Message).ProtoReflect()
		return e.mapValue(m.Get(fd).Map(), fd)
	case fd.IsList():
		return e.array(fv.Len(), func(i int) bool { return e.structSingular(f, fv.Index(i)) })
	case f.presence == presentIfNonNil && fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.BytesKind:
		return e.structSingular(f, fv.Elem()) // a pointer to the scalar
	default:
		return e.structSingular(f, fv)
	}
}

// structSingular writes one value of f (not a list or a map) held in v,
// as singular does for a protoreflect.Value.
func (e *jsonEncoder) structSingular(f *planField, v reflect.Value) bool {
	switch k := f.fd.Kind(); k {
	case protoreflect.MessageKind:
		return e.structChild(f, v)
	case protoreflect.GroupKind:
		return false
	default:
		return e.singular(f.fd, scalarValue(k, v))
	}
}

// scalarValue is v, a struct field holding a scalar of kind k, as
// protoreflect would give it.
func scalarValue(k protoreflect.Kind, v reflect.Value) protoreflect.Value {
	switch k {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(v.Bool())
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(v.String())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(v.Int()))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(v.Int())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(v.Uint()))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(v.Uint())
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(v.Float()))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(v.Float())
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes(v.Bytes())
	default: // enums
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(v.Int()))
	}
}

// structChild writes the message v (a pointer) of field f: through its
// plan, or through protoreflect for well-known types and types without
// one. A nil message is declined.
func (e *jsonEncoder) structChild(f *planField, v reflect.Value) bool {
	if v.IsNil() {
		return false
	}
	if !f.wellKnown {
		child := f.child.Load()
		if child == nil {
			if child = planOf(v.Type().Elem()); child == nil {
				child = noPlan
			}
			f.child.Store(child)
		}
		if child != noPlan {
			return e.structMessage(child, v.Elem(), "")
		}
	}
	m, ok := v.Interface().(proto.Message)
	return ok && e.message(m.ProtoReflect(), "")
}
