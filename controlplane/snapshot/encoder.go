package snapshot

import (
	"sync"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
)

// Encoding is one resource's deterministic encoding as an Encoder gives
// it, and its version. The bytes are Head, then each of Elems, then Tail:
// byte for byte proto's deterministic Marshal. A resource encoded element
// by element (a route configuration or a listener with at least 512
// virtual hosts or filter chains) keeps each element, framed as its field
// (tag, length, bytes), in a slice of its own, shared with the encodings
// of the same resource before and after it that hold the same element;
// any other resource is all in Head. The slices are the Encoder's memory
// too: callers must not modify them.
type Encoding struct {
	Head  []byte
	Elems [][]byte
	Tail  []byte
	// Version is the resource's content hash: Version's for a resource
	// all in Head; for one encoded element by element, a hash over the
	// head, the SHA-256 of each element and the tail (see
	// splitEncoding.version), which costs only the new elements to
	// update. Either way, equal contents have equal versions and
	// different contents different ones.
	Version string
}

// Len returns the length of the encoding.
func (e Encoding) Len() int {
	n := len(e.Head) + len(e.Tail)
	for _, p := range e.Elems {
		n += len(p)
	}
	return n
}

// Bytes returns the encoding as one slice: Head itself when that is all of
// it, otherwise a new slice.
func (e Encoding) Bytes() []byte {
	if len(e.Elems) == 0 && len(e.Tail) == 0 {
		return e.Head
	}
	out := make([]byte, 0, e.Len())
	out = append(out, e.Head...)
	for _, p := range e.Elems {
		out = append(out, p...)
	}
	return append(out, e.Tail...)
}

// Encoder encodes resources as Encode does, but a route configuration or
// listener big enough to be encoded element by element (see marshalSplit)
// is left in pieces, versioned from its elements' digests, and
// remembered: encoding the same resource again, as a new message whose
// virtual hosts or filter chains are mostly the very same messages as last
// time, takes those elements' pieces and digests from the last encoding
// and encodes and hashes only the new ones, so that a change costs what
// changed, not the size of the resource.
//
// It relies on the contract Diff states: a message handed to Encode,
// elements included, is never mutated afterwards. The zero value is ready;
// an Encoder is safe for concurrent use (concurrent calls for one name
// stay correct but may not reuse each other's pieces).
type Encoder struct {
	mu   sync.Mutex
	last map[memoKey]*splitEncoding
}

type memoKey struct {
	kind Kind
	name string
}

// Encode returns the deterministic encoding and the version of m, the
// resource of kind k called name, reusing what it can of name's last
// encoding. A resource's version depends on its content only: a fresh
// Encoder gives the same as one that saw the resource's earlier contents.
func (e *Encoder) Encode(k Kind, name string, m proto.Message) (Encoding, error) {
	switch m.(type) {
	case *routev3.RouteConfiguration, *listenerv3.Listener:
	default:
		b, v, err := Encode(m)
		return Encoding{Head: b, Version: v}, err
	}
	key := memoKey{k, name}
	e.mu.Lock()
	prev := e.last[key]
	e.mu.Unlock()
	s, err := splitEncode(m, prev, true)
	if err != nil {
		return Encoding{}, err
	}
	e.mu.Lock()
	if s == nil {
		delete(e.last, key)
	} else {
		if e.last == nil {
			e.last = map[memoKey]*splitEncoding{}
		}
		e.last[key] = s
	}
	e.mu.Unlock()
	if s == nil {
		b, err := deterministic.Marshal(m)
		if err != nil {
			return Encoding{}, err
		}
		return Encoding{Head: b, Version: versionOf(b)}, nil
	}
	return s.encoding(), nil
}

// Forget drops what e remembers of the resource of kind k called name;
// callers call it when the resource is removed, so that its last encoding
// is not kept.
func (e *Encoder) Forget(k Kind, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.last, memoKey{k, name})
}
