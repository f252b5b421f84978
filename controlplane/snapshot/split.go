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

// reuseWindow is how far past the expected position splitEncode looks for
// an element of the previous encoding before it indexes them all.
const reuseWindow = 8

// splitEncoding is one resource's split encoding: the bytes, and for each
// element of the split field, the element's message and where its own
// encoding lies in those bytes, so that the next encoding of the resource
// can take the bytes of the elements it still holds.
type splitEncoding struct {
	field protowire.Number
	out   []byte
	elems []proto.Message
	spans []span
	// reused counts the elements taken from the previous encoding.
	reused int
}

// span is a range [start, end) of an encoding.
type span struct{ start, end int }

// marshalSplit returns the deterministic encoding of m, byte for byte what
// proto's deterministic Marshal gives, with the elements of its largest
// repeated message field marshalled on every core: a route configuration
// holds thousands of virtual hosts, the HTTPS listener thousands of filter
// chains, and each would otherwise take one core for the whole resource.
// ok is false when m has no field worth splitting.
func marshalSplit(m proto.Message) (b []byte, ok bool, err error) {
	s, err := splitEncode(m, nil)
	if s == nil || err != nil {
		return nil, false, err
	}
	return s.out, true, nil
}

// splitEncode is marshalSplit that takes, for each element that is the
// very same message as one of prev's (the resource's last encoding, or
// nil), that element's bytes from prev instead of encoding it again. It
// returns nil when m has no field worth splitting. The encoding is
// assembled as proto writes it: the fields numbered below the split field,
// then each element (tag, length, bytes), then the fields numbered above
// it. The result's bytes are new; prev's are only read.
func splitEncode(m proto.Message, prev *splitEncoding) (*splitEncoding, error) {
	msg := m.ProtoReflect()
	fd := largestList(msg)
	if fd == nil {
		return nil, nil
	}
	head, cut, err := encodeShell(msg, fd)
	if err != nil {
		return nil, err
	}
	list := msg.Get(fd).List()
	s := &splitEncoding{field: fd.Number(), elems: make([]proto.Message, list.Len()), spans: make([]span, list.Len())}
	for i := range s.elems {
		s.elems[i] = list.Get(i).Message().Interface()
	}
	parts := make([][]byte, len(s.elems))
	have := make([]bool, len(s.elems))
	if prev != nil && prev.field == s.field {
		s.reused = prev.reuse(s.elems, parts, have)
	}
	var todo []int
	for i, ok := range have {
		if !ok {
			todo = append(todo, i)
		}
	}
	errs := make([]error, len(todo))
	parallel.For(len(todo), minSplit/8, func(i int) {
		parts[todo[i]], errs[i] = deterministic.Marshal(s.elems[todo[i]])
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	size := len(head)
	for _, p := range parts {
		size += protowire.SizeTag(s.field) + protowire.SizeBytes(len(p))
	}
	out := make([]byte, 0, size)
	out = append(out, head[:cut]...)
	for i, p := range parts {
		out = protowire.AppendTag(out, s.field, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(len(p)))
		s.spans[i] = span{len(out), len(out) + len(p)}
		out = append(out, p...)
	}
	s.out = append(out, head[cut:]...)
	return s, nil
}

// encodeShell encodes msg without the field fd, and returns where the
// fields numbered above fd start in that encoding.
func encodeShell(msg protoreflect.Message, fd protoreflect.FieldDescriptor) ([]byte, int, error) {
	shell := msg.Type().New()
	msg.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if f != fd {
			shell.Set(f, v)
		}
		return true
	})
	head, err := deterministic.Marshal(shell.Interface())
	if err != nil {
		return nil, 0, err
	}
	cut, err := fieldsBelow(head, fd.Number())
	return head, cut, err
}

// reuse sets parts[i] (and have[i]) to the bytes of elems[i] in p when p
// encoded that very message, and returns how many it found. Elements are
// looked for just after the last one found (lists change little and keep
// their order), then, failing that, in an index of all of p's elements.
func (p *splitEncoding) reuse(elems []proto.Message, parts [][]byte, have []bool) int {
	var index map[proto.Message]int
	next, found := 0, 0
	for i, e := range elems {
		at := -1
		for k := next; k < min(next+reuseWindow, len(p.elems)); k++ {
			if p.elems[k] == e {
				at = k
				break
			}
		}
		if at < 0 {
			if index == nil {
				index = make(map[proto.Message]int, len(p.elems))
				for k, x := range p.elems {
					index[x] = k
				}
			}
			if k, ok := index[e]; ok {
				at = k
			}
		}
		if at < 0 {
			continue
		}
		sp := p.spans[at]
		parts[i], have[i] = p.out[sp.start:sp.end:sp.end], true
		next = at + 1
		found++
	}
	return found
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
