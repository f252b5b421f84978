package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Conn is one gRPC call over plaintext HTTP/2, spoken by hand so that
// the fake Envoys of BenchmarkServeProcess cost the machine what a client
// must: the kernel's copy into one large read buffer, frame headers, and
// the few fields of each response they look at. DATA payloads are read
// where they lie in that buffer (no copy into a stream's pipe, as
// net/http's transport makes, and none into a frame buffer, as
// http2.Framer's reads make).
//
// One goroutine reads: its stream's messages through ReadByte, Read and
// Discard, which see only the DATA payloads of stream 1, handling the
// frames in between as they come (SETTINGS and PING acknowledged,
// WINDOW_UPDATEs credited, trailers kept). Requests are queued by send and
// written by a goroutine of their own, in frames the server's windows
// admit: a state-of-the-world request names every resource (about 1 MB
// at S10k), and the window it waits for comes through the reader.
type h2Conn struct {
	conn net.Conn
	r    *bufio.Reader
	dec  *hpack.Decoder

	mu   sync.Mutex // guards what follows: every write, the send windows, the queue
	room *sync.Cond // signalled when a window grows, a request is queued or the connection closes
	w    *bufio.Writer
	fr   *http2.Framer // writes only
	// connSend and streamSend are the send windows; initialSend the
	// server's SETTINGS_INITIAL_WINDOW_SIZE.
	connSend, streamSend, initialSend int64
	queue                             [][]byte
	closed                            bool

	remaining int               // payload bytes of the current DATA frame not yet read
	pad       int               // padding after them
	unacked   int               // received since the last WINDOW_UPDATE
	headers   bytes.Buffer      // a header block until its END_HEADERS
	inHeaders bool              // headers holds a block not yet whole
	fields    map[string]string // response headers and trailers
	ended     bool
}

// The flow-control windows a client opens, Envoy's defaults for its
// HTTP/2 connections (Http2ProtocolOptions' initial_stream_window_size
// and initial_connection_window_size, which `isobar bootstrap` leaves
// unset): how far the server may run ahead of it on the stream and on the
// connection. WINDOW_UPDATEs for both are sent each time half the
// stream's window has been received.
const (
	h2StreamWindow     = 16 << 20
	h2ConnectionWindow = 24 << 20
)

// dialH2 opens a connection to addr, starts one call of the gRPC method
// path (its first request messages in first, already encoded) and returns
// once they are written. ctx ending closes the connection.
func dialH2(ctx context.Context, addr, path string, first [][]byte) (*h2Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &h2Conn{conn: conn, r: bufio.NewReaderSize(conn, 1<<20), w: bufio.NewWriterSize(conn, 16<<10), fields: map[string]string{},
		connSend: 65535, streamSend: 65535, initialSend: 65535}
	c.room = sync.NewCond(&c.mu)
	context.AfterFunc(ctx, c.close)
	c.fr = http2.NewFramer(c.w, nil)
	c.dec = hpack.NewDecoder(4096, func(f hpack.HeaderField) { c.fields[f.Name] = f.Value })
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", path}, {":authority", addr},
		{"content-type", "application/grpc"}, {"te", "trailers"}} {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			return nil, err
		}
	}
	_, err = c.w.WriteString(http2.ClientPreface)
	if err == nil {
		err = c.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow})
	}
	if err == nil {
		err = c.fr.WriteWindowUpdate(0, h2ConnectionWindow-65535) // the connection's window starts at 65,535
	}
	if err == nil {
		err = c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndHeaders: true})
	}
	if err == nil {
		err = c.w.Flush()
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	go c.writeRequests()
	for _, m := range first {
		c.send(m)
	}
	return c, nil
}

// send queues one gRPC message (m, encoded) for stream 1.
func (c *h2Conn) send(m []byte) {
	frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(m)))
	c.mu.Lock()
	c.queue = append(c.queue, append(frame, m...))
	c.room.Broadcast()
	c.mu.Unlock()
}

// writeRequests writes the queued requests until the connection closes,
// each in DATA frames of at most 16 KiB (the server's maximum frame size
// unless it says otherwise) that its windows admit, waiting for them to
// grow when they are spent.
func (c *h2Conn) writeRequests() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.closed {
		if len(c.queue) == 0 {
			c.room.Wait()
			continue
		}
		m := c.queue[0]
		n := int(min(int64(len(m)), 16<<10, c.connSend, c.streamSend))
		if n <= 0 {
			if c.w.Flush() != nil {
				return
			}
			c.room.Wait()
			continue
		}
		if c.fr.WriteData(1, false, m[:n]) != nil {
			return
		}
		c.connSend -= int64(n)
		c.streamSend -= int64(n)
		if c.queue[0] = m[n:]; len(c.queue[0]) == 0 {
			c.queue = c.queue[1:]
			if len(c.queue) == 0 && c.w.Flush() != nil {
				return
			}
		}
	}
}

// control writes one frame with write and flushes it.
func (c *h2Conn) control(write func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := write(); err != nil {
		return err
	}
	return c.w.Flush()
}

// ReadByte reads one byte of the stream's DATA.
func (c *h2Conn) ReadByte() (byte, error) {
	if err := c.fill(); err != nil {
		return 0, err
	}
	c.remaining--
	return c.r.ReadByte()
}

// Read reads the stream's DATA into p, at most to the end of the current
// frame.
func (c *h2Conn) Read(p []byte) (int, error) {
	if err := c.fill(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p[:min(len(p), c.remaining)])
	c.remaining -= n
	return n, err
}

// Discard skips n bytes of the stream's DATA without copying them.
func (c *h2Conn) Discard(n int) (int, error) {
	done := 0
	for done < n {
		if err := c.fill(); err != nil {
			return done, err
		}
		k, err := c.r.Discard(min(n-done, c.remaining))
		c.remaining -= k
		done += k
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// fill reads frames until one has DATA for stream 1 left to read. It
// returns io.EOF once the server has ended the stream.
func (c *h2Conn) fill() error {
	for c.remaining == 0 {
		if c.pad > 0 {
			if _, err := c.r.Discard(c.pad); err != nil {
				return err
			}
			c.pad = 0
		}
		if c.ended && !c.inHeaders {
			return io.EOF
		}
		if err := c.frame(); err != nil {
			return err
		}
	}
	return nil
}

// frame reads one frame's header and handles the frame, leaving a DATA
// frame's payload in the buffer for the reads.
func (c *h2Conn) frame() error {
	var h [9]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return err
	}
	length := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
	typ, flags, stream := http2.FrameType(h[3]), http2.Flags(h[4]), binary.BigEndian.Uint32(h[5:])&(1<<31-1)
	switch typ {
	case http2.FrameData:
		if stream != 1 {
			return fmt.Errorf("DATA on stream %d", stream)
		}
		return c.data(length, flags)
	case http2.FrameHeaders, http2.FrameContinuation:
		return c.headerBlock(length, typ, flags)
	case http2.FrameSettings, http2.FrameWindowUpdate, http2.FramePing, http2.FrameRSTStream, http2.FrameGoAway:
		payload := make([]byte, length)
		if _, err := io.ReadFull(c.r, payload); err != nil {
			return err
		}
		return c.connectionFrame(typ, flags, stream, payload)
	default: // PRIORITY, unknown
		_, err := c.r.Discard(length)
		return err
	}
}

// connectionFrame handles a frame of one of the kinds that steer the
// connection.
func (c *h2Conn) connectionFrame(typ http2.FrameType, flags http2.Flags, stream uint32, payload []byte) error {
	switch typ {
	case http2.FrameSettings:
		if flags.Has(http2.FlagSettingsAck) {
			return nil
		}
		return c.control(func() error {
			for i := 0; i+6 <= len(payload); i += 6 {
				if http2.SettingID(binary.BigEndian.Uint16(payload[i:])) == http2.SettingInitialWindowSize {
					v := int64(binary.BigEndian.Uint32(payload[i+2:]))
					c.streamSend += v - c.initialSend
					c.initialSend = v
				}
			}
			c.room.Broadcast()
			return c.fr.WriteSettingsAck()
		})
	case http2.FrameWindowUpdate:
		if len(payload) != 4 {
			return errors.New("a WINDOW_UPDATE of the wrong size")
		}
		inc := int64(binary.BigEndian.Uint32(payload) & (1<<31 - 1))
		c.mu.Lock()
		if stream == 0 {
			c.connSend += inc
		} else {
			c.streamSend += inc
		}
		c.room.Broadcast()
		c.mu.Unlock()
		return nil
	case http2.FramePing:
		if flags.Has(http2.FlagPingAck) || len(payload) != 8 {
			return nil
		}
		return c.control(func() error { return c.fr.WritePing(true, [8]byte(payload)) })
	}
	return fmt.Errorf("the server sent %v (payload %x)", typ, payload)
}

// data starts a DATA frame of length bytes, announcing more window once
// half of it has been received.
func (c *h2Conn) data(length int, flags http2.Flags) error {
	c.remaining = length
	if flags.Has(http2.FlagDataPadded) {
		n, err := c.r.ReadByte()
		if err != nil {
			return err
		}
		c.pad = int(n)
		c.remaining -= 1 + c.pad
		if c.remaining < 0 {
			return errors.New("a DATA frame padded beyond its length")
		}
	}
	c.ended = flags.Has(http2.FlagDataEndStream)
	if c.unacked += length; c.unacked < h2StreamWindow/2 {
		return nil
	}
	n := uint32(c.unacked)
	c.unacked = 0
	return c.control(func() error {
		if err := c.fr.WriteWindowUpdate(0, n); err != nil {
			return err
		}
		return c.fr.WriteWindowUpdate(1, n)
	})
}

// headerBlock reads a HEADERS or CONTINUATION frame and decodes the block
// once it is whole; END_STREAM on HEADERS (trailers) ends the stream.
func (c *h2Conn) headerBlock(length int, typ http2.FrameType, flags http2.Flags) error {
	payload := make([]byte, length)
	if _, err := io.ReadFull(c.r, payload); err != nil {
		return err
	}
	if typ == http2.FrameHeaders {
		if flags.Has(http2.FlagHeadersPadded) {
			if len(payload) == 0 || int(payload[0]) >= len(payload) {
				return errors.New("a HEADERS frame padded beyond its length")
			}
			payload = payload[1 : len(payload)-int(payload[0])]
		}
		if flags.Has(http2.FlagHeadersPriority) {
			if len(payload) < 5 {
				return errors.New("a HEADERS frame too short for its priority")
			}
			payload = payload[5:]
		}
		c.ended = c.ended || flags.Has(http2.FlagHeadersEndStream)
		c.headers.Reset()
	}
	c.headers.Write(payload)
	if c.inHeaders = !flags.Has(http2.FlagHeadersEndHeaders); c.inHeaders { // the same bit as CONTINUATION's END_HEADERS
		return nil
	}
	_, err := c.dec.Write(c.headers.Bytes())
	return err
}

// status is the gRPC status and message the server ended the stream with,
// if it did.
func (c *h2Conn) status() (code, message string) {
	return c.fields["grpc-status"], c.fields["grpc-message"]
}

// close closes the connection and stops its writer.
func (c *h2Conn) close() {
	c.conn.Close()
	c.mu.Lock()
	c.closed = true
	c.room.Broadcast()
	c.mu.Unlock()
}
