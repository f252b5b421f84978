package server

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// splitCache answers state-of-the-world requests from go-control-plane's
// linear caches and incremental ones from deltaCache. The first
// state-of-the-world request of a stream, while a revision newer than the
// last accepted one is rejected, is answered from deltaCache as of the
// accepted revision (the linear caches keep no history).
type splitCache struct {
	sotw  *cachev3.MuxCache
	delta map[string]*deltaCache
}

// CreateWatch serves state-of-the-world xDS.
func (s *splitCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
	if c, ok := s.delta[req.GetTypeUrl()]; ok && req.GetVersionInfo() == "" && req.GetResponseNonce() == "" {
		if resp := c.acceptedSotW(req); resp != nil {
			out <- resp
			return func() {}, nil
		}
	}
	return s.sotw.CreateWatch(req, sub, out)
}

// CreateDeltaWatch serves incremental xDS.
func (s *splitCache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) (func(), error) {
	c, ok := s.delta[req.GetTypeUrl()]
	if !ok {
		return nil, errors.New("no resources of type " + req.GetTypeUrl())
	}
	return c.createWatch(req, sub, out)
}

// Fetch serves REST polling.
func (s *splitCache) Fetch(ctx context.Context, req *cachev3.Request) (cachev3.Response, error) {
	return s.sotw.Fetch(ctx, req)
}

// acceptedPrefix starts the version of a state-of-the-world answer given as
// of an accepted revision; the revision follows.
const acceptedPrefix = "accepted-"

// acceptedSotW answers a stream's first state-of-the-world request as of
// the accepted revision, or returns nil when new streams get the current
// set. The versions it reports are empty, so the linear cache sends the
// current set at the stream's next request: the newer set is offered, as
// to delta streams.
func (c *deltaCache) acceptedSotW(req *cachev3.Request) cachev3.Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	at := c.servedAt()
	if at == c.rev {
		return nil
	}
	then := c.stateAt(at)
	var names []string
	if len(req.GetResourceNames()) == 0 || (len(req.GetResourceNames()) == 1 && req.GetResourceNames()[0] == "*") {
		names = then.names()
	} else {
		names = append(names, req.GetResourceNames()...)
	}
	sort.Strings(names)
	returned := map[string]string{}
	var resources []*anypb.Any
	for i, n := range names {
		if i > 0 && n == names[i-1] {
			continue
		}
		if e, ok := then.get(n); ok {
			resources = append(resources, e.any())
			returned[n] = ""
		}
	}
	version := acceptedPrefix + strconv.FormatUint(at, 10)
	return &cachev3.PassthroughResponse{Request: req, ReturnedResources: returned,
		DiscoveryResponse: &discoverygrpc.DiscoveryResponse{VersionInfo: version, Resources: resources, TypeUrl: req.GetTypeUrl()}}
}

// linearVersions maps, per type, the versions the linear cache gives its
// answers to the deltaCache revision with the same content, so that a
// state-of-the-world ACK or NACK can be tied to a revision. The linear cache
// counts one version per update it is given, from 1.
type linearVersions struct {
	mu    sync.Mutex
	count map[string]uint64
	revs  map[string]map[string]uint64 // type → version → revision (the last 64)
}

// updated records that the linear cache of typ took one more update, whose
// content is deltaCache revision rev.
func (l *linearVersions) updated(typ string, rev uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == nil {
		l.count, l.revs = map[string]uint64{}, map[string]map[string]uint64{}
	}
	if l.revs[typ] == nil {
		l.revs[typ] = map[string]uint64{}
	}
	l.count[typ]++
	n := l.count[typ]
	l.revs[typ][strconv.FormatUint(n, 10)] = rev
	if n > 64 {
		delete(l.revs[typ], strconv.FormatUint(n-64, 10))
	}
}

// revision returns the revision of a state-of-the-world answer's version.
func (l *linearVersions) revision(typ, version string) (uint64, bool) {
	if v, ok := strings.CutPrefix(version, acceptedPrefix); ok {
		rev, err := strconv.ParseUint(v, 10, 64)
		return rev, err == nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	rev, ok := l.revs[typ][version]
	return rev, ok
}
