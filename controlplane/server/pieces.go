package server

import (
	"errors"
	"io"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// pieceReader reads a message spread over a gRPC BufferSlice without
// gathering it: fields that fit in one buffer are read in place, the rare
// field that straddles two is copied into a scratch buffer.
type pieceReader struct {
	bufs    mem.BufferSlice
	next    int    // index of the next buffer
	cur     []byte // unread part of the current buffer
	pos     int    // bytes consumed so far
	scratch []byte
}

var errTruncated = errors.New("truncated message")

// fill makes cur non-empty; false at the end of the message.
func (p *pieceReader) fill() bool {
	for len(p.cur) == 0 {
		if p.next == len(p.bufs) {
			return false
		}
		p.cur = p.bufs[p.next].ReadOnlyData()
		p.next++
	}
	return true
}

func (p *pieceReader) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if !p.fill() {
			return 0, errTruncated
		}
		b := p.cur[0]
		p.cur, p.pos = p.cur[1:], p.pos+1
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("varint overflow")
}

// take returns the next n bytes, valid until the next call.
func (p *pieceReader) take(n int) ([]byte, error) {
	if !p.fill() && n > 0 {
		return nil, errTruncated
	}
	if n <= len(p.cur) {
		b := p.cur[:n]
		p.cur, p.pos = p.cur[n:], p.pos+n
		return b, nil
	}
	p.scratch = p.scratch[:0]
	for len(p.scratch) < n {
		if !p.fill() {
			return nil, errTruncated
		}
		k := min(n-len(p.scratch), len(p.cur))
		p.scratch = append(p.scratch, p.cur[:k]...)
		p.cur, p.pos = p.cur[k:], p.pos+k
	}
	return p.scratch, nil
}

func (p *pieceReader) skip(n int) error {
	for n > 0 {
		if !p.fill() {
			return errTruncated
		}
		k := min(n, len(p.cur))
		p.cur, p.pos, n = p.cur[k:], p.pos+k, n-k
	}
	return nil
}

// field reads the next field's tag and, for a length-delimited field, its
// length; other fields are skipped (bytes is then -1). io.EOF at the end.
func (p *pieceReader) field() (num protowire.Number, bytes int, err error) {
	if !p.fill() {
		return 0, 0, io.EOF
	}
	tag, err := p.varint()
	if err != nil {
		return 0, 0, err
	}
	num, typ := protowire.DecodeTag(tag)
	switch typ {
	case protowire.VarintType:
		_, err = p.varint()
	case protowire.Fixed64Type:
		err = p.skip(8)
	case protowire.Fixed32Type:
		err = p.skip(4)
	case protowire.BytesType:
		n, err := p.varint()
		return num, int(n), err
	default:
		err = errors.New("unsupported wire type")
	}
	return num, -1, err
}
