package server

import (
	"context"
	"strconv"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// NACKs returns the number of rejected responses seen so far.
func (s *Server) NACKs() int64 { return s.nackCount.Load() }

// callbacks count streams, pushes and NACKs. A NACK is logged with Envoy's
// error detail; nothing is resent because of it (the cache only sends again
// when the resource changes), so a bad resource cannot cause a loop. ACKs
// and NACKs, delta and state of the world, are tied to a revision by the
// response nonce and reported to the type's cache, which answers new
// streams as of the last accepted revision while a newer one is rejected.
func (s *Server) callbacks() serverv3.Callbacks {
	m := s.metrics
	log := s.opts.Logger
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(context.Context, int64, string) error {
			m.streams.Inc()
			return nil
		},
		StreamClosedFunc: func(id int64, _ *corev3.Node) {
			m.streams.Dec()
			s.sentSotW.forget(id)
		},
		DeltaStreamOpenFunc: func(context.Context, int64, string) error {
			m.streams.Inc()
			return nil
		},
		DeltaStreamClosedFunc: func(id int64, _ *corev3.Node) {
			m.streams.Dec()
			s.sent.forget(id)
		},
		StreamRequestFunc: func(id int64, r *discoveryv3.DiscoveryRequest) error {
			rev, answered := s.sentSotW.answered(id, r.GetTypeUrl(), r.GetResponseNonce())
			c := s.deltas[r.GetTypeUrl()]
			if d := r.GetErrorDetail(); d != nil {
				s.nackCount.Add(1)
				m.nacks.WithLabelValues(shortType(r.GetTypeUrl())).Inc()
				log.Warn("xDS NACK", "stream", id, "node", r.GetNode().GetId(), "type", shortType(r.GetTypeUrl()),
					"version", r.GetVersionInfo(), "nonce", r.GetResponseNonce(), "revision", rev, "error", d.GetMessage())
				if answered && c != nil {
					c.nack(rev)
				}
			} else if answered && c != nil {
				c.ack(rev)
			}
			return nil
		},
		StreamDeltaRequestFunc: func(id int64, r *discoveryv3.DeltaDiscoveryRequest) error {
			rev, answered := s.sent.answered(id, r.GetTypeUrl(), r.GetResponseNonce())
			c := s.deltas[r.GetTypeUrl()]
			if d := r.GetErrorDetail(); d != nil {
				s.nackCount.Add(1)
				m.nacks.WithLabelValues(shortType(r.GetTypeUrl())).Inc()
				log.Warn("xDS NACK (delta)", "stream", id, "node", r.GetNode().GetId(), "type", shortType(r.GetTypeUrl()),
					"nonce", r.GetResponseNonce(), "revision", rev, "error", d.GetMessage())
				if answered && c != nil {
					c.nack(rev)
				}
			} else if answered && c != nil {
				c.ack(rev)
			}
			return nil
		},
		StreamResponseFunc: func(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, r *discoveryv3.DiscoveryResponse) {
			m.pushes.WithLabelValues(shortType(r.GetTypeUrl())).Inc()
			if rev, ok := s.linear.revision(r.GetTypeUrl(), r.GetVersionInfo()); ok {
				s.sentSotW.record(id, r.GetTypeUrl(), r.GetNonce(), rev)
			}
		},
		StreamDeltaResponseFunc: func(id int64, _ *discoveryv3.DeltaDiscoveryRequest, r *discoveryv3.DeltaDiscoveryResponse) {
			m.pushes.WithLabelValues(shortType(r.GetTypeUrl())).Inc()
			if rev, err := strconv.ParseUint(r.GetSystemVersionInfo(), 10, 64); err == nil {
				s.sent.record(id, r.GetTypeUrl(), r.GetNonce(), rev)
			}
		},
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
