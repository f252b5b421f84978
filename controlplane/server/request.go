package server

import (
	"hash/maphash"
	"sync"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Field numbers of envoy.service.discovery.v3.DiscoveryRequest.
const (
	requestResourceNames protowire.Number = 3
	requestTypeURL       protowire.Number = 4
)

// knownNames holds, for each request wireCodec read whose names a stream
// already asks for, that shared set (one more holder): the request's
// ResourceNames are then left empty. takeRequestNames hands it over.
var knownNames sync.Map // *DiscoveryRequest → *nameSet

// takeRequestNames returns the set wireCodec holds for req's names, nil
// when req carries its names itself; the caller takes over the hold.
func takeRequestNames(req *discoverygrpc.DiscoveryRequest) *nameSet {
	if v, ok := knownNames.LoadAndDelete(req); ok {
		return v.(*nameSet)
	}
	return nil
}

// readRequest decodes a state-of-the-world request. Envoy names every
// cluster in each endpoints request, ACKs included (21,000 names, 800 KB at
// S10k): the names are hashed where gRPC received them, without gathering
// the message, and when some stream already asks for that very set they
// are not built at all (see knownNames). Otherwise, and for a request with
// "*", without a type, or with a field this does not expect, this is plain
// protobuf.
func readRequest(data mem.BufferSlice, req *discoverygrpc.DiscoveryRequest) error {
	rest, typ, sum, n, ok := scanRequest(data)
	if !ok || n == 0 || typ == "" {
		return plainRequest(data, req)
	}
	set := sotwNames.held(keyOf(typ, sum, n))
	if set == nil {
		return plainRequest(data, req)
	}
	if err := proto.Unmarshal(rest, req); err != nil {
		sotwNames.release(set)
		return err
	}
	knownNames.Store(req, set)
	return nil
}

// scanRequest reads a request's fields in place: every field but the
// names, re-encoded (rest), the type, and the sum of the names' hashes and
// their number. ok is false for a request to read plainly: one naming "*",
// with a field that is not length-delimited, or that does not parse.
func scanRequest(data mem.BufferSlice) (rest []byte, typ string, sum uint64, n int, ok bool) {
	p := &pieceReader{bufs: data}
	for p.fill() {
		tag, err := p.varint()
		if err != nil {
			return nil, "", 0, 0, false
		}
		num, wt := protowire.DecodeTag(tag)
		if wt != protowire.BytesType {
			return nil, "", 0, 0, false
		}
		size, err := p.varint()
		if err != nil {
			return nil, "", 0, 0, false
		}
		b, err := p.take(int(size))
		if err != nil {
			return nil, "", 0, 0, false
		}
		switch num {
		case requestResourceNames:
			if string(b) == "*" {
				return nil, "", 0, 0, false
			}
			sum += maphash.Bytes(sotwNames.seed, b)
			n++
			continue
		case requestTypeURL:
			typ = string(b)
		}
		rest = protowire.AppendTag(rest, num, protowire.BytesType)
		rest = protowire.AppendBytes(rest, b)
	}
	return rest, typ, sum, n, true
}

// plainRequest decodes a request with protobuf.
func plainRequest(data mem.BufferSlice, req *discoverygrpc.DiscoveryRequest) error {
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), req)
}
