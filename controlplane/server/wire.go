package server

import (
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
)

// wired is a resource as the incremental caches hold it: its name and
// version, and its Resource's encoding framed as one resources entry of a
// DeltaDiscoveryResponse (tag, length, bytes), which every stream's
// response reuses (see wireCodec). The framed encoding is head, then each
// piece of big's body, then big's tail, byte for byte the framing of
// proto's deterministic encoding of the Resource with its value, its type
// included.
//
// A resource the encoder gave in one piece is all in head, and big is nil.
// A big resource the encoder gave element by element (see
// snapshot.Encoding) keeps those pieces in big's body, shared with its
// versions before and after: its bytes are held once, and only the wire is
// ever sent. No message is held: an answer's message carries placeholders
// (see placeholders). A wired is 80 bytes: caches, logs and shared answers
// hold one per resource (63,000 at S10k).
type wired struct {
	name, version string
	head          []byte
	big           *bigWire
	// from and to are where the value starts in head and ends in big's
	// tail, for a big resource; otherwise where it starts and ends in head
	// (the Any ends there too). anyAt is where the Any's field (tag,
	// length, Any) starts in head (see sotwPieces).
	from, to, anyAt int32
}

// bigWire is the rest of a big resource's framed encoding, after head.
type bigWire struct {
	body [][]byte
	tail []byte
}

// body is the pieces of a big resource's encoding between head and tail;
// none for one in one piece.
func (w wired) body() [][]byte {
	if w.big == nil {
		return nil
	}
	return w.big.body
}

// tail is what follows a big resource's body; nothing for one in one
// piece.
func (w wired) tail() []byte {
	if w.big == nil {
		return nil
	}
	return w.big.tail
}

// Field numbers of envoy.service.discovery.v3.Resource and of Any.
const (
	resourceVersion protowire.Number = 1
	resourceAny     protowire.Number = 2
	resourceName    protowire.Number = 3
	anyTypeURL      protowire.Number = 1
	anyValue        protowire.Number = 2
)

// newWired frames the resource of type t called name, whose encoding and
// version are enc, around enc's pieces: only enc's head and tail are
// copied.
func newWired(t, name string, enc snapshot.Encoding) wired {
	n := enc.Len()
	anyLen := sizeString(anyTypeURL, t) + sizeBytes(anyValue, n)
	resLen := sizeString(resourceVersion, enc.Version) + protowire.SizeTag(resourceAny) + protowire.SizeBytes(anyLen) +
		sizeString(resourceName, name)
	whole := len(enc.Elems) == 0
	size := protowire.SizeTag(resourcesField.Number()) + protowire.SizeBytes(resLen)
	if !whole {
		size -= n - len(enc.Head)
	}
	head := make([]byte, 0, size)
	head = protowire.AppendTag(head, resourcesField.Number(), protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(resLen))
	head = appendString(head, resourceVersion, enc.Version)
	anyAt := len(head)
	head = protowire.AppendTag(head, resourceAny, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(anyLen))
	head = appendString(head, anyTypeURL, t)
	if n > 0 {
		head = protowire.AppendTag(head, anyValue, protowire.BytesType)
		head = protowire.AppendVarint(head, uint64(n))
	}
	w := wired{name: name, version: enc.Version, anyAt: int32(anyAt)}
	start := len(head)
	head = append(head, enc.Head...)
	if whole {
		head = append(head, enc.Tail...)
		w.from, w.to = int32(start), int32(len(head))
		w.head = appendString(head, resourceName, name)
		return w
	}
	tail := make([]byte, 0, len(enc.Tail)+sizeString(resourceName, name))
	tail = appendString(append(tail, enc.Tail...), resourceName, name)
	w.head, w.big, w.from, w.to = head, &bigWire{body: enc.Elems, tail: tail}, int32(start), int32(len(enc.Tail))
	return w
}

// value is the resource's encoding when it is in one piece (a slice of
// head), nil for a big one.
func (w wired) value() []byte {
	if w.big != nil {
		return nil
	}
	return w.head[w.from:w.to:w.to]
}

// An answer's message only counts its resources: wireCodec sends the
// bytes of its wires in their place, and refuses to encode such a message
// any other way. So every entry of its resources is the same empty
// message, shared by every answer and never written; a thousand streams
// answered with a thousand resources each cost a pointer per resource
// each, not a message.
var (
	placeholderResource = &discoverygrpc.Resource{}
	placeholderAny      = &anypb.Any{}
)

// placeholders returns the resources of an answer carrying n wires: n
// times placeholder (placeholderResource for a delta answer, placeholderAny
// for a state-of-the-world one).
func placeholders[M any](n int, placeholder M) []M {
	out := make([]M, n)
	for i := range out {
		out[i] = placeholder
	}
	return out
}

// sizeString is the size of a proto3 string field: nothing when empty.
func sizeString(num protowire.Number, s string) int {
	return sizeBytes(num, len(s))
}

// sizeBytes is the size of a proto3 bytes field of n bytes: nothing when
// empty.
func sizeBytes(num protowire.Number, n int) int {
	if n == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// pieces calls fn with each non-empty piece of w's framed encoding, in
// order.
func (w wired) pieces(fn func([]byte)) {
	fn(w.head)
	for _, p := range w.body() {
		fn(p)
	}
	if t := w.tail(); len(t) > 0 {
		fn(t)
	}
}

// sotwPieces calls fn with each non-empty piece of w framed as one
// resources entry of a state-of-the-world DiscoveryResponse. That entry is
// the Resource's own Any field, byte for byte: both are field 2 holding an
// Any. So the pieces are slices of w's framed encoding, shared with it.
func (w wired) sotwPieces(fn func([]byte)) {
	if w.big == nil {
		fn(w.head[w.anyAt:w.to])
		return
	}
	fn(w.head[w.anyAt:])
	for _, p := range w.big.body {
		fn(p)
	}
	if w.to > 0 {
		fn(w.big.tail[:w.to])
	}
}

// appendBuffers appends the pieces of w's framed encoding to out.
func (w wired) appendBuffers(out mem.BufferSlice) mem.BufferSlice {
	w.pieces(func(p []byte) { out = append(out, mem.SliceBuffer(p)) })
	return out
}

// copyBelow is the size under which frame copies a piece rather than
// referring to it.
const copyBelow = 32 << 10

// frame returns the framed encodings of wires, in order, in as few
// buffers as it can without copying big pieces: pieces smaller than
// copyBelow are copied, one run after another, into one new array; bigger
// ones are referred to as they are.
func frame(wires []wired) [][]byte { return frameWith(wires, wired.pieces) }

// frameSotW is frame for a state-of-the-world answer (see sotwPieces).
func frameSotW(wires []wired) [][]byte { return frameWith(wires, wired.sotwPieces) }

func frameWith(wires []wired, pieces func(wired, func([]byte))) [][]byte {
	small := 0
	for _, w := range wires {
		pieces(w, func(p []byte) {
			if len(p) < copyBelow {
				small += len(p)
			}
		})
	}
	buf := make([]byte, 0, small)
	var out [][]byte
	start := 0
	flush := func() {
		if len(buf) > start {
			out = append(out, buf[start:len(buf):len(buf)])
			start = len(buf)
		}
	}
	for _, w := range wires {
		pieces(w, func(p []byte) {
			if len(p) < copyBelow {
				buf = append(buf, p...)
				return
			}
			flush()
			out = append(out, p)
		})
	}
	flush()
	return out
}
