package server

import (
	"cmp"
	"context"
	"strconv"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// deltaResponse is one incremental answer. Its version map holds only the
// revision it brings the stream to (see deltaCache).
type deltaResponse struct {
	req       *cachev3.DeltaRequest
	resources []*discoverygrpc.Resource
	wires     []wired  // resources with their encodings, shared by every stream
	framed    [][]byte // all of them framed, for an answer shared by many streams
	removed   []string
	rev       uint64
	// origin is the shared answer this one is a copy of (forRequest),
	// kept alive by it: the cache holds shared answers weakly.
	origin *deltaResponse
}

// GetDeltaDiscoveryResponse returns a new message sharing the resources,
// and hands their encodings to wireCodec for when the stream sends it.
//
// It is called once per response (the stream's send), and the response
// then lets go of its resources: a stream's goroutine keeps the last
// response it received (a select's receive slot stays live until the next
// receive), which would otherwise pin the shared answer behind it (see
// deltaCache.wholes) for as long as the stream lives. Responses are
// therefore never shared between streams: each gets its own copy
// (forRequest), and the shared answers themselves are never sent.
func (r *deltaResponse) GetDeltaDiscoveryResponse() (*discoverygrpc.DeltaDiscoveryResponse, error) {
	msg := &discoverygrpc.DeltaDiscoveryResponse{SystemVersionInfo: r.GetResponseVersion(), Resources: r.resources,
		RemovedResources: r.removed, TypeUrl: r.req.GetTypeUrl()}
	if len(r.resources) > 0 {
		preEncoded.Store(msg, encodedResources{wires: r.wires, framed: r.framed})
	}
	r.resources, r.wires, r.framed, r.origin = nil, nil, nil, nil
	return msg, nil
}

// GetDeltaRequest returns the request the watch answered.
func (r *deltaResponse) GetDeltaRequest() *cachev3.DeltaRequest { return r.req }

// GetSystemVersion returns the cache revision as a string.
func (r *deltaResponse) GetSystemVersion() (string, error) { return r.GetResponseVersion(), nil }

// GetResponseVersion returns the cache revision as a string.
func (r *deltaResponse) GetResponseVersion() string { return strconv.FormatUint(r.rev, 10) }

// GetNextVersionMap returns the stream's next state: the revision only.
func (r *deltaResponse) GetNextVersionMap() map[string]string {
	return map[string]string{revisionKey: strconv.FormatUint(r.rev, 10)}
}

// GetReturnedResources is GetNextVersionMap.
func (r *deltaResponse) GetReturnedResources() map[string]string { return r.GetNextVersionMap() }

// GetContext returns a background context.
func (r *deltaResponse) GetContext() context.Context { return context.Background() }

// forRequest returns r as the answer to req, a copy of its own (r's slices are
// shared: their contents never change once built).
func (r *deltaResponse) forRequest(req *cachev3.DeltaRequest) *deltaResponse {
	out := *r
	out.req, out.origin = req, cmp.Or(r.origin, r)
	return &out
}
