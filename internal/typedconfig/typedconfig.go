// Package typedconfig checks the typed configurations an Envoy message
// carries, as Envoy checks them when it loads the message.
//
// go-control-plane's generated Validate checks a message and the messages
// in its fields, but stops at a google.protobuf.Any: a listener passes
// Validate whatever its HTTP connection managers, filters and TLS contexts
// hold. Envoy unpacks each of those typed configurations and refuses the
// whole resource if one is of a type it does not know or fails its own
// constraints. Validate here does the same, so that tests catch a typed
// configuration Envoy would refuse (a NACK) where Validate alone passes.
package typedconfig

import (
	"fmt"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// anyName is the full name of google.protobuf.Any.
const anyName = "google.protobuf.Any"

// Validate unpacks every Any in m, at any depth (including Anys inside
// unpacked ones), and checks each with its own Validate. It does not call
// m.Validate itself. The error names the field path from m and the
// configuration's type URL; an Any of a type not linked into the program
// (which Envoy would not know either) is an error too. Only the first
// error is returned.
func Validate(m proto.Message) error {
	return walk(m.ProtoReflect(), string(m.ProtoReflect().Descriptor().Name()))
}

// validator is what go-control-plane's generated messages implement.
type validator interface{ Validate() error }

// walk checks the Anys found under m, whose path is path.
func walk(m protoreflect.Message, path string) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !mayHoldAny(fd) {
			return true
		}
		field := path + "." + string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = visit(l.Get(i).Message(), fmt.Sprintf("%s[%d]", field, i))
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				err = visit(mv.Message(), fmt.Sprintf("%s[%q]", field, k.String()))
				return err == nil
			})
		default:
			err = visit(v.Message(), field)
		}
		return err == nil
	})
	return err
}

// visit checks m, found at path: unpacked and validated if it is an Any,
// searched for Anys otherwise.
func visit(m protoreflect.Message, path string) error {
	if m.Descriptor().FullName() != anyName {
		return walk(m, path)
	}
	a, ok := m.Interface().(*anypb.Any)
	if !ok {
		return fmt.Errorf("%s: an Any of an unexpected Go type %T", path, m.Interface())
	}
	inner, err := a.UnmarshalNew()
	if err != nil {
		return fmt.Errorf("%s: typed config %q: %w", path, a.GetTypeUrl(), err)
	}
	at := fmt.Sprintf("%s<%s>", path, strings.TrimPrefix(a.GetTypeUrl(), "type.googleapis.com/"))
	if v, ok := inner.(validator); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
	}
	return walk(inner.ProtoReflect(), at)
}

// mayHoldAny says whether a value of field fd can contain an Any: the
// walk skips the many fields (matches, addresses, durations, …) that
// cannot.
func mayHoldAny(fd protoreflect.FieldDescriptor) bool {
	md := fd.Message() // a map's entry, whose value field search reads
	return md != nil && reaches(md)
}

// reachable memoises reaches by message name.
var reachable sync.Map // protoreflect.FullName → bool

// reaches says whether a message of type md can contain an Any, in any
// field at any depth.
func reaches(md protoreflect.MessageDescriptor) bool {
	if r, ok := reachable.Load(md.FullName()); ok {
		return r.(bool)
	}
	r := search(md, map[protoreflect.FullName]bool{})
	reachable.Store(md.FullName(), r)
	return r
}

// search is reaches without the memo; seen holds the messages on the
// current path. A message met again on its own path (a recursive type)
// counts as reaching an Any, which only makes the walk look further.
func search(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if md.FullName() == anyName || seen[md.FullName()] {
		return true
	}
	if r, ok := reachable.Load(md.FullName()); ok {
		return r.(bool)
	}
	seen[md.FullName()] = true
	defer delete(seen, md.FullName())
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		if sub := fields.Get(i).Message(); sub != nil && search(sub, seen) {
			return true
		}
	}
	return false
}
