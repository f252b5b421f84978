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
// cluster in each endpoints request, ACKs included (21,000 names at S10k):
// the names are hashed where they lie, and when some stream already asks
// for that very set, they are not built at all (see knownNames).
// Otherwise, and for a request with "*" or a type not named, this is
// plain protobuf.
func readRequest(data mem.BufferSlice, req *discoverygrpc.DiscoveryRequest) error {
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	b := buf.ReadOnlyData()
	var rest []byte // every field but the names
	var sum uint64
	var n int
	var typ string
	plain := false
	for p := b; len(p) > 0; {
		num, wt, tagLen := protowire.ConsumeTag(p)
		if tagLen < 0 {
			return proto.Unmarshal(b, req) // let protobuf say what is wrong
		}
		valLen := protowire.ConsumeFieldValue(num, wt, p[tagLen:])
		if valLen < 0 {
			return proto.Unmarshal(b, req)
		}
		field := p[:tagLen+valLen]
		p = p[tagLen+valLen:]
		if wt == protowire.BytesType && (num == requestResourceNames || num == requestTypeURL) {
			v, _ := protowire.ConsumeBytes(field[tagLen:])
			if num == requestTypeURL {
				typ = string(v)
			} else {
				sum += maphash.Bytes(sotwNames.seed, v)
				n++
				plain = plain || string(v) == "*"
				continue
			}
		}
		rest = append(rest, field...)
	}
	if n == 0 || plain || typ == "" {
		return proto.Unmarshal(b, req)
	}
	set := sotwNames.held(keyOf(typ, sum, n))
	if set == nil {
		return proto.Unmarshal(b, req)
	}
	if err := proto.Unmarshal(rest, req); err != nil {
		sotwNames.release(set)
		return err
	}
	knownNames.Store(req, set)
	return nil
}
