package xds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

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
// The output is byte-identical for equal documents.
func Marshal(w io.Writer, doc Document, opts MarshalOptions) error {
	sections, err := doc.sections(opts)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if opts.Format == JSON {
		writeJSON(&out, sections)
	} else {
		for _, s := range sections {
			out.WriteString(s.key + ":")
			switch {
			case s.yaml != nil:
				out.Write(s.yaml)
			case bytes.Equal(s.json, []byte("[]")):
				out.WriteString(" []\n")
			default:
				out.WriteByte('\n')
				if err := jsonToYAML(&out, s.json); err != nil {
					return fmt.Errorf("%s: %w", s.key, err)
				}
			}
		}
	}
	_, err = w.Write(out.Bytes())
	return err
}

// section is one key of the document: its value as compact JSON, or, for
// resource lists in YAML, the block sequence already converted (with the
// line break after the key).
type section struct {
	key  string
	json []byte
	yaml []byte
}

func (doc Document) sections(opts MarshalOptions) ([]section, error) {
	res := doc.Resources
	if res == nil {
		res = &Resources{}
	}
	secrets := make([]proto.Message, len(res.Secrets))
	for i, s := range res.Secrets {
		secrets[i] = s
		if !opts.ShowSecrets {
			secrets[i] = redact(s)
		}
	}
	var out []section
	for _, s := range []struct {
		key  string
		msgs []proto.Message
	}{
		{"listeners", messages(res.Listeners)},
		{"routes", messages(res.Routes)},
		{"clusters", messages(res.Clusters)},
		{"endpoints", messages(res.Endpoints)},
		{"secrets", secrets},
	} {
		if opts.Format != JSON && len(s.msgs) > 0 {
			y, err := protoListYAML(s.msgs)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.key, err)
			}
			out = append(out, section{key: s.key, yaml: y})
			continue
		}
		b, err := protoList(s.msgs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.key, err)
		}
		out = append(out, section{key: s.key, json: b})
	}
	for _, s := range []struct {
		key string
		v   any
	}{{"status", nonNil(doc.Status)}, {"findings", nonNil(doc.Findings)}} {
		b, err := json.Marshal(s.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.key, err)
		}
		out = append(out, section{key: s.key, json: b})
	}
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func messages[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

var protoOptions = protojson.MarshalOptions{UseProtoNames: true}

// protoList encodes msgs as a compact JSON array. Large lists are encoded
// by several goroutines over contiguous ranges and joined in order, so the
// bytes are the same as a sequential encoding.
func protoList(msgs []proto.Message) ([]byte, error) {
	workers := 1
	if len(msgs) >= 256 {
		workers = runtime.GOMAXPROCS(0)
	}
	parts := make([]bytes.Buffer, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	chunk := (len(msgs) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min(len(msgs), (w+1)*chunk)
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				if i > lo {
					parts[w].WriteByte(',')
				}
				b, err := protoOptions.Marshal(msgs[i])
				if err != nil {
					errs[w] = err
					return
				}
				// protojson varies its whitespace on purpose; compact it away.
				if err := json.Compact(&parts[w], b); err != nil {
					errs[w] = err
					return
				}
			}
		}(w, lo, hi)
	}
	wg.Wait()
	var buf bytes.Buffer
	buf.WriteByte('[')
	first := true
	for w := range parts {
		if errs[w] != nil {
			return nil, errs[w]
		}
		if parts[w].Len() == 0 {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.Write(parts[w].Bytes())
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// protoListYAML encodes msgs as a YAML block sequence: a line break, then
// one item per message, each converted from its compact protojson on the
// worker that encoded it. The bytes are those jsonToYAML gives for the
// whole list.
func protoListYAML(msgs []proto.Message) ([]byte, error) {
	workers := 1
	if len(msgs) >= 256 {
		workers = runtime.GOMAXPROCS(0)
	}
	parts := make([]bytes.Buffer, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	chunk := (len(msgs) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min(len(msgs), (w+1)*chunk)
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			var raw []byte
			var compact bytes.Buffer
			for i := lo; i < hi; i++ {
				var err error
				if raw, err = protoOptions.MarshalAppend(raw[:0], msgs[i]); err != nil {
					errs[w] = err
					return
				}
				compact.Reset()
				if err := json.Compact(&compact, raw); err != nil {
					errs[w] = err
					return
				}
				parts[w].WriteByte('\n')
				if err := itemToYAML(&parts[w], compact.Bytes()); err != nil {
					errs[w] = err
					return
				}
			}
		}(w, lo, hi)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for w := range parts {
		buf.Write(parts[w].Bytes())
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// redact returns a copy of s with its private key replaced.
func redact(s *tlsv3.Secret) *tlsv3.Secret {
	c, ok := s.GetType().(*tlsv3.Secret_TlsCertificate)
	if !ok || c.TlsCertificate.GetPrivateKey() == nil {
		return s
	}
	out := proto.Clone(s).(*tlsv3.Secret)
	out.GetTlsCertificate().PrivateKey = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: Redacted}}
	return out
}

// writeJSON writes the sections as one indented JSON object in order.
func writeJSON(out *bytes.Buffer, sections []section) {
	out.WriteString("{")
	for i, s := range sections {
		if i > 0 {
			out.WriteString(",")
		}
		out.WriteString("\n  \"" + s.key + "\": ")
		var ind bytes.Buffer
		if err := json.Indent(&ind, s.json, "  ", "  "); err != nil {
			out.Write(s.json)
			continue
		}
		out.Write(ind.Bytes())
	}
	out.WriteString("\n}\n")
}
