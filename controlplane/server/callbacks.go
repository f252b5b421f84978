package server

import (
	"context"
	"strconv"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
)

// NACKs returns the number of rejected responses seen so far.
func (s *Server) NACKs() int64 { return s.nackCount.Load() }

// callbacks count incremental streams, pushes and NACKs (sotwStreams does
// the same for state-of-the-world ones). A NACK is logged with Envoy's
// error detail; nothing is resent because of it (the cache only sends again
// when the resource changes), so a bad resource cannot cause a loop. ACKs
// and NACKs, delta and state of the world, are tied to a revision by the
// response nonce and reported to the type's cache, which answers new
// streams as of the last accepted revision while a newer one is rejected.
func (s *Server) callbacks() serverv3.Callbacks {
	m := s.metrics
	return serverv3.CallbackFuncs{
		DeltaStreamOpenFunc: func(context.Context, int64, string) error {
			m.streams.WithLabelValues("delta").Inc()
			return nil
		},
		DeltaStreamClosedFunc: func(id int64, _ *corev3.Node) {
			m.streams.WithLabelValues("delta").Dec()
			s.sent.forget(id)
		},
		StreamDeltaRequestFunc: func(id int64, r *discoveryv3.DeltaDiscoveryRequest) error {
			s.answer(&s.sent, id, r.GetTypeUrl(), r.GetResponseNonce(), r.GetErrorDetail(),
				"xDS NACK (delta)", "node", r.GetNode().GetId())
			return nil
		},
		StreamDeltaResponseFunc: func(id int64, _ *discoveryv3.DeltaDiscoveryRequest, r *discoveryv3.DeltaDiscoveryResponse) {
			m.pushes.WithLabelValues(shortType(r.GetTypeUrl())).Inc()
			if rev, err := strconv.ParseUint(r.GetSystemVersionInfo(), 10, 64); err == nil {
				s.sent.record(id, r.GetTypeUrl(), r.GetNonce(), rev)
			}
		},
	}
}

// answer handles a request that may ACK or NACK the stream's last response
// of its type (sent tells which revision that was): a NACK is counted and
// logged with Envoy's error detail, and both reach the type's cache.
func (s *Server) answer(sent *sentResponses, id int64, typeURL, nonce string, detail *statuspb.Status, msg string, logArgs ...any) {
	rev, answered := sent.answered(id, typeURL, nonce)
	c := s.deltas[typeURL]
	if detail != nil {
		s.nackCount.Add(1)
		s.metrics.nacks.WithLabelValues(shortType(typeURL)).Inc()
		var rej Rejection
		if answered && c != nil {
			// Every Envoy may reject the same revision: it is worked out
			// once, from the first NACK's message.
			var known bool
			if rej, known = s.rejections.of(typeURL, rev); !known {
				rej = s.rejected(c, rev, detail.GetMessage())
			}
		}
		s.opts.Logger.Warn(msg, append(logArgs, "stream", id, "type", shortType(typeURL), "nonce", nonce,
			"revision", rev, "error", detail.GetMessage(), "resources", listed(rej.Resources), "objects", listed(refStrings(rej.Objects)))...)
		if answered && c != nil {
			s.rejections.add(rej)
		}
	}
	switch {
	case !answered || c == nil:
	case detail != nil:
		c.nack(rev)
	default:
		c.ack(rev)
		s.rejections.accepted(typeURL, rev)
	}
}

// sentResponses remembers, per delta stream and type, the nonce and cache
// revision of the last response, so that an ACK or NACK (which names the
// nonce) can be tied to a revision.
type sentResponses struct {
	mu   sync.Mutex
	last map[int64]map[string]sentResponse
}

type sentResponse struct {
	nonce string
	rev   uint64
}

func (s *sentResponses) record(id int64, typeURL, nonce string, rev uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[int64]map[string]sentResponse{}
	}
	if s.last[id] == nil {
		s.last[id] = map[string]sentResponse{}
	}
	s.last[id][typeURL] = sentResponse{nonce, rev}
}

// answered returns the revision of the response a request's nonce names,
// if it is the stream's last one of that type.
func (s *sentResponses) answered(id int64, typeURL, nonce string) (uint64, bool) {
	if nonce == "" {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.last[id][typeURL]
	return r.rev, ok && r.nonce == nonce
}

func (s *sentResponses) forget(id int64) {
	s.mu.Lock()
	delete(s.last, id)
	s.mu.Unlock()
}
