package server

import (
	"context"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// NACKs returns the number of rejected responses seen so far.
func (s *Server) NACKs() int64 { return s.nackCount.Load() }

// callbacks count streams, pushes and NACKs. A NACK is logged with Envoy's
// error detail; nothing is resent because of it (the cache only sends again
// when the resource changes), so a bad resource cannot cause a loop.
func (s *Server) callbacks() serverv3.Callbacks {
	m := s.metrics
	log := s.opts.Logger
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(context.Context, int64, string) error {
			m.streams.Inc()
			return nil
		},
		StreamClosedFunc: func(int64, *corev3.Node) { m.streams.Dec() },
		DeltaStreamOpenFunc: func(context.Context, int64, string) error {
			m.streams.Inc()
			return nil
		},
		DeltaStreamClosedFunc: func(int64, *corev3.Node) { m.streams.Dec() },
		StreamRequestFunc: func(id int64, r *discoveryv3.DiscoveryRequest) error {
			if d := r.GetErrorDetail(); d != nil {
				s.nackCount.Add(1)
				m.nacks.WithLabelValues(shortType(r.GetTypeUrl())).Inc()
				log.Warn("xDS NACK", "stream", id, "node", r.GetNode().GetId(), "type", shortType(r.GetTypeUrl()),
					"version", r.GetVersionInfo(), "nonce", r.GetResponseNonce(), "error", d.GetMessage())
			}
			return nil
		},
		StreamDeltaRequestFunc: func(id int64, r *discoveryv3.DeltaDiscoveryRequest) error {
			if d := r.GetErrorDetail(); d != nil {
				s.nackCount.Add(1)
				m.nacks.WithLabelValues(shortType(r.GetTypeUrl())).Inc()
				log.Warn("xDS NACK (delta)", "stream", id, "node", r.GetNode().GetId(), "type", shortType(r.GetTypeUrl()),
					"nonce", r.GetResponseNonce(), "error", d.GetMessage())
			}
			return nil
		},
		StreamResponseFunc: func(_ context.Context, _ int64, _ *discoveryv3.DiscoveryRequest, r *discoveryv3.DiscoveryResponse) {
			m.pushes.WithLabelValues(shortType(r.GetTypeUrl())).Inc()
		},
		StreamDeltaResponseFunc: func(_ int64, _ *discoveryv3.DeltaDiscoveryRequest, r *discoveryv3.DeltaDiscoveryResponse) {
			m.pushes.WithLabelValues(shortType(r.GetTypeUrl())).Inc()
		},
	}
}
