package server

import (
	"hash/maphash"
	"sort"
	"strconv"
	"sync"
	"weak"

	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// revisionKey is the one entry of the version map this cache gives a
// stream once it has answered it: the cache revision the stream is up to
// date with. It is never sent to Envoy, and no resource name starts with
// NUL.
const revisionKey = "\x00isobar/revision"

// Compaction starts once the log holds more than maxLogFloor changes or
// four per resource, or more than logByteFloor bytes of earlier encodings
// or as many as the resources' own (see logCost); it keeps the last
// keepRevisions revisions whole: a stream further behind than that is
// asked to reconnect (errLagging).
const (
	maxLogFloor   = 4096
	logByteFloor  = 8 << 20
	keepRevisions = 16
)

// logEntryCost approximates what a log entry costs besides the encoding it
// keeps.
const logEntryCost = 128

// owned returns the bytes of w's encoding that are its own: its head and
// tail (the pieces between are shared with the resource's other versions).
func (w wired) owned() int { return len(w.head) + len(w.tail()) }

// errLagging ends a stream whose last answer is older than the change log:
// Envoy reconnects with the versions it has, and is answered from those.
var errLagging = status.Error(codes.Unavailable, "isobar: this stream fell too far behind; reconnect with initial_resource_versions")

// deltaCache serves one resource type, to incremental streams (here) and
// state-of-the-world ones (sotw.go). go-control-plane's LinearCache compares
// every resource with every stream's versions on each change and on each
// ACK, and keeps every resource's version per stream. deltaCache keeps one
// log of the names that changed: a change of k resources costs O(k) per
// stream, an ACK O(changes since that stream's last answer), and a stream's
// state is one revision number. What a stream holds follows from that
// revision and the log: every resource it subscribes to as it was at that
// revision (each answer brings the stream fully up to date).
type deltaCache struct {
	typeURL string
	// namespaced caches (VirtualHost) read a subscribed name as a
	// namespace too: it covers every name under it ("<name>/...").
	namespaced bool

	mu       sync.Mutex
	entries  map[string]wired // shared, read-only, by every response
	rev      uint64
	log      []logEntry // names changed, in revision order
	logStart uint64     // changes at revisions ≤ logStart may be missing from log
	watches  map[*deltaWatch]struct{}

	// subscribedEarly is set when a stream subscribed before the first
	// revision (a type with no resource at the first set, VirtualHosts
	// when ingress_http has no host): that revision is then logged.
	subscribedEarly bool

	// acked is the newest revision a stream accepted, nacked the newest one
	// a stream rejected. While nacked is newer, new streams are answered as
	// of acked: an Envoy that starts then gets a configuration some Envoy
	// accepted, and is offered the newer one like the others after that.
	acked, nacked uint64

	// wholes are the answers, as of revision wholeRev, sorted, shared by
	// the first answers of streams that know nothing yet (1,000 Envoys
	// connecting at once would otherwise each sort 20,000 names): every
	// resource under "*" for wildcard streams, and in a namespaced cache
	// what one subscribed name covers, under that name. They are held
	// weakly: an answer lives while a stream still has a copy to send
	// (each copy keeps its origin), and once a burst of connections is
	// over its framing (about 19 MB for S10k's EDS and RDS) is collected
	// instead of kept until the next revision.
	wholes   map[string]weak.Pointer[deltaResponse]
	wholeRev uint64

	// entryBytes is the entries' own bytes, logBytes what the log holds
	// (logEntryCost per entry and the earlier encoding it keeps).
	entryBytes, logBytes int

	// State-of-the-world streams (see sotw.go): their open watches, the
	// epoch of versions, subscriptions by digest, and the whole answers at
	// the current revision by digest (dropped when the revision changes;
	// held weakly, as wholes are).
	sotw       map[*sotwWatch]struct{}
	epoch      string
	sotwSubs   sotwSubscriptions
	sotwShared map[uint64]weak.Pointer[sotwResponse]
}

// change says what happened to a name at a revision.
type change uint8

const (
	created change = iota
	modified
	deleted
)

type logEntry struct {
	rev  uint64
	name string
	what change
	prev wired // the resource before the change (none when created)
}

type deltaWatch struct {
	req        *cachev3.DeltaRequest
	sub        cachev3.Subscription
	out        chan cachev3.DeltaResponse
	since      uint64 // the revision the stream is up to date with
	namespaced bool   // its cache's
}

func newDeltaCache(typeURL string) *deltaCache {
	return &deltaCache{typeURL: typeURL, namespaced: typeURL == resourcev3.VirtualHostType,
		entries: map[string]wired{}, watches: map[*deltaWatch]struct{}{},
		sotw: map[*sotwWatch]struct{}{}, epoch: strconv.FormatUint(maphash.String(maphash.MakeSeed(), typeURL)>>32, 36),
		sotwSubs: sotwSubscriptions{}}
}

// update stores changed resources and deletes removed names (a resource
// whose version did not change is no change), then answers every open
// watch the change concerns.
// heldVersions is what the server asks a cache of what it holds, to
// tell what changed (the cache's entries are the only record of it).
type heldVersions interface {
	// version is the version of the resource called name; "" when the
	// cache does not hold one.
	version(name string) string
	// names are the names of the resources held, in no order.
	names() []string
}

func (c *deltaCache) version(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[name].version
}

func (c *deltaCache) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.entries))
	for name := range c.entries {
		out = append(out, name)
	}
	return out
}

func (c *deltaCache) update(changed []wired, removed []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rev := c.rev + 1
	// When no stream subscribed before the first revision, none ever asks
	// what changed in it: its creations (every resource) are not logged.
	first := c.rev == 0 && !c.subscribedEarly
	var names []string
	for _, e := range changed {
		name := e.name
		what := created
		old, ok := c.entries[name]
		if ok {
			if old.version == e.version {
				continue
			}
			what = modified
		}
		c.entries[name] = e
		c.entryBytes += e.owned() - old.owned()
		if !first {
			c.appendLog(logEntry{rev, name, what, old})
		}
		names = append(names, name)
	}
	for _, n := range removed {
		old, ok := c.entries[n]
		if !ok {
			continue
		}
		delete(c.entries, n)
		c.entryBytes -= old.owned()
		c.appendLog(logEntry{rev, n, deleted, old})
		names = append(names, n)
	}
	if len(names) == 0 {
		return
	}
	if first {
		c.logStart = rev
	}
	c.rev = rev
	c.sotwShared = nil // answers of the last revision: let them go
	c.compact()
	// Most open watches are up to date with the same revision: what changed
	// since one is computed once for all of them.
	views := map[uint64]sinceView{}
	since := func(rev uint64) sinceView {
		v, ok := views[rev]
		if !ok {
			v = sinceView{c.changedSince(rev), c.stateAt(rev)}
			views[rev] = v
		}
		return v
	}
	// A wildcard watch with nothing of its own to resend gets the same
	// answer as every other such watch up to date with the same revision:
	// it is built once (1,000 Envoys would otherwise each build theirs).
	shared := map[uint64]*deltaResponse{}
	for w := range c.watches {
		v := since(w.since)
		var resp *deltaResponse
		if w.plainWildcard() {
			r, ok := shared[w.since]
			if !ok {
				r = c.incrementalFrom(w, v.names, v.then, nil)
				shared[w.since] = r
			}
			if r != nil {
				resp = r.forRequest(w.req)
			}
		} else {
			resp = c.incrementalFrom(w, v.names, v.then, nil)
		}
		if resp != nil {
			delete(c.watches, w)
			w.out <- resp // the stream holds at most one watch per type: its buffer has room
		}
	}
	c.answerSotW(since)
}

// plainWildcard reports whether w subscribes to everything and has no
// name of its own to be resent (see incrementalFrom).
func (w *deltaWatch) plainWildcard() bool {
	if !w.sub.IsWildcard() {
		return false
	}
	for _, v := range w.sub.ReturnedResources() {
		if v == "" {
			return false
		}
	}
	return true
}

// sinceView is what changed after a revision, and the resources then.
type sinceView struct {
	names []string
	then  pastState
}

// appendLog records a change.
func (c *deltaCache) appendLog(e logEntry) {
	c.log = append(c.log, e)
	c.logBytes += logEntryCost + e.prev.owned()
}

// compact drops the older half of the log once it outgrows the resources,
// in changes or in bytes, keeping the last revisions and what open watches
// still need.
func (c *deltaCache) compact() {
	limit, budget := max(maxLogFloor, 4*len(c.entries)), max(logByteFloor, c.entryBytes)
	if len(c.log) <= limit && c.logBytes <= budget {
		return
	}
	drop := len(c.log) / 2
	if c.rev > keepRevisions {
		drop = min(drop, c.after(c.rev-keepRevisions))
	} else {
		drop = 0
	}
	if c.nacked > c.acked && c.acked > 0 && len(c.log) <= 4*limit && c.logBytes <= 4*budget {
		drop = min(drop, c.after(c.acked)) // new streams are answered as of acked, within bounds
	}
	for w := range c.watches {
		drop = min(drop, c.after(w.since))
	}
	for w := range c.sotw {
		drop = min(drop, c.after(w.since))
	}
	if drop == 0 {
		return
	}
	for _, e := range c.log[:drop] {
		c.logBytes -= logEntryCost + e.prev.owned()
	}
	c.logStart = c.log[drop-1].rev
	c.log = append([]logEntry(nil), c.log[drop:]...)
}

// createWatch answers at once when the client lacks something, and
// otherwise waits for a change. A stream answered before is compared with
// the log since its revision; a new one with the versions it says it has.
func (c *deltaCache) createWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, out chan cachev3.DeltaResponse) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &deltaWatch{req: req, sub: sub, out: out, namespaced: c.namespaced}
	c.subscribedEarly = c.subscribedEarly || c.rev == 0
	var resp *deltaResponse
	if since, ok := revisionOf(sub); ok {
		if since < c.logStart {
			return nil, errLagging
		}
		w.since = since
		resp = c.incremental(w, c.changedSince(since), req.GetResourceNamesSubscribe())
	} else {
		w.since = c.servedAt()
		resp = c.full(w)
		if resp == nil && (w.sub.IsWildcard() || w.namespaced) && len(sub.ReturnedResources()) == 0 {
			// To a stream that holds nothing, nothing to send yet is an
			// answer too: Envoy waits for one before it finishes starting
			// (CDS, a VHDS route configuration).
			resp = &deltaResponse{req: req, rev: w.since}
		}
	}
	if resp != nil {
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

// revisionOf reads the revision a stream was last answered at.
func revisionOf(sub cachev3.Subscription) (uint64, bool) {
	mark, ok := sub.ReturnedResources()[revisionKey]
	if !ok {
		return 0, false
	}
	rev, err := strconv.ParseUint(mark, 10, 64)
	return rev, err == nil
}

// after returns the index of the first log entry newer than rev.
func (c *deltaCache) after(rev uint64) int {
	return sort.Search(len(c.log), func(i int) bool { return c.log[i].rev > rev })
}

// changedSince returns the names changed after revision since, in order.
func (c *deltaCache) changedSince(since uint64) []string {
	i := c.after(since)
	names := make([]string, 0, len(c.log)-i)
	for _, e := range c.log[i:] {
		names = append(names, e.name)
	}
	return names
}

// revision returns the current revision.
func (c *deltaCache) revision() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rev
}

// ack and nack record a stream's answer to a response of revision rev.
func (c *deltaCache) ack(rev uint64) {
	c.mu.Lock()
	c.acked = max(c.acked, rev)
	c.mu.Unlock()
}

func (c *deltaCache) nack(rev uint64) {
	c.mu.Lock()
	c.nacked = max(c.nacked, rev)
	c.mu.Unlock()
}

// servedAt is the revision a new stream is answered as of: the newest
// acknowledged one while a newer one was rejected, else the current one.
func (c *deltaCache) servedAt() uint64 {
	if c.nacked > c.acked && c.acked > 0 && c.acked >= c.logStart {
		return c.acked
	}
	return c.rev
}

// incremental answers a stream up to date with revision w.since: the
// candidates changed since, subscribe names the request just added ("*":
// everything; in a namespaced cache, a name also brings the names under it
// that the stream did not subscribe to one by one), and names
// go-control-plane marked with an empty version (unsubscribed by name from
// a wildcard watch, whose state must be resent).
func (c *deltaCache) incremental(w *deltaWatch, candidates, subscribe []string) *deltaResponse {
	return c.incrementalFrom(w, candidates, c.stateAt(w.since), subscribe)
}

// incrementalFrom is incremental with the resources as of w.since given.
func (c *deltaCache) incrementalFrom(w *deltaWatch, candidates []string, then pastState, subscribe []string) *deltaResponse {
	candidates = candidates[:len(candidates):len(candidates)] // shared: appends must copy
	fresh := map[string]bool{}
	for _, n := range subscribe {
		if n == "*" || c.namespaced {
			named := w.sub.SubscribedResources()
			for name := range c.entries {
				if _, held := named[name]; n == "*" || (namespaceOf(name) == n && !held) {
					fresh[name] = true
					candidates = append(candidates, name)
				}
			}
			if n == "*" {
				continue
			}
		}
		fresh[n] = true
		candidates = append(candidates, n)
	}
	for n, v := range w.sub.ReturnedResources() {
		if v == "" {
			fresh[n] = true
			candidates = append(candidates, n)
		}
	}
	var updated []wired
	var removed []string
	seen := make(map[string]bool, len(candidates))
	for _, name := range candidates {
		if seen[name] || !w.relevant(name) {
			continue
		}
		seen[name] = true
		entry, exists := c.entries[name]
		switch {
		case exists:
			updated = append(updated, entry)
		case fresh[name]:
			if v, marked := w.sub.ReturnedResources()[name]; marked && v == "" {
				removed = append(removed, name)
			}
		default:
			if _, existed := then.get(name); existed {
				removed = append(removed, name)
			}
		}
	}
	return c.response(w, updated, removed, c.rev)
}

// relevant reports whether the stream's subscription covers name.
func (w *deltaWatch) relevant(name string) bool { return covers(w.sub, name, w.namespaced) }

// covers reports whether sub covers the resource name: by name, by its
// namespace when namespaced (see namespaceOf), or as a wildcard.
func covers(sub cachev3.Subscription, name string, namespaced bool) bool {
	if name == revisionKey {
		return false
	}
	if sub.IsWildcard() {
		return true
	}
	subscribed := sub.SubscribedResources()
	if _, ok := subscribed[name]; ok {
		return true
	}
	if ns := namespaceOf(name); namespaced && ns != "" {
		_, ok := subscribed[ns]
		return ok
	}
	return false
}

// full answers a stream's first request, as of revision w.since, from the
// versions it says it has (initial_resource_versions), or from nothing.
func (c *deltaCache) full(w *deltaWatch) *deltaResponse {
	known := w.sub.ReturnedResources()
	if len(known) == 0 && w.since == c.rev {
		subscribed := w.sub.SubscribedResources()
		switch {
		case w.sub.IsWildcard() && len(subscribed) == 0:
			return c.everything(w, "*")
		case w.namespaced && !w.sub.IsWildcard() && len(subscribed) == 1:
			for n := range subscribed {
				return c.everything(w, n)
			}
		}
	}
	then := c.stateAt(w.since)
	var names []string
	if w.sub.IsWildcard() || w.namespaced {
		names = then.names() // relevant picks those a namespace covers
	}
	for n := range w.sub.SubscribedResources() {
		names = append(names, n)
	}
	for n := range known {
		names = append(names, n)
	}
	var updated []wired
	var removed []string
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if seen[name] || name == revisionKey {
			continue
		}
		seen[name] = true
		version, isKnown := known[name]
		entry, exists := then.get(name)
		switch {
		case !w.relevant(name) || !exists:
			if isKnown {
				removed = append(removed, name)
			}
		case !isKnown || version != entry.version:
			updated = append(updated, entry)
		}
	}
	return c.response(w, updated, removed, w.since)
}

// everything answers w with every current resource covered by key: all of
// them for "*", else, in a namespaced cache, the resource called key and
// those under it; each answer of several resources is built and sorted
// once per revision.
func (c *deltaCache) everything(w *deltaWatch, key string) *deltaResponse {
	if c.wholeRev != c.rev {
		c.wholes, c.wholeRev = nil, c.rev
	}
	if r := c.wholes[key].Value(); r != nil {
		return r.forRequest(w.req)
	}
	all := make([]wired, 0, len(c.entries))
	for name, e := range c.entries {
		if key == "*" || name == key || namespaceOf(name) == key {
			all = append(all, e)
		}
	}
	r := c.response(w, all, nil, c.rev)
	if r == nil {
		return nil
	}
	r.framed = frame(r.wires)
	if len(all) == 1 && key != "*" {
		return r // one resource by name: cheap to build, and not kept per name
	}
	if c.wholes == nil {
		c.wholes = map[string]weak.Pointer[deltaResponse]{}
	}
	c.wholes[key] = weak.Make(r)
	return r.forRequest(w.req)
}

// response sorts an answer that brings a stream to revision rev, or
// returns nil when there is nothing to say.
func (c *deltaCache) response(w *deltaWatch, updated []wired, removed []string, rev uint64) *deltaResponse {
	if len(updated) == 0 && len(removed) == 0 {
		return nil
	}
	sort.Slice(updated, func(i, j int) bool { return updated[i].name < updated[j].name })
	sort.Strings(removed)
	return &deltaResponse{req: w.req, removed: removed, rev: rev, resources: placeholders(len(updated), placeholderResource), wires: updated}
}
