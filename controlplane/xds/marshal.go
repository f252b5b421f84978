package xds

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// Document is everything `isobar translate` prints: the xDS resources, the
// status of every object and the findings.
type Document struct {
	Resources *Resources
	Status    []status.Object
	Findings  []status.Finding
}

// Format is an output encoding.
type Format string

// Output encodings.
const (
	YAML Format = "yaml"
	JSON Format = "json"
)

// MarshalOptions tune Marshal.
type MarshalOptions struct {
	Format Format
	// ShowSecrets keeps private keys; by default they are replaced by
	// "[redacted]".
	ShowSecrets bool
}

// Redacted is what replaces a private key in the output.
const Redacted = "[redacted]"

// Marshal writes doc as one YAML (or JSON) mapping with the keys listeners,
// routes, clusters, endpoints, secrets, status and findings, in that order.
// Resources are protojson with proto field names, as in Envoy's config dump.
// The output is byte-identical for equal documents; frozen virtual hosts
// (FreezeVirtualHost) are written as the hosts they were.
func Marshal(w io.Writer, doc Document, opts MarshalOptions) error {
	doc.Resources = Thawed(doc.Resources)
	lists := doc.lists(opts)
	yaml := opts.Format != JSON
	enc := startEncoding(lists, yaml)
	if !yaml {
		enc.wait()
		if err := enc.err(); err != nil {
			return err
		}
		out := bufio.NewWriterSize(w, 1<<20)
		writeJSON(out, lists, enc.items)
		return out.Flush()
	}
	// Each list is written as soon as it is encoded and then dropped, so
	// the whole document is never held twice.
	out := bufio.NewWriterSize(w, 1<<20)
	for i, l := range lists {
		<-enc.ready[i]
		if err := enc.err(); err != nil {
			enc.wait()
			return err
		}
		out.WriteString(l.key + ":")
		if len(enc.items[i]) == 0 {
			out.WriteString(" []\n")
			continue
		}
		for _, item := range enc.items[i] {
			out.WriteByte('\n')
			out.Write(item)
		}
		out.WriteByte('\n')
		enc.items[i] = nil
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return enc.err()
}

// list is one key of the document and its items: proto messages (encoded
// with protojson) or plain values (encoding/json).
type list struct {
	key   string
	items []any
}

func (doc Document) lists(opts MarshalOptions) []list {
	res := doc.Resources
	if res == nil {
		res = &Resources{}
	}
	secrets := make([]any, len(res.Secrets))
	for i, s := range res.Secrets {
		secrets[i] = s
		if !opts.ShowSecrets {
			secrets[i] = Redact(s)
		}
	}
	return []list{
		{"listeners", anys(res.Listeners)},
		{"routes", anys(res.Routes)},
		{"clusters", anys(res.Clusters)},
		{"endpoints", anys(res.Endpoints)},
		{"secrets", secrets},
		{"status", anys(doc.Status)},
		{"findings", anys(doc.Findings)},
	}
}

func anys[T any](in []T) []any {
	out := make([]any, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

var protoOptions = protojson.MarshalOptions{UseProtoNames: true}

// encoding encodes every item of every list, as compact JSON or as a YAML
// block-sequence item, on every core. Items are taken largest first (route
// configurations and listeners can be megabytes each) so that no core is
// left with one big item at the end; each lands in its own slot, so the
// result does not depend on scheduling. ready[i] is closed once list i is
// complete.
type encoding struct {
	items [][][]byte
	ready []chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	errs  []error
}

func startEncoding(lists []list, yaml bool) *encoding {
	type ref struct{ list, item, size int }
	var order []ref
	e := &encoding{items: make([][][]byte, len(lists)), ready: make([]chan struct{}, len(lists))}
	left := make([]atomic.Int64, len(lists))
	for li, l := range lists {
		e.items[li] = make([][]byte, len(l.items))
		e.ready[li] = make(chan struct{})
		left[li].Store(int64(len(l.items)))
		if len(l.items) == 0 {
			close(e.ready[li])
		}
		for ii, it := range l.items {
			size := 0
			if l.key == "routes" || l.key == "listeners" {
				size = proto.Size(it.(proto.Message))
			}
			order = append(order, ref{li, ii, size})
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].size > order[j].size })
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			var enc itemEncoder
			for {
				n := int(next.Add(1)) - 1
				if n >= len(order) {
					return
				}
				r := order[n]
				b, err := enc.encode(lists[r.list].items[r.item], yaml, r.size)
				if err != nil {
					e.mu.Lock()
					e.errs = append(e.errs, fmt.Errorf("%s: %w", lists[r.list].key, err))
					e.mu.Unlock()
				}
				e.items[r.list][r.item] = b
				if left[r.list].Add(-1) == 0 {
					close(e.ready[r.list])
				}
			}
		}()
	}
	return e
}

func (e *encoding) wait() { e.wg.Wait() }

// err returns the errors so far, sorted so that the message is stable.
func (e *encoding) err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	sort.Strings(msgs)
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "; "))
}

// itemEncoder holds one goroutine's scratch buffers.
type itemEncoder struct {
	raw  []byte
	fast jsonEncoder
}

// jsonPerProtoByte bounds, in quarters, the JSON bytes of one byte of
// binary protobuf for route configurations and listeners (about 1.6).
const jsonPerProtoByte = 7

// encode returns item as compact JSON or as a YAML block-sequence item.
// size, when not 0, is item's binary protobuf size: the scratch buffer is
// sized for it at once, since growing it by appending to megabytes costs
// several times its size in allocations and copies.
func (e *itemEncoder) encode(item any, yaml bool, size int) ([]byte, error) {
	var js []byte
	if m, ok := item.(proto.Message); ok {
		var err error
		if want := size * jsonPerProtoByte / 4; cap(e.raw) < want {
			e.raw = make([]byte, 0, want)
		}
		if e.raw, ok = e.fast.appendJSON(e.raw[:0], m); !ok {
			// The fast encoder declined m: protojson writes it (or says
			// why it cannot).
			if e.raw, err = protoOptions.MarshalAppend(e.raw[:0], m); err != nil {
				return nil, err
			}
		}
		// protojson may put a space after ':' and ','; the YAML converter
		// skips it and the JSON output is re-indented.
		js = e.raw
	} else {
		var err error
		if js, err = json.Marshal(item); err != nil {
			return nil, err
		}
	}
	if !yaml {
		return bytes.Clone(js), nil // js may be the scratch buffer
	}
	var out bytes.Buffer
	out.Grow(len(js) + len(js)/2) // indentation makes YAML longer than compact JSON
	if err := itemToYAML(&out, js); err != nil {
		return nil, err
	}
	if b := out.Bytes(); cap(b)-len(b) > len(b)/4 {
		return bytes.Clone(b), nil // items wait for their list: keep no slack
	}
	return out.Bytes(), nil
}

// Redact returns s, or when it holds a private key a copy of s with the
// key replaced by Redacted.
func Redact(s *tlsv3.Secret) *tlsv3.Secret {
	c, ok := s.GetType().(*tlsv3.Secret_TlsCertificate)
	if !ok || c.TlsCertificate.GetPrivateKey() == nil {
		return s
	}
	out := proto.Clone(s).(*tlsv3.Secret)
	out.GetTlsCertificate().PrivateKey = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: Redacted}}
	return out
}

// writeJSON writes the lists as one indented JSON object in order.
func writeJSON(out *bufio.Writer, lists []list, items [][][]byte) {
	out.WriteString("{")
	for i, l := range lists {
		if i > 0 {
			out.WriteString(",")
		}
		out.WriteString("\n  \"" + l.key + "\": ")
		compact := append([]byte{'['}, bytes.Join(items[i], []byte{','})...)
		compact = append(compact, ']')
		var ind bytes.Buffer
		if err := json.Indent(&ind, compact, "  ", "  "); err != nil {
			out.Write(compact)
			continue
		}
		out.Write(ind.Bytes())
	}
	out.WriteString("\n}\n")
}
