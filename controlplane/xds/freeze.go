package xds

import (
	"bytes"
	"fmt"
	"slices"
	"sync"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A frozen message keeps the fields a live server reads of it (a virtual
// host's name and domains, a ClusterLoadAssignment's cluster name) and
// holds every other field (routes, endpoints) as the bytes of its
// deterministic encoding, in the message's unknown fields: a server that
// sends only encodings once it has them keeps the resource in about the
// size of its encoding instead of several times that in messages. A frozen
// message encodes to exactly the bytes it encoded to before, so encoders,
// versions and caches see no change; only code that reads the other fields
// must thaw it first (Thaw, Thawed). A frozen message is never changed
// again: to change one, change what Thaw returns (proto.Clone would copy
// the frozen bytes, which would still be encoded). Isobar builds no message
// with unknown fields, so a message with some is a frozen one.

// Fields a frozen message keeps, by number: fields that proto's
// deterministic encoding writes first (it writes fields in number order,
// those of a oneof after the others, and unknown fields last), so that a
// frozen message's bytes are written where its other fields were. freeze
// checks it of every message it freezes.
var (
	keepVirtualHost = []protowire.Number{1, 2} // name, domains
	keepAssignment  = []protowire.Number{1}    // cluster_name
)

// FreezeVirtualHost freezes vh (Freeze), keeping its name and domains.
func FreezeVirtualHost(vh *routev3.VirtualHost, enc []byte) error {
	return freeze(vh, keepVirtualHost, enc)
}

// FreezeClusterLoadAssignment freezes cla (Freeze), keeping its cluster
// name.
func FreezeClusterLoadAssignment(cla *endpointv3.ClusterLoadAssignment, enc []byte) error {
	return freeze(cla, keepAssignment, enc)
}

// freeze freezes m in place: every field but those numbered in keep is
// cleared and held instead as enc, m's deterministic encoding
// (proto.MarshalOptions{Deterministic: true}), after the kept fields. enc
// is kept, not copied: it must not change afterwards. An encoding that is not m's own is refused (m is left as it
// was); a frozen m is left as it is. Only a message nothing else reads
// concurrently may be frozen.
func freeze(m proto.Message, keep []protowire.Number, enc []byte) error {
	if Frozen(m) {
		return nil
	}
	rest, err := afterKept(m, keep, enc)
	if err != nil {
		return fmt.Errorf("%s: %w", m.ProtoReflect().Descriptor().Name(), err)
	}
	if len(rest) == 0 {
		return nil // nothing but kept fields: nothing to gain
	}
	r := m.ProtoReflect()
	r.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !slices.Contains(keep, fd.Number()) {
			r.Clear(fd)
		}
		return true
	})
	r.SetUnknown(rest[:len(rest):len(rest)])
	return nil
}

// afterKept returns the part of enc after m's fields numbered in keep,
// checking that enc is m's deterministic encoding, that it starts with
// those fields and that none of them comes again afterwards.
func afterKept(m proto.Message, keep []protowire.Number, enc []byte) ([]byte, error) {
	buf := encodeBuffers.Get().(*[]byte)
	own, err := deterministic.MarshalAppend((*buf)[:0], m)
	same := err == nil && bytes.Equal(own, enc)
	if cap(own) <= maxPooled {
		*buf = own
		encodeBuffers.Put(buf)
	}
	if err != nil {
		return nil, err
	}
	if !same {
		return nil, fmt.Errorf("the encoding (%d bytes) is not the message's (%d bytes)", len(enc), len(own))
	}
	rest, kept := enc, true
	for b := enc; len(b) > 0; {
		num, _, n := protowire.ConsumeField(b)
		if n < 0 {
			return nil, fmt.Errorf("the encoding is not valid: %w", protowire.ParseError(n))
		}
		switch in := slices.Contains(keep, num); {
		case in && !kept:
			return nil, fmt.Errorf("the encoding's field %d comes after fields that are not kept", num)
		case !in && kept:
			rest, kept = b, false
		}
		b = b[n:]
	}
	if kept {
		rest = nil
	}
	return rest, nil
}

// encodeBuffers hold the buffers afterKept encodes into, so that freezing
// a whole configuration leaves no garbage of the size of its encoding;
// buffers that grew past maxPooled are left to the collector.
var encodeBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 1 << 20

// Frozen reports whether m is frozen.
func Frozen(m proto.Message) bool {
	return m != nil && m.ProtoReflect().IsValid() && len(m.ProtoReflect().GetUnknown()) > 0
}

// Thaw returns m when it is not frozen, otherwise a new message with every
// field decoded, equal to m before it was frozen. m is not changed.
func Thaw[T proto.Message](m T) T {
	if !Frozen(m) {
		return m
	}
	src := m.ProtoReflect()
	out := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		out.Set(fd, v)
		return true
	})
	if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(src.GetUnknown(), out.Interface()); err != nil {
		// The bytes were checked when frozen and never change.
		panic(fmt.Sprintf("%s: its frozen encoding does not decode: %v", src.Descriptor().Name(), err))
	}
	return out.Interface().(T)
}

// ThawRouteConfiguration returns rc when none of its virtual hosts is
// frozen, otherwise a copy of rc with every virtual host thawed. rc is not
// changed.
func ThawRouteConfiguration(rc *routev3.RouteConfiguration) *routev3.RouteConfiguration {
	if !slices.ContainsFunc(rc.GetVirtualHosts(), func(vh *routev3.VirtualHost) bool { return Frozen(vh) }) {
		return rc
	}
	out := &routev3.RouteConfiguration{}
	dst := out.ProtoReflect()
	rc.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		dst.Set(fd, v)
		return true
	})
	out.VirtualHosts = make([]*routev3.VirtualHost, len(rc.VirtualHosts))
	for i, vh := range rc.VirtualHosts {
		out.VirtualHosts[i] = Thaw(vh)
	}
	return out
}

// Thawed returns res when nothing in it is frozen, otherwise a copy in
// which every frozen route configuration (ThawRouteConfiguration) and
// ClusterLoadAssignment is thawed; the other resources are shared. res is
// not changed.
func Thawed(res *Resources) *Resources {
	if res == nil {
		return nil
	}
	out := *res
	out.Routes = thawAll(res.Routes, ThawRouteConfiguration)
	out.Endpoints = thawAll(res.Endpoints, Thaw[*endpointv3.ClusterLoadAssignment])
	return &out
}

// thawAll returns list when thaw changes none of its elements, otherwise
// a new list of thaw's answers.
func thawAll[T comparable](list []T, thaw func(T) T) []T {
	var out []T
	for i, m := range list {
		t := thaw(m)
		if t != m && out == nil {
			out = append(make([]T, 0, len(list)), list[:i]...)
		}
		if out != nil {
			out = append(out, t)
		}
	}
	if out == nil {
		return list
	}
	return out
}

// Equal reports whether a and b have the same content, frozen or not:
// proto.Equal's answer, or, when that is no, whether their deterministic
// encodings are the same bytes (a frozen message equals the message it
// was). A nil message equals only a nil one.
func Equal(a, b proto.Message) bool {
	if proto.Equal(a, b) {
		return true
	}
	if a == nil || b == nil || !a.ProtoReflect().IsValid() || !b.ProtoReflect().IsValid() {
		return false
	}
	ea, err := deterministic.Marshal(a)
	if err != nil {
		return false
	}
	eb, err := deterministic.Marshal(b)
	return err == nil && bytes.Equal(ea, eb)
}

var deterministic = proto.MarshalOptions{Deterministic: true}
