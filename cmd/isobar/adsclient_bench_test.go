package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The fake Envoys of BenchmarkServeProcess: ADS streams spoken by hand over
// h2c, light enough that 1,000 of them in the benchmark's process leave the
// cores to the server.

// rawStream is one ADS stream spoken by hand over h2c: requests are
// framed onto a pipe, responses read as a stream (see h2cClient).
type rawStream struct {
	requests *io.PipeWriter
	resp     *http.Response
	r        *frameReader
}

// openRawStream calls the ADS method on addr, sending first (encoded
// requests) before it waits for the response headers.
func openRawStream(ctx context.Context, c *http.Client, addr, method string, first [][]byte) (*rawStream, error) {
	body, requests := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://"+addr+"/envoy.service.discovery.v3.AggregatedDiscoveryService/"+method, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	s := &rawStream{requests: requests}
	go func() {
		for _, m := range first {
			if s.send(m) != nil {
				return
			}
		}
	}()
	if s.resp, err = c.Do(req); err != nil {
		requests.Close()
		return nil, err
	}
	s.r = &frameReader{r: bufio.NewReaderSize(s.resp.Body, 64<<10)}
	return s, nil
}

// send writes one encoded request.
func (s *rawStream) send(b []byte) error {
	frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(b)))
	_, err := s.requests.Write(append(frame, b...))
	return err
}

// ended describes err, after count resources, with the status the server
// ended the stream with, if it did.
func (s *rawStream) ended(count int, err error) error {
	_, _ = io.Copy(io.Discard, s.r.r)
	return fmt.Errorf("after %d resources: %w (grpc-status %q, message %q)", count, err,
		s.resp.Trailer.Get("Grpc-Status")+s.resp.Header.Get("Grpc-Status"), s.resp.Trailer.Get("Grpc-Message")+s.resp.Header.Get("Grpc-Message"))
}

func (s *rawStream) close() {
	s.requests.Close()
	s.resp.Body.Close()
}

// marshal encodes m followed by extra (a pre-encoded field).
func marshal(m proto.Message, extra []byte) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err) // requests built here always encode
	}
	return append(b, extra...)
}

// adsClient is one fake Envoy: it subscribes to every ClusterLoadAssignment
// and RouteConfiguration on a delta ADS stream, ACKs every response and
// signals ready once it has received want resources (the fixtures do not
// change, so more is an error).
func adsClient(ctx context.Context, c *http.Client, addr string, want int, ready chan<- struct{}) error {
	var first [][]byte
	for _, typ := range []string{resourcev3.EndpointType, resourcev3.RouteType} {
		first = append(first, marshal(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{"*"}}, nil))
	}
	s, err := openRawStream(ctx, c, addr, "DeltaAggregatedResources", first)
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
		if err := s.send(marshal(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: nonce}, nil)); err != nil {
			return s.ended(count, err)
		}
	}
}

// sotwADSClient is adsClient on a state-of-the-world ADS stream: it asks
// for the names of each type (names: their encoding as resource_names) and
// ACKs every answer with its version, its nonce and the names again.
func sotwADSClient(ctx context.Context, c *http.Client, addr string, names map[string][]byte, want int, ready chan<- struct{}) error {
	var first [][]byte
	for _, typ := range []string{resourcev3.EndpointType, resourcev3.RouteType} {
		first = append(first, marshal(&discoverygrpc.DiscoveryRequest{TypeUrl: typ}, names[typ]))
	}
	s, err := openRawStream(ctx, c, addr, "StreamAggregatedResources", first)
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
		if err := s.send(marshal(ack, names[typeURL])); err != nil {
			return s.ended(count, err)
		}
	}
}

// h2cClient returns a client with a connection of its own that speaks
// HTTP/2 without TLS, as gRPC in plaintext does. The clients stand in for
// Envoys that run elsewhere, so they must cost the machine little: a gRPC
// client assembles each response (S10k's RDS + EDS set is about 17 MB)
// before decoding it, and a thousand of them receiving at once held 12 to
// 23 GB. These read responses as a stream, skip the resources' bytes and
// let the server run at most 1 MiB ahead of them on each connection.
func h2cClient() *http.Client {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &protocols,
		HTTP2: &http.HTTP2Config{MaxReceiveBufferPerConnection: 1 << 20, MaxReceiveBufferPerStream: 1 << 20}}}
}

// frameReader reads gRPC-framed messages from a response body.
type frameReader struct {
	r    *bufio.Reader
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
