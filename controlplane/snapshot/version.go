package snapshot

import (
	"crypto/sha256"
	"encoding/hex"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Type names of the resource sets, as the server keys them.
const (
	Listeners = "listeners"
	Routes    = "routes"
	Clusters  = "clusters"
	Endpoints = "endpoints"
	Secrets   = "secrets"
)

var deterministic = proto.MarshalOptions{Deterministic: true}

// Version returns the content hash of one resource: the first 16 hex
// characters of the SHA-256 of its deterministic encoding.
func Version(m proto.Message) (string, error) {
	var h Hasher
	return h.Version(m)
}

// Hasher computes Versions reusing one encoding buffer, which saves an
// allocation per resource for callers that hash many. The zero value is
// ready; a Hasher is not safe for concurrent use.
type Hasher struct {
	buf []byte
}

// Version returns the content hash of m, as the function Version does.
func (h *Hasher) Version(m proto.Message) (string, error) {
	var err error
	if h.buf, err = marshalAppend(h.buf[:0], m); err != nil {
		return "", err
	}
	return versionOf(h.buf), nil
}

// Encode returns the deterministic encoding of one resource and its
// Version, so that a caller which sends the bytes encodes only once.
func Encode(m proto.Message) ([]byte, string, error) {
	b, err := marshalAppend(nil, m)
	if err != nil {
		return nil, "", err
	}
	return b, versionOf(b), nil
}

// versionOf returns the Version of a resource whose deterministic encoding
// is b.
func versionOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// marshalAppend appends proto's deterministic encoding of m to buf; a route
// configuration or a listener with many virtual hosts or filter chains is
// encoded on every core (see marshalSplit), with the same bytes, into a
// buffer of its own.
func marshalAppend(buf []byte, m proto.Message) ([]byte, error) {
	switch m.(type) {
	case *routev3.RouteConfiguration, *listenerv3.Listener:
		if b, ok, err := marshalSplit(m); ok || err != nil {
			return b, err
		}
	}
	return deterministic.MarshalAppend(buf, m)
}

// Versions returns a content hash per type over the sorted resources of that
// type; equal sets give equal versions.
func Versions(res *xds.Resources) (map[string]string, error) {
	out := map[string]string{}
	for typ, msgs := range map[string][]proto.Message{
		Listeners: asMessages(res.Listeners),
		Routes:    asMessages(res.Routes),
		Clusters:  asMessages(res.Clusters),
		Endpoints: asMessages(res.Endpoints),
		Secrets:   asMessages(res.Secrets),
	} {
		h := sha256.New()
		var hasher Hasher
		for _, m := range msgs {
			v, err := hasher.Version(m)
			if err != nil {
				return nil, err
			}
			h.Write([]byte(v))
		}
		out[typ] = hex.EncodeToString(h.Sum(nil)[:8])
	}
	return out, nil
}

func asMessages[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}
