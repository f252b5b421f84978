package server

import (
	"cmp"
	"context"
	"hash/maphash"
	"sort"
	"strconv"
	"strings"
	"weak"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// State-of-the-world streams are served by deltaCache too, from the same
// entries, encodings and change log as incremental ones, so that what a
// stream costs does not grow with the resources it holds:
//
//   - A stream's state is one mark in its subscription's returned
//     resources: the revision of its last answer and a digest of the names
//     it subscribed to then. The streams of sotwStreams keep the mark as
//     it is, under revisionKey. Subscriptions of go-control-plane's own
//     handler (still behind splitCache.CreateWatch) drop the entries of
//     names a request no longer names, so there a named stream's mark sits
//     on a name it subscribes to (the smallest). A stream whose mark is
//     gone is answered as a new one.
//   - Names a request adds are found by comparing its subscription with
//     the one the digest stands for: the subscriptions of the last streams
//     answered are kept by digest (all Envoys of a fleet ask for the same
//     names). When that subscription is no longer known, everything
//     subscribed to is sent again, which the protocol allows.
//   - An answer is written from the resources' shared encodings (see
//     wired.sotwPieces), and the answer every stream with the same
//     subscription gets at a revision is framed once for all of them.
//
// Listeners and clusters are answered whole (every resource subscribed to,
// as the protocol requires: what is missing is deleted); the other types
// with what changed or was newly asked for, and never with a deletion,
// which the protocol cannot say for them.

// sotwWatch is one state-of-the-world request waiting for a change.
type sotwWatch struct {
	req    *cachev3.Request
	sub    cachev3.Subscription
	out    chan cachev3.Response
	since  uint64 // the revision the stream is up to date with
	digest uint64 // of the names subscribed to (0 for a wildcard)
	anchor string // where the mark goes
	whole  bool   // answers hold every resource subscribed to (listeners, clusters)
}

// rememberedSubscriptions bounds the subscriptions kept by digest (an
// Envoy's endpoint subscription names every cluster: about 1 MB at S10k),
// and sharedAnswers the whole answers framed at the current revision (as
// big as the answer, less its big pieces). Envoys of one fleet ask for
// the same names; a few sets more cover a fleet in the middle of a change.
const (
	rememberedSubscriptions = 16
	sharedAnswers           = 4
)

// sotwSubscriptions maps digests to the subscriptions they stand for.
type sotwSubscriptions map[uint64]map[string]struct{}

// createSotwWatch answers at once when the stream lacks something, and
// otherwise waits for a change.
func (c *deltaCache) createSotwWatch(req *cachev3.Request, sub cachev3.Subscription, out chan cachev3.Response) (func(), error) {
	// The watch keeps the request without its names: Envoy names every
	// cluster in each request for endpoints, and the subscription holds
	// them already.
	short := &discoverygrpc.DiscoveryRequest{VersionInfo: req.GetVersionInfo(), Node: req.GetNode(), TypeUrl: req.GetTypeUrl(),
		ResponseNonce: req.GetResponseNonce(), ErrorDetail: req.GetErrorDetail()}
	w := &sotwWatch{req: short, sub: sub, out: out, whole: cachev3.ResourceRequiresFullStateInSotw(c.typeURL)}
	w.digest, w.anchor = c.digestOf(sub) // before locking: it reads every name
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subscribedEarly = c.subscribedEarly || c.rev == 0
	c.remember(w.digest, sub)
	var resp *sotwResponse
	if rev, digest, ok := markOf(sub); ok && rev >= c.logStart && rev <= c.rev {
		w.since = rev
		fresh, known := c.freshNames(w, digest)
		resp = c.sotwIncremental(w, c.changedSince(rev), fresh, known, digest != w.digest)
	} else {
		w.since = c.servedAt()
		resp = c.sotwFirst(w)
	}
	if resp != nil {
		out <- resp
		return func() {}, nil
	}
	c.sotw[w] = struct{}{}
	return func() {
		c.mu.Lock()
		delete(c.sotw, w)
		c.mu.Unlock()
	}, nil
}

// namesDigest is the digest of n names whose hashes sum to sum: never 0,
// which stands for a wildcard (so that asking for no name is not taken for
// asking for all).
func namesDigest(sum uint64, n int) uint64 {
	return (sum + uint64(n)*0x9e3779b97f4a7c15) | 1
}

// digestOf returns the digest of sub's names (0 for a wildcard), as
// sotwNames gives it for the same names, and where its mark goes.
func (c *deltaCache) digestOf(sub cachev3.Subscription) (uint64, string) {
	if sub.IsWildcard() {
		return 0, revisionKey
	}
	if d, ok := sub.(interface{ namesDigest() uint64 }); ok {
		return d.namesDigest(), revisionKey // a stream of sotwStreams: nothing drops its mark
	}
	var sum uint64
	anchor := ""
	for name := range sub.SubscribedResources() {
		sum += maphash.String(sotwNames.seed, name)
		if anchor == "" || name < anchor {
			anchor = name
		}
	}
	if anchor == "" {
		anchor = revisionKey // subscribed to nothing: the mark does not last, and nothing is sent
	}
	return namesDigest(sum, len(sub.SubscribedResources())), anchor
}

// remember keeps sub's names under digest.
func (c *deltaCache) remember(digest uint64, sub cachev3.Subscription) {
	if sub.IsWildcard() {
		return
	}
	if _, ok := c.sotwSubs[digest]; ok {
		return
	}
	if len(c.sotwSubs) >= rememberedSubscriptions {
		clear(c.sotwSubs)
	}
	c.sotwSubs[digest] = sub.SubscribedResources() // go-control-plane replaces it, never changes it
}

// freshNames returns the names w subscribes to that the subscription of
// digest did not (digest 0: a wildcard, which asked for every name), and
// whether it could tell (false: treat every name as new).
func (c *deltaCache) freshNames(w *sotwWatch, digest uint64) ([]string, bool) {
	if digest == w.digest || digest == 0 { // unchanged, or everything was asked for
		return nil, true
	}
	before, ok := c.sotwSubs[digest]
	if !ok {
		return nil, false
	}
	var fresh []string
	add := func(name string) {
		if _, had := before[name]; !had {
			fresh = append(fresh, name)
		}
	}
	if w.sub.IsWildcard() {
		for name := range c.entries {
			add(name)
		}
	} else {
		for name := range w.sub.SubscribedResources() {
			add(name)
		}
	}
	return fresh, true
}

// mark returns the returned resources an answer at rev leaves w with.
func (w *sotwWatch) mark(rev uint64) map[string]string {
	return map[string]string{w.anchor: "s" + strconv.FormatUint(rev, 10) + ":" + strconv.FormatUint(w.digest, 16)}
}

// markOf reads a stream's mark.
func markOf(sub cachev3.Subscription) (rev, digest uint64, ok bool) {
	for _, v := range sub.ReturnedResources() {
		rest, isMark := strings.CutPrefix(v, "s")
		r, d, found := strings.Cut(rest, ":")
		if !isMark || !found {
			continue
		}
		rev, err1 := strconv.ParseUint(r, 10, 64)
		digest, err2 := strconv.ParseUint(d, 16, 64)
		if err1 == nil && err2 == nil {
			return rev, digest, true
		}
	}
	return 0, 0, false
}

// relevant reports whether w's subscription covers name.
func (w *sotwWatch) relevant(name string) bool { return covers(w.sub, name, false) }

// sotwFirst answers a stream that holds nothing from this cache, as of
// w.since: everything it subscribes to. An empty answer is sent when the
// client says it has nothing, or, for whole answers, holds what another
// server sent (so that it deletes it).
func (c *deltaCache) sotwFirst(w *sotwWatch) *sotwResponse {
	_, ours := c.sotwRevision(w.req.GetVersionInfo())
	evenIfEmpty := w.req.GetVersionInfo() == "" || (w.whole && !ours)
	if !w.sub.IsWildcard() && len(w.sub.SubscribedResources()) == 0 {
		evenIfEmpty = w.req.GetVersionInfo() == ""
	}
	return c.sotwEverything(w, w.since, evenIfEmpty)
}

// sotwIncremental answers a stream up to date with w.since, given the
// names changed since and, when its subscription changed since its last
// answer (resubscribed), the names it added (known false: unknown). A
// changed subscription is always answered, if need be with nothing: the
// answer's mark records it, so that a name dropped then asked for again
// is sent again.
func (c *deltaCache) sotwIncremental(w *sotwWatch, changed []string, fresh []string, known, resubscribed bool) *sotwResponse {
	if !known {
		return c.sotwEverything(w, c.rev, true)
	}
	if w.whole {
		if resubscribed {
			return c.sotwEverything(w, c.rev, true)
		}
		for _, n := range changed {
			if w.relevant(n) {
				return c.sotwEverything(w, c.rev, true)
			}
		}
		return nil
	}
	var updated []wired
	seen := make(map[string]bool, len(changed)+len(fresh))
	for _, list := range [][]string{changed, fresh} {
		for _, n := range list {
			if seen[n] || !w.relevant(n) {
				continue
			}
			seen[n] = true
			if e, ok := c.entries[n]; ok {
				updated = append(updated, e)
			}
		}
	}
	if len(updated) == 0 && !resubscribed {
		return nil
	}
	return c.sotwAnswer(w, updated, c.rev)
}

// sotwEverything answers w with every resource it subscribes to as of
// rev; nil when there is none, unless evenIfEmpty. The answer at the
// current revision is shared by every stream with the same subscription.
func (c *deltaCache) sotwEverything(w *sotwWatch, rev uint64, evenIfEmpty bool) *sotwResponse {
	shared := rev == c.rev
	if shared {
		if r := c.sotwShared[w.digest].Value(); r != nil && (len(r.wires) > 0 || evenIfEmpty) {
			return r.forWatch(w)
		}
	}
	then := c.stateAt(rev)
	var names []string
	if w.sub.IsWildcard() {
		names = then.names()
	} else {
		names = make([]string, 0, len(w.sub.SubscribedResources()))
		for n := range w.sub.SubscribedResources() {
			names = append(names, n)
		}
	}
	var updated []wired
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] || !w.relevant(n) {
			continue
		}
		seen[n] = true
		if e, ok := then.get(n); ok {
			updated = append(updated, e)
		}
	}
	if len(updated) == 0 && !evenIfEmpty {
		return nil
	}
	r := c.sotwAnswer(w, updated, rev)
	if shared {
		if c.sotwShared == nil {
			c.sotwShared = map[uint64]weak.Pointer[sotwResponse]{}
		}
		if len(c.sotwShared) >= sharedAnswers {
			c.dropCollectedSotW()
		}
		if len(c.sotwShared) < sharedAnswers {
			r.framed = frameSotW(r.wires)
			c.sotwShared[w.digest] = weak.Make(r)
			return r.forWatch(w) // the shared answer itself is never sent
		}
	}
	return r
}

// dropCollectedSotW forgets the shared answers no stream holds any more.
func (c *deltaCache) dropCollectedSotW() {
	for digest, p := range c.sotwShared {
		if p.Value() == nil {
			delete(c.sotwShared, digest)
		}
	}
}

// sotwAnswer sorts an answer that brings w to revision rev.
func (c *deltaCache) sotwAnswer(w *sotwWatch, updated []wired, rev uint64) *sotwResponse {
	sort.Slice(updated, func(i, j int) bool { return updated[i].name < updated[j].name })
	return &sotwResponse{req: w.req, rev: rev, version: c.sotwVersion(rev), wires: updated,
		resources: placeholders(len(updated), placeholderAny), returned: w.mark(rev)}
}

// answerSotW answers the open state-of-the-world watches a change
// concerns; since gives what changed after a revision (shared by the
// watches up to date with it).
//
// Watches up to date with the same revision and subscribed to the same
// names get the same answer: it is built once.
func (c *deltaCache) answerSotW(since func(uint64) sinceView) {
	type key struct{ since, digest uint64 }
	shared := map[key]*sotwResponse{}
	for w := range c.sotw {
		k := key{w.since, w.digest}
		r, ok := shared[k]
		if !ok {
			r = c.sotwIncremental(w, since(w.since).names, nil, true, false)
			shared[k] = r
		}
		if r != nil {
			delete(c.sotw, w)
			// Each watch gets its own copy (see GetDiscoveryResponse); the
			// stream holds at most one watch per type: its buffer has room.
			w.out <- r.forWatch(w)
		}
	}
}

// sotwVersion is the version_info of an answer at rev: the revision and
// the cache's epoch, so that a version another server (or an earlier run
// of this one) sent is never taken for one of this cache's.
func (c *deltaCache) sotwVersion(rev uint64) string {
	return strconv.FormatUint(rev, 10) + "." + c.epoch
}

// sotwRevision reads the revision of one of this cache's versions.
func (c *deltaCache) sotwRevision(v string) (uint64, bool) {
	r, epoch, ok := strings.Cut(v, ".")
	if !ok || epoch != c.epoch {
		return 0, false
	}
	rev, err := strconv.ParseUint(r, 10, 64)
	return rev, err == nil
}

// sotwResponse is one state-of-the-world answer.
type sotwResponse struct {
	req       *cachev3.Request
	resources []*anypb.Any
	wires     []wired  // resources with their encodings, shared by every stream
	framed    [][]byte // all of them framed, for an answer shared by many streams
	rev       uint64
	version   string
	returned  map[string]string
	// origin is the shared answer this one is a copy of (forWatch), kept
	// alive by it: the cache holds shared answers weakly (see
	// deltaCache.wholes).
	origin *sotwResponse
}

// forWatch returns r for another watch with the same subscription.
func (r *sotwResponse) forWatch(w *sotwWatch) *sotwResponse {
	out := *r
	out.req, out.returned, out.origin = w.req, w.mark(r.rev), cmp.Or(r.origin, r)
	return &out
}

// GetDiscoveryResponse returns a new message sharing the resources, and
// hands their encodings to wireCodec for when the stream sends it. It is
// called once per response, which then lets go of its resources as
// GetDeltaDiscoveryResponse does.
func (r *sotwResponse) GetDiscoveryResponse() (*discoverygrpc.DiscoveryResponse, error) {
	msg := &discoverygrpc.DiscoveryResponse{VersionInfo: r.version, Resources: r.resources, TypeUrl: r.req.GetTypeUrl()}
	if len(r.resources) > 0 {
		preEncoded.Store(msg, encodedResources{wires: r.wires, framed: r.framed, sotw: true})
	}
	r.resources, r.wires, r.framed, r.origin = nil, nil, nil, nil
	return msg, nil
}

// GetRequest returns the request the watch answered.
func (r *sotwResponse) GetRequest() *discoverygrpc.DiscoveryRequest { return r.req }

// GetVersion returns the answer's version.
func (r *sotwResponse) GetVersion() (string, error) { return r.version, nil }

// GetResponseVersion returns the answer's version.
func (r *sotwResponse) GetResponseVersion() string { return r.version }

// GetReturnedResources returns the stream's mark (see deltaCache): a new
// map, which go-control-plane keeps and edits.
func (r *sotwResponse) GetReturnedResources() map[string]string { return r.returned }

// GetContext returns a background context.
func (r *sotwResponse) GetContext() context.Context { return context.Background() }
