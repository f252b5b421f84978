package snapshot

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/isobar-dev/isobar/internal/parallel"
)

// minSplit is the number of elements of a repeated message field from
// which Encode marshals the elements on every core.
const minSplit = 512

// marshalSplit returns the deterministic encoding of m, byte for byte what
// proto's deterministic Marshal gives, with the elements of its largest
// repeated message field marshalled on every core: a route configuration
// holds thousands of virtual hosts, the HTTPS listener thousands of filter
// chains, and each would otherwise take one core for the whole resource.
// The encoding is assembled as proto writes it: the fields numbered below
// the split field, then each element (tag, length, bytes), then the fields
// numbered above it. ok is false when m has no field worth splitting.
func marshalSplit(m proto.Message) (b []byte, ok bool, err error) {
	msg := m.ProtoReflect()
	fd := largestList(msg)
	if fd == nil {
		return nil, false, nil
	}
	shell := msg.Type().New()
	msg.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if f != fd {
			shell.Set(f, v)
		}
		return true
	})
	head, err := deterministic.Marshal(shell.Interface())
	if err != nil {
		return nil, false, err
	}
	cut, err := fieldsBelow(head, fd.Number())
	if err != nil {
		return nil, false, err
	}
	list := msg.Get(fd).List()
	parts := make([][]byte, list.Len())
	errs := make([]error, list.Len())
	parallel.For(list.Len(), minSplit/8, func(i int) {
		parts[i], errs[i] = deterministic.Marshal(list.Get(i).Message().Interface())
	})
	size := len(head)
	for i, p := range parts {
		if errs[i] != nil {
			return nil, false, errs[i]
		}
		size += protowire.SizeTag(fd.Number()) + protowire.SizeBytes(len(p))
	}
	out := make([]byte, 0, size)
	out = append(out, head[:cut]...)
	for _, p := range parts {
		out = protowire.AppendTag(out, fd.Number(), protowire.BytesType)
		out = protowire.AppendBytes(out, p)
	}
	return append(out, head[cut:]...), true, nil
}

// largestList returns m's repeated message field (not a map) with at least
// minSplit elements, or nil.
func largestList(m protoreflect.Message) protoreflect.FieldDescriptor {
	var best protoreflect.FieldDescriptor
	n := minSplit - 1
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsList() && fd.Message() != nil && v.List().Len() > n {
			best, n = fd, v.List().Len()
		}
		return true
	})
	return best
}

// fieldsBelow returns the length of the leading fields of b numbered below
// n: deterministic encodings write fields in number order.
func fieldsBelow(b []byte, n protowire.Number) (int, error) {
	pos := 0
	for pos < len(b) {
		num, typ, tagLen := protowire.ConsumeTag(b[pos:])
		if tagLen < 0 {
			return 0, fmt.Errorf("re-reading an encoding: %w", protowire.ParseError(tagLen))
		}
		if num >= n {
			return pos, nil
		}
		valLen := protowire.ConsumeFieldValue(num, typ, b[pos+tagLen:])
		if valLen < 0 {
			return 0, fmt.Errorf("re-reading an encoding: %w", protowire.ParseError(valLen))
		}
		pos += tagLen + valLen
	}
	return pos, nil
}
