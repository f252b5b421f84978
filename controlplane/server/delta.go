package server

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
)

// revisionKey is a reserved entry in the version maps this cache hands to a
// stream: the cache revision that map is consistent with. It is never sent
// to Envoy, and no resource name starts with NUL.
const revisionKey = "\x00isobar/revision"

// maxLogFloor is the smallest change log kept before compaction.
const maxLogFloor = 4096

// deltaCache serves incremental xDS for one resource type. go-control-plane's
// LinearCache compares every resource with every stream's versions on each
// change and on each ACK, which costs resources × streams (21,000 × 1,000 for
// the endpoints of S10k with 1,000 Envoys). deltaCache keeps a log of the
// names that changed, so a change of k resources costs O(k) per stream and an
// ACK costs O(changes since that stream's last response).
type deltaCache struct {
	typeURL string

	mu       sync.Mutex
	entries  map[string]wired // shared, read-only, by every response
	rev      uint64
	log      []logEntry // names changed, in revision order
	logStart uint64     // changes at revisions ≤ logStart may be missing from log
	watches  map[*deltaWatch]struct{}
}

// wired is a resource and its encoding as a Resource message, which every
// stream's response reuses (see wireCodec).
type wired struct {
	res  *discoverygrpc.Resource
	wire []byte
}

// newWired encodes r for wireCodec.
func newWired(r *discoverygrpc.Resource) (wired, error) {
	b, err := deterministic.Marshal(r)
	return wired{r, b}, err
}

type logEntry struct {
	rev  uint64
	name string
}

type deltaWatch struct {
	req *cachev3.DeltaRequest
	sub cachev3.Subscription
	out chan cachev3.DeltaResponse
}

func newDeltaCache(typeURL string) *deltaCache {
	return &deltaCache{typeURL: typeURL, entries: map[string]wired{}, watches: map[*deltaWatch]struct{}{}}
}

// update stores changed resources and deletes removed names, then answers
// every open watch the change concerns.
func (c *deltaCache) update(changed []wired, removed []string) {
	if len(changed) == 0 && len(removed) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rev++
	names := make([]string, 0, len(changed)+len(removed))
	for _, e := range changed {
		c.entries[e.res.GetName()] = e
		names = append(names, e.res.GetName())
	}
	for _, n := range removed {
		delete(c.entries, n)
		names = append(names, n)
	}
	for _, n := range names {
		c.log = append(c.log, logEntry{c.rev, n})
	}
	c.compact()
	for w := range c.watches {
		if resp := c.respond(w, names); resp != nil {
			delete(c.watches, w)
			w.out <- resp // the stream holds at most one watch per type: its buffer has room
		}
	}
}

// compact drops the older half of the log once it outgrows the resources.
func (c *deltaCache) compact() {
	limit := max(maxLogFloor, 2*len(c.entries))
	if len(c.log) <= limit {
		return
	}
	drop := len(c.log) / 2
	c.logStart = c.log[drop-1].rev
	c.log = append([]logEntry(nil), c.log[drop:]...)
}

// createWatch answers at once when the client lacks something, and
// otherwise waits for a change.
func (c *deltaCache) createWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &deltaWatch{req, sub, out}
	names, ok := c.changedSince(req, sub)
	if !ok {
		names = c.allNames(sub)
	}
	if resp := c.respond(w, names); resp != nil {
		out <- resp
		return func() {}, nil
	}
	c.watches[w] = struct{}{}
	return func() {
		c.mu.Lock()
		delete(c.watches, w)
		c.mu.Unlock()
	}, nil
}

// changedSince returns the names changed since the revision the stream's
// version map is consistent with. It declines (ok false) when the request
// changes the subscription or the log no longer reaches back that far.
func (c *deltaCache) changedSince(req *cachev3.DeltaRequest, sub cachev3.Subscription) ([]string, bool) {
	if len(req.GetResourceNamesSubscribe()) > 0 || len(req.GetResourceNamesUnsubscribe()) > 0 {
		return nil, false
	}
	mark, ok := sub.ReturnedResources()[revisionKey]
	if !ok {
		return nil, false
	}
	since, err := strconv.ParseUint(mark, 10, 64)
	if err != nil || since < c.logStart {
		return nil, false
	}
	i := sort.Search(len(c.log), func(i int) bool { return c.log[i].rev > since })
	names := make([]string, 0, len(c.log)-i)
	for _, e := range c.log[i:] {
		names = append(names, e.name)
	}
	return names, true
}

// allNames lists every name the subscription could need an answer about.
func (c *deltaCache) allNames(sub cachev3.Subscription) []string {
	var names []string
	if sub.IsWildcard() {
		for n := range c.entries {
			names = append(names, n)
		}
	}
	for n := range sub.SubscribedResources() {
		names = append(names, n)
	}
	for n := range sub.ReturnedResources() {
		names = append(names, n)
	}
	return names
}

// respond compares the candidate names with what the stream knows and
// builds the response, or returns nil when the stream is up to date.
func (c *deltaCache) respond(w *deltaWatch, candidates []string) *deltaResponse {
	known := w.sub.ReturnedResources()
	subscribed := w.sub.SubscribedResources()
	seen := make(map[string]bool, len(candidates))
	var updated []wired
	var removed []string
	for _, name := range candidates {
		if name == revisionKey || seen[name] {
			continue
		}
		seen[name] = true
		version, isKnown := known[name]
		_, named := subscribed[name]
		entry, exists := c.entries[name]
		switch {
		case !w.sub.IsWildcard() && !named:
			if isKnown { // no longer subscribed: forget it
				removed = append(removed, name)
			}
		case !exists:
			if isKnown {
				removed = append(removed, name)
			}
		case !isKnown || version != entry.res.GetVersion():
			updated = append(updated, entry)
		}
	}
	if len(updated) == 0 && len(removed) == 0 {
		return nil
	}
	sort.Slice(updated, func(i, j int) bool { return updated[i].res.GetName() < updated[j].res.GetName() })
	sort.Strings(removed)
	r := &deltaResponse{req: w.req, known: known, removed: removed, rev: c.rev,
		resources: make([]*discoverygrpc.Resource, len(updated)), wires: make([][]byte, len(updated))}
	for i, u := range updated {
		r.resources[i], r.wires[i] = u.res, u.wire
	}
	return r
}

// deltaResponse is one incremental answer. Its version map is the stream's
// own map, brought up to date when the stream applies the response (on the
// stream's goroutine, which owns the map), so no stream copies a map of
// every resource name per response.
type deltaResponse struct {
	req       *cachev3.DeltaRequest
	known     map[string]string
	resources []*discoverygrpc.Resource
	wires     [][]byte // encodings of resources, shared by every stream
	removed   []string
	rev       uint64
	apply     sync.Once
}

// GetDeltaDiscoveryResponse returns a new message sharing the resources,
// and hands their encodings to wireCodec for when the stream sends it.
func (r *deltaResponse) GetDeltaDiscoveryResponse() (*discoverygrpc.DeltaDiscoveryResponse, error) {
	msg := &discoverygrpc.DeltaDiscoveryResponse{SystemVersionInfo: r.GetResponseVersion(), Resources: r.resources,
		RemovedResources: r.removed, TypeUrl: r.req.GetTypeUrl()}
	if len(r.resources) > 0 {
		preEncoded.Store(msg, r.wires)
	}
	return msg, nil
}

// GetDeltaRequest returns the request the watch answered.
func (r *deltaResponse) GetDeltaRequest() *cachev3.DeltaRequest { return r.req }

// GetSystemVersion returns the cache revision as a string.
func (r *deltaResponse) GetSystemVersion() (string, error) { return r.GetResponseVersion(), nil }

// GetResponseVersion returns the cache revision as a string.
func (r *deltaResponse) GetResponseVersion() string { return strconv.FormatUint(r.rev, 10) }

// GetNextVersionMap applies the response to the stream's version map and
// returns it.
func (r *deltaResponse) GetNextVersionMap() map[string]string {
	r.apply.Do(func() {
		for _, res := range r.resources {
			r.known[res.GetName()] = res.GetVersion()
		}
		for _, n := range r.removed {
			delete(r.known, n)
		}
		r.known[revisionKey] = strconv.FormatUint(r.rev, 10)
	})
	return r.known
}

// GetReturnedResources is GetNextVersionMap.
func (r *deltaResponse) GetReturnedResources() map[string]string { return r.GetNextVersionMap() }

// GetContext returns a background context.
func (r *deltaResponse) GetContext() context.Context { return context.Background() }

// splitCache answers state-of-the-world requests from go-control-plane's
// linear caches and incremental ones from deltaCache.
type splitCache struct {
	sotw  *cachev3.MuxCache
	delta map[string]*deltaCache
}

// CreateWatch serves state-of-the-world xDS.
func (s *splitCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
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
