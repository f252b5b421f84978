package server

import (
	"context"
	"errors"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// splitCache serves both variants of every type from its deltaCache.
type splitCache struct {
	delta map[string]*deltaCache
}

// CreateWatch serves state-of-the-world xDS.
func (s *splitCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
	c, ok := s.delta[req.GetTypeUrl()]
	if !ok {
		return nil, errors.New("no resources of type " + req.GetTypeUrl())
	}
	return c.createSotwWatch(req, sub, out)
}

// CreateDeltaWatch serves incremental xDS.
func (s *splitCache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) (func(), error) {
	c, ok := s.delta[req.GetTypeUrl()]
	if !ok {
		return nil, errors.New("no resources of type " + req.GetTypeUrl())
	}
	return c.createWatch(req, sub, out)
}

// Fetch refuses REST polling, as go-control-plane's own caches of this kind
// do: Envoy's xDS is served over gRPC streams.
func (s *splitCache) Fetch(context.Context, *cachev3.Request) (cachev3.Response, error) {
	return nil, errors.New("isobar serves xDS over gRPC streams only (no REST polling)")
}
