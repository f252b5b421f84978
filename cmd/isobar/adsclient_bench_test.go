package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The fake Envoys of BenchmarkServeProcess: ADS streams spoken by hand
// (h2conn_bench_test.go), light enough that 1,000 of them in the
// benchmark's process leave the cores to the server.

// rawStream is one ADS stream: requests go out as encoded, responses are
// read as a stream, their resources skipped where they lie.
type rawStream struct {
	c *h2Conn
	r *frameReader
}

// openRawStream calls the ADS method on addr and sends first (encoded
// requests).
func openRawStream(ctx context.Context, addr, method string, first [][]byte) (*rawStream, error) {
	c, err := dialH2(ctx, addr, "/envoy.service.discovery.v3.AggregatedDiscoveryService/"+method, first)
	if err != nil {
		return nil, err
	}
	return &rawStream{c: c, r: &frameReader{r: c}}, nil
}

// send queues one encoded request.
func (s *rawStream) send(b []byte) { s.c.send(b) }

// ended describes err, after count resources, with the status the server
// ended the stream with, if it did.
func (s *rawStream) ended(count int, err error) error {
	code, message := s.c.status()
	return fmt.Errorf("after %d resources: %w (grpc-status %q, message %q)", count, err, code, message)
}

func (s *rawStream) close() { s.c.close() }

// marshal encodes m followed by extra (a pre-encoded field).
func marshal(m proto.Message, extra []byte) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err) // requests built here always encode
	}
	return append(b, extra...)
}

// adsClient is one fake Envoy: it subscribes to every resource of types on
// a delta ADS stream, ACKs every response and signals ready once it has
// received want resources (the fixtures do not change, so more is an
// error).
func adsClient(ctx context.Context, addr string, types []string, want int, ready chan<- struct{}) error {
	var first [][]byte
	for _, typ := range types {
		first = append(first, marshal(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{"*"}}, nil))
	}
	s, err := openRawStream(ctx, addr, "DeltaAggregatedResources", first)
	if err != nil {
		return err
	}
	defer s.close()
	for count := 0; ; {
		typeURL, nonce, _, n, err := s.r.response()
		if err != nil {
			return s.ended(count, err)
		}
		if count < want && count+n >= want {
			ready <- struct{}{}
		}
		if count += n; count > want {
			return fmt.Errorf("received %d resources, more than the %d compiled in-process", count, want)
		}
		s.send(marshal(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: nonce}, nil))
	}
}

// sotwADSClient is adsClient on a state-of-the-world ADS stream: it asks
// for the names of each type (names: their encoding as resource_names) and
// ACKs every answer with its version, its nonce and the names again.
func sotwADSClient(ctx context.Context, addr string, names map[string][]byte, want int, ready chan<- struct{}) error {
	var first [][]byte
	for _, typ := range []string{resourcev3.EndpointType, resourcev3.RouteType} {
		first = append(first, marshal(&discoverygrpc.DiscoveryRequest{TypeUrl: typ}, names[typ]))
	}
	s, err := openRawStream(ctx, addr, "StreamAggregatedResources", first)
	if err != nil {
		return err
	}
	defer s.close()
	for count := 0; ; {
		typeURL, nonce, version, n, err := s.r.response()
		if err != nil {
			return s.ended(count, err)
		}
		if count < want && count+n >= want {
			ready <- struct{}{}
		}
		count += n
		ack := &discoverygrpc.DiscoveryRequest{TypeUrl: typeURL, VersionInfo: version, ResponseNonce: nonce}
		s.send(marshal(ack, names[typeURL]))
	}
}

// frameReader reads gRPC-framed messages from a stream's DATA.
type frameReader struct {
	r interface {
		io.ByteReader
		io.Reader
		Discard(n int) (int, error)
	}
	read int64
}

func (f *frameReader) ReadByte() (byte, error) {
	b, err := f.r.ReadByte()
	if err == nil {
		f.read++
	}
	return b, err
}

// response reads one DeltaDiscoveryResponse or DiscoveryResponse (their
// type URL, nonce and resources have the same field numbers, and field 1
// is the version of either) and returns its type, nonce, version and
// number of resources; it skips everything else.
func (f *frameReader) response() (typeURL, nonce, version string, resources int, err error) {
	var header [5]byte
	if _, err := io.ReadFull(f.r, header[:]); err != nil {
		return "", "", "", 0, err
	}
	if header[0] != 0 {
		return "", "", "", 0, fmt.Errorf("a compressed message")
	}
	end := f.read + 5 + int64(binary.BigEndian.Uint32(header[1:]))
	f.read += 5
	for f.read < end {
		tag, err := binary.ReadUvarint(f)
		if err != nil {
			return "", "", "", 0, err
		}
		num, typ := protowire.DecodeTag(tag)
		size := 0
		switch typ {
		case protowire.VarintType:
			_, err = binary.ReadUvarint(f)
		case protowire.Fixed32Type:
			size = 4
		case protowire.Fixed64Type:
			size = 8
		case protowire.BytesType:
			var n uint64
			n, err = binary.ReadUvarint(f)
			size = int(n)
		default:
			err = fmt.Errorf("wire type %d", typ)
		}
		if err != nil {
			return "", "", "", 0, err
		}
		switch {
		case typ == protowire.BytesType && (num == 1 || num == 4 || num == 5): // version, type_url, nonce
			b := make([]byte, size)
			if _, err := io.ReadFull(f.r, b); err != nil {
				return "", "", "", 0, err
			}
			f.read += int64(size)
			switch num {
			case 1:
				version = string(b)
			case 4:
				typeURL = string(b)
			default:
				nonce = string(b)
			}
			continue
		case typ == protowire.BytesType && num == 2: // resources
			resources++
		}
		n, err := f.r.Discard(size)
		f.read += int64(n)
		if err != nil {
			return "", "", "", 0, err
		}
	}
	return typeURL, nonce, version, resources, nil
}
