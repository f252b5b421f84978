package snapshot

import (
	"sync"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
)

// Encoder encodes resources as Encode does, and remembers the last
// encoding of each route configuration and listener big enough to be
// encoded element by element (see marshalSplit): encoding the same
// resource again, as a new message whose virtual hosts or filter chains
// are mostly the very same messages as last time, copies those elements'
// bytes from the last encoding and encodes only the new ones. The bytes
// and versions are exactly Encode's.
//
// It relies on the contract Diff states: a message handed to Encode,
// elements included, is never mutated afterwards. The zero value is ready;
// an Encoder is safe for concurrent use (concurrent calls for one name
// stay correct but may not reuse each other's bytes).
type Encoder struct {
	mu   sync.Mutex
	last map[memoKey]*splitEncoding
}

type memoKey struct {
	kind Kind
	name string
}

// Encode returns the deterministic encoding of m, the resource of kind k
// called name, and its Version, reusing what it can of name's last
// encoding. The returned bytes are the Encoder's memory too: callers must
// not modify them.
func (e *Encoder) Encode(k Kind, name string, m proto.Message) ([]byte, string, error) {
	switch m.(type) {
	case *routev3.RouteConfiguration, *listenerv3.Listener:
	default:
		return Encode(m)
	}
	key := memoKey{k, name}
	e.mu.Lock()
	prev := e.last[key]
	e.mu.Unlock()
	s, err := splitEncode(m, prev)
	if err != nil {
		return nil, "", err
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
			return nil, "", err
		}
		return b, versionOf(b), nil
	}
	return s.out, versionOf(s.out), nil
}

// Forget drops what e remembers of the resource of kind k called name;
// callers call it when the resource is removed, so that its last encoding
// is not kept.
func (e *Encoder) Forget(k Kind, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.last, memoKey{k, name})
}
