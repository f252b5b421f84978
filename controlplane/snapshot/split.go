package snapshot

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/isobar-dev/isobar/internal/parallel"
)

// minSplit is the number of elements of a repeated message field from
// which Encode marshals the elements on every core.
const minSplit = 512

// splitEncoding is one resource's split encoding, in pieces: the fields
// numbered below the split field, each element of that field framed as the
// field (tag, length, bytes), and the fields numbered above it. It keeps
// each element's message and the SHA-256 of its bytes, so that the next
// encoding of the resource can take the pieces and digests of the elements
// it still holds.
type splitEncoding struct {
	field      protowire.Number
	head, tail []byte
	elems      []proto.Message
	parts      [][]byte
	sums       []byte // the elements' digests, sha256.Size bytes apiece, when asked for
	// reused counts the elements taken from the previous encoding.
	reused int
}

// marshalSplit returns the deterministic encoding of m, byte for byte what
// proto's deterministic Marshal gives, with the elements of its largest
// repeated message field marshalled on every core: a route configuration
// holds thousands of virtual hosts, the HTTPS listener thousands of filter
// chains, and each would otherwise take one core for the whole resource.
// ok is false when m has no field worth splitting.
func marshalSplit(m proto.Message) (b []byte, ok bool, err error) {
	s, err := splitEncode(m, nil, false)
	if s == nil || err != nil {
		return nil, false, err
	}
	return s.encoding().Bytes(), true, nil
}

// splitEncode encodes m in pieces, with the elements' digests when
// digests is set, taking, for each element that is the very same message
// as one of prev's (the resource's last encoding, with digests, or nil),
// that element's piece and digest from prev instead of encoding it again;
// the new elements are encoded on every core. It returns nil when m has no
// field worth splitting. The pieces in order are proto's encoding: fields
// numbered below the split field, then each element (tag, length, bytes),
// then the fields numbered above it. prev is only read.
func splitEncode(m proto.Message, prev *splitEncoding, digests bool) (*splitEncoding, error) {
	msg := m.ProtoReflect()
	fd := largestList(msg)
	if fd == nil {
		return nil, nil
	}
	shell, cut, err := encodeShell(msg, fd)
	if err != nil {
		return nil, err
	}
	elems := listElems(m, fd)
	n := len(elems)
	s := &splitEncoding{field: fd.Number(), head: shell[:cut:cut], tail: shell[cut:], elems: elems, parts: make([][]byte, n)}
	if digests {
		s.sums = make([]byte, n*sha256.Size)
	}
	if prev != nil && prev.field == s.field {
		s.reused = matchOrdered(prev.elems, s.elems, func(i, at int) {
			s.parts[i] = prev.parts[at]
			if digests {
				copy(s.sums[i*sha256.Size:], prev.sums[at*sha256.Size:(at+1)*sha256.Size])
			}
		})
	}
	var todo []int
	for i, p := range s.parts {
		if p == nil {
			todo = append(todo, i)
		}
	}
	errs := make([]error, len(todo))
	parallel.For(len(todo), minSplit/8, func(k int) {
		i := todo[k]
		var raw []byte
		s.parts[i], raw, errs[k] = marshalFramed(s.field, s.elems[i])
		if errs[k] == nil && digests {
			sum := sha256.Sum256(raw)
			copy(s.sums[i*sha256.Size:], sum[:])
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// marshalFramed returns the deterministic encoding of e framed as field
// num (tag, length, bytes), in one allocation, and the encoding alone (a
// slice of it): e is encoded after room for the frame, which is then
// written just before it.
func marshalFramed(num protowire.Number, e proto.Message) (framed, raw []byte, err error) {
	room := protowire.SizeTag(num) + binary.MaxVarintLen64
	b, err := deterministic.MarshalAppend(make([]byte, room), e)
	if err != nil {
		return nil, nil, err
	}
	raw = b[room:len(b):len(b)]
	start := room - protowire.SizeTag(num) - protowire.SizeVarint(uint64(len(raw)))
	frame := protowire.AppendTag(b[start:start], num, protowire.BytesType)
	protowire.AppendVarint(frame, uint64(len(raw)))
	return b[start:len(b):len(b)], raw, nil
}

// listElems returns the elements of m's list field fd; the virtual hosts
// of a route configuration and the filter chains of a listener are read
// without reflection.
func listElems(m proto.Message, fd protoreflect.FieldDescriptor) []proto.Message {
	switch m := m.(type) {
	case *routev3.RouteConfiguration:
		if fd == virtualHostsField {
			return asMessages(m.GetVirtualHosts())
		}
	case *listenerv3.Listener:
		if fd == filterChainsField {
			return asMessages(m.GetFilterChains())
		}
	}
	list := m.ProtoReflect().Get(fd).List()
	out := make([]proto.Message, list.Len())
	for i := range out {
		out[i] = list.Get(i).Message().Interface()
	}
	return out
}

// The fields listElems reads directly.
var (
	virtualHostsField = (&routev3.RouteConfiguration{}).ProtoReflect().Descriptor().Fields().ByName("virtual_hosts")
	filterChainsField = (&listenerv3.Listener{}).ProtoReflect().Descriptor().Fields().ByName("filter_chains")
)

// encoding returns s as an Encoding, with its split version.
func (s *splitEncoding) encoding() Encoding {
	return Encoding{Head: s.head, Elems: s.parts, Tail: s.tail, Version: s.version()}
}

// version returns the split version of the resource s encodes: the first
// 16 hex characters of the SHA-256 of a zero byte (which never starts a
// protobuf encoding: no field is numbered 0, so no split version is the
// plain Version of another resource), the split field's number and the
// length of the fields below it (as varints), those fields, the number of
// elements (a varint), the SHA-256 of each element's encoding, and the
// fields above the split field. Reading that input back is unambiguous, so
// two resources get the same split version only if their encodings are
// equal or SHA-256 collides.
func (s *splitEncoding) version() string {
	h := sha256.New()
	b := []byte{0}
	b = protowire.AppendVarint(b, uint64(s.field))
	b = protowire.AppendVarint(b, uint64(len(s.head)))
	h.Write(b)
	h.Write(s.head)
	h.Write(protowire.AppendVarint(nil, uint64(len(s.parts))))
	h.Write(s.sums)
	h.Write(s.tail)
	return hex.EncodeToString(h.Sum(nil)[:8])
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

// largestList returns m's repeated message field (not a map) with the most
// elements, the lowest numbered of equals, when it has at least minSplit;
// or nil.
func largestList(m protoreflect.Message) protoreflect.FieldDescriptor {
	var best protoreflect.FieldDescriptor
	n := minSplit - 1
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !fd.IsList() || fd.Message() == nil {
			return true
		}
		if l := v.List().Len(); l > n || l == n && best != nil && fd.Number() < best.Number() {
			best, n = fd, l
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
