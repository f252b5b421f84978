package server

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"runtime"
	"sort"
	"testing"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
)

// fakeStream drives deltaCache the way go-control-plane's delta server
// does: one subscription per type, a watch per request, the response's
// version map stored back into the subscription.
type fakeStream struct {
	c      *deltaCache
	sub    streamv3.Subscription
	out    chan cachev3.DeltaResponse
	cancel func()
	err    error // the last request's, which ends the stream
}

func openStream(c *deltaCache, subscribe []string, initial map[string]string) (*fakeStream, *discoverygrpc.DeltaDiscoveryResponse) {
	s := &fakeStream{c: c, out: make(chan cachev3.DeltaResponse, 8)}
	s.sub = streamv3.NewDeltaSubscription(subscribe, nil, initial, true)
	return s, s.request(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: c.typeURL, ResourceNamesSubscribe: subscribe, InitialResourceVersions: initial})
}

// request sends a request and returns the immediate answer, if any.
func (s *fakeStream) request(req *discoverygrpc.DeltaDiscoveryRequest) *discoverygrpc.DeltaDiscoveryResponse {
	if s.cancel != nil {
		s.cancel() // the server cancels the type's previous watch first
	}
	cancel, err := s.c.createWatch(req, &s.sub, s.out)
	if s.err = err; err != nil {
		s.cancel = nil
		return nil
	}
	s.cancel = cancel
	return s.take()
}

// take returns a pending response, applying it as the server would.
func (s *fakeStream) take() *discoverygrpc.DeltaDiscoveryResponse {
	select {
	case r := <-s.out:
		s.sub.SetReturnedResources(r.GetNextVersionMap())
		m, _ := r.GetDeltaDiscoveryResponse()
		return received(m)
	default:
		return nil
	}
}

// change sends a request that subscribes and unsubscribes names.
func (s *fakeStream) change(subscribe, unsubscribe []string) *discoverygrpc.DeltaDiscoveryResponse {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.sub.UpdateResourceSubscriptions(subscribe, unsubscribe)
	return s.request(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: s.c.typeURL, ResourceNamesSubscribe: subscribe, ResourceNamesUnsubscribe: unsubscribe})
}

func (s *fakeStream) ack() *discoverygrpc.DeltaDiscoveryResponse {
	return s.request(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: s.c.typeURL, ResponseNonce: "n"})
}

func res(name, version string) wired {
	return mustWire(&discoverygrpc.Resource{Name: name, Version: version})
}

// mustWire returns r, of type r.Resource.TypeUrl, as the caches hold it.
func mustWire(r *discoverygrpc.Resource) wired {
	return newWired(r.GetResource().GetTypeUrl(), r.GetName(), snapshot.Encoding{Head: r.GetResource().GetValue(), Version: r.GetVersion()})
}

// snapshot returns the version of every resource and the cache revision.
func (c *deltaCache) snapshot() (map[string]string, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.entries))
	for n, e := range c.entries {
		out[n] = e.version
	}
	return out, c.rev
}

// summary renders a response as "name@version …" and "-removed …".
func summary(r *discoverygrpc.DeltaDiscoveryResponse) []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, x := range r.GetResources() {
		out = append(out, x.GetName()+"@"+x.GetVersion())
	}
	for _, n := range r.GetRemovedResources() {
		out = append(out, "-"+n)
	}
	return out
}

func expect(t *testing.T, step string, got *discoverygrpc.DeltaDiscoveryResponse, want ...string) {
	t.Helper()
	if g := summary(got); !reflect.DeepEqual(g, want) && !(len(g) == 0 && len(want) == 0) {
		t.Errorf("%s: got %v, want %v", step, g, want)
	}
}

func TestDeltaCacheWildcard(t *testing.T) {
	c := newDeltaCache("t")
	c.update([]wired{res("b", "1"), res("a", "1"), res("c", "1")}, nil)
	s, first := openStream(c, []string{"*"}, nil)
	expect(t, "initial", first, "a@1", "b@1", "c@1")
	expect(t, "ack", s.ack())
	c.update([]wired{res("b", "2")}, nil)
	expect(t, "one change", s.take(), "b@2")
	expect(t, "ack after change", s.ack())
	c.update([]wired{res("b", "2")}, nil) // same version: nothing to send
	expect(t, "unchanged", s.take())
	c.update(nil, []string{"c"})
	expect(t, "removal", s.take(), "-c")
	expect(t, "ack after removal", s.ack())
	// Changes while the client has not yet ACKed arrive with the ACK.
	c.update([]wired{res("a", "2")}, nil)
	expect(t, "a changes", s.take(), "a@2")
	c.update([]wired{res("d", "1")}, []string{"b"})
	expect(t, "no watch open: nothing pushed", s.take())
	expect(t, "the ACK collects what changed meanwhile", s.ack(), "d@1", "-b")
}

func TestDeltaCacheNamedSubscription(t *testing.T) {
	c := newDeltaCache("t")
	c.update([]wired{res("a", "1"), res("b", "1")}, nil)
	s, first := openStream(c, []string{"a"}, nil)
	expect(t, "initial", first, "a@1")
	expect(t, "ack", s.ack())
	c.update([]wired{res("b", "2")}, nil)
	expect(t, "unsubscribed change", s.take())
	// Subscribing to b and to a name that does not exist yet.
	expect(t, "subscribe b, z", s.change([]string{"b", "z"}, nil), "b@2")
	expect(t, "ack", s.ack())
	c.update([]wired{res("z", "1")}, nil)
	expect(t, "z appears", s.take(), "z@1")
	expect(t, "ack", s.ack())
	// Unsubscribing then subscribing again resends the resource.
	expect(t, "unsubscribe a", s.change(nil, []string{"a"}))
	expect(t, "subscribe a again", s.change([]string{"a"}, nil), "a@1")
}

// TestDeltaCacheNamespaces: in the VirtualHost cache a subscribed name
// covers the names under it, whether subscribed first or later (streams
// subscribing to one namespace share its first answer); other caches read
// names whole.
func TestDeltaCacheNamespaces(t *testing.T) {
	c := newDeltaCache(resourcev3.VirtualHostType)
	c.update([]wired{res("rc/a", "1"), res("rc/b", "1"), res("other/a", "1")}, nil)
	s, first := openStream(c, []string{"rc"}, nil)
	expect(t, "initial", first, "rc/a@1", "rc/b@1")
	expect(t, "ack", s.ack())
	_, again := openStream(c, []string{"rc"}, nil)
	expect(t, "another stream", again, "rc/a@1", "rc/b@1")
	if shared := c.wholes["rc"].Value(); shared == nil || len(c.wholes) != 1 {
		t.Fatalf("the namespace's first answer is not shared: %v", c.wholes)
	}
	c.update([]wired{res("rc/c", "1"), res("other/b", "1")}, []string{"rc/a"})
	expect(t, "a host added, one removed", s.take(), "rc/c@1", "-rc/a")
	expect(t, "ack", s.ack())
	late, first := openStream(c, []string{"other/a"}, nil)
	expect(t, "one host", first, "other/a@1")
	expect(t, "ack", late.ack())
	expect(t, "its namespace later", late.change([]string{"other"}, nil), "other/b@1")
	// A VHDS stream reconnecting with the versions it holds gets what
	// changed under its namespace, and the removal of what is gone.
	_, first = openStream(c, []string{"rc"}, map[string]string{"rc/b": "1", "rc/gone": "1"})
	expect(t, "reconnect", first, "rc/c@1", "-rc/gone")
	plain := newDeltaCache("t")
	plain.update([]wired{res("rc/a", "1")}, nil)
	_, first = openStream(plain, []string{"rc"}, nil)
	expect(t, "not namespaced", first)
}

func TestDeltaCacheReconnectWithVersions(t *testing.T) {
	c := newDeltaCache("t")
	c.update([]wired{res("a", "1"), res("b", "2"), res("c", "1")}, nil)
	// The client had a@1, b@1 and gone@1: b is stale and gone no longer exists.
	_, first := openStream(c, []string{"*"}, map[string]string{"a": "1", "b": "1", "gone": "1"})
	expect(t, "reconnect", first, "b@2", "c@1", "-gone")
	_, same := openStream(c, []string{"*"}, map[string]string{"a": "1", "b": "2", "c": "1"})
	expect(t, "reconnect up to date", same)
}

func TestDeltaCacheLogCompaction(t *testing.T) {
	c := newDeltaCache("t")
	c.update([]wired{res("a", "0")}, nil)
	s, _ := openStream(c, []string{"*"}, nil)
	late, _ := openStream(c, []string{"*"}, nil)
	expect(t, "ack", s.ack())
	// late never ACKs while thousands of changes go by and the log is compacted.
	for i := 1; i <= 3*maxLogFloor; i++ {
		c.update([]wired{res(fmt.Sprintf("n%05d", i%7), fmt.Sprint(i))}, nil)
		s.take()
		s.ack()
	}
	if c.logStart == 0 {
		t.Fatal("the log was never compacted")
	}
	var want []string
	for i := 0; i < 7; i++ {
		last := 3*maxLogFloor - (3*maxLogFloor-i)%7
		want = append(want, fmt.Sprintf("n%05d@%d", i, last))
	}
	if late.ack(); late.err != errLagging {
		t.Fatalf("the late client's ACK after compaction: error %v, want %v", late.err, errLagging)
	}
	// Envoy reconnects with the versions it has and gets what changed.
	_, again := openStream(c, []string{"*"}, map[string]string{"a": "0"})
	expect(t, "the late client reconnects", again, want...)
	expect(t, "the prompt client is up to date", s.ack())
}

// A stream's state in the cache is one revision, whatever it holds.
func TestDeltaStreamStateIsOneRevision(t *testing.T) {
	c := newDeltaCache("t")
	var many []wired
	for i := range 1000 {
		many = append(many, res(fmt.Sprintf("r%04d", i), "1"))
	}
	c.update(many, nil)
	s, first := openStream(c, []string{"*"}, nil)
	if len(first.GetResources()) != 1000 {
		t.Fatalf("initial response has %d resources", len(first.GetResources()))
	}
	c.update([]wired{res("r0001", "2")}, nil)
	s.ack()
	if got := s.sub.ReturnedResources(); len(got) != 1 {
		t.Errorf("the stream's version map has %d entries, want the revision only", len(got))
	}
}

func TestDeltaCacheShortLivedAndUnsubscribed(t *testing.T) {
	c := newDeltaCache("t")
	c.update([]wired{res("a", "1"), res("b", "1")}, nil)
	s, _ := openStream(c, []string{"*"}, nil)
	c.update([]wired{res("tmp", "1")}, nil) // created and deleted before the client asks again
	c.update(nil, []string{"tmp", "b"})
	expect(t, "only b is news", s.ack(), "-b")
	// A wildcard watch that also names a resource and unsubscribes the name
	// asks for its state again (the protocol's rule).
	expect(t, "a named too", s.change([]string{"a"}, nil), "a@1")
	expect(t, "a is resent", s.change(nil, []string{"a"}), "a@1")
	s.ack()
	s.change([]string{"a"}, nil)
	c.update(nil, []string{"a"})
	s.take()
	s.ack()
	expect(t, "gone, then unsubscribed by name", s.change(nil, []string{"a"}), "-a")
}

// modelClient is what a client holds, by its own account, and what it
// subscribes to.
type modelClient struct {
	s        *fakeStream
	holds    map[string]string
	wildcard bool
	named    map[string]bool
}

// apply updates the holdings as the client does with a response.
func (cl *modelClient) apply(r *discoverygrpc.DeltaDiscoveryResponse) {
	for _, x := range r.GetResources() {
		cl.holds[x.GetName()] = x.GetVersion()
	}
	for _, n := range r.GetRemovedResources() {
		delete(cl.holds, n)
	}
}

// connect opens a new stream with what the client holds.
func (cl *modelClient) connect(c *deltaCache) {
	var sub []string
	if cl.wildcard {
		sub = []string{"*"}
	}
	for n := range cl.named {
		sub = append(sub, n)
	}
	if len(sub) == 0 {
		return // an empty first request would mean wildcard (legacy)
	}
	sort.Strings(sub)
	var first *discoverygrpc.DeltaDiscoveryResponse
	cl.s, first = openStream(c, sub, maps.Clone(cl.holds))
	cl.apply(first)
}

// toggle subscribes to n, or unsubscribes (dropping n unless wildcard).
func (cl *modelClient) toggle(n string) {
	if cl.named[n] {
		delete(cl.named, n)
		if !cl.wildcard {
			delete(cl.holds, n) // Envoy drops what it no longer subscribes to
		}
		cl.apply(cl.s.change(nil, []string{n}))
		return
	}
	cl.named[n] = true
	cl.apply(cl.s.change([]string{n}, nil))
}

// settle ACKs until nothing more comes and checks the holdings.
func (cl *modelClient) settle(t *testing.T, c *deltaCache, where string) {
	t.Helper()
	for r := cl.s.ack(); r != nil; r = cl.s.ack() {
		cl.apply(r)
	}
	if cl.s.err != nil {
		t.Fatalf("%s: %v", where, cl.s.err)
	}
	current, _ := c.snapshot()
	want := map[string]string{}
	for name, v := range current {
		if cl.wildcard || cl.named[name] {
			want[name] = v
		}
	}
	if !reflect.DeepEqual(cl.holds, want) {
		t.Fatalf("%s: a client (wildcard %v, names %v) holds %v, want %v", where, cl.wildcard, cl.named, cl.holds, want)
	}
}

// TestDeltaCacheAgainstModel drives streams with random changes,
// subscriptions, ACKs and reconnections, applying every answer to a model
// of what the client holds: after each answer the client must hold exactly
// the current version of every resource it subscribes to.
func TestDeltaCacheAgainstModel(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		c := newDeltaCache("t")
		clients := []*modelClient{
			{wildcard: true, named: map[string]bool{}},
			{named: map[string]bool{"a": true, "c": true}},
			{wildcard: true, named: map[string]bool{"b": true}},
		}
		for _, cl := range clients {
			cl.holds = map[string]string{}
			cl.connect(c)
		}
		for step := 0; step < 300; step++ {
			n := names[rng.Intn(len(names))]
			cl := clients[rng.Intn(len(clients))]
			switch rng.Intn(6) {
			case 0, 1:
				c.update([]wired{res(n, fmt.Sprint(rng.Intn(4)))}, nil)
			case 2:
				c.update(nil, []string{n})
			case 3:
				cl.apply(cl.s.ack())
			case 4:
				cl.toggle(n)
			case 5:
				cl.connect(c)
			}
			for _, other := range clients {
				for r := other.s.take(); r != nil; r = other.s.take() {
					other.apply(r)
				}
			}
			for _, x := range clients {
				x.settle(t, c, fmt.Sprintf("seed %d step %d", seed, step))
			}
		}
	}
}

// After a NACK, new streams are answered as of the last revision a stream
// accepted, then offered the newer one like everybody else.
func TestDeltaCacheNewStreamsGetTheAcceptedRevision(t *testing.T) {
	c := newDeltaCache("t")
	c.update([]wired{res("a", "1"), res("b", "1")}, nil)
	s, first := openStream(c, []string{"*"}, nil)
	expect(t, "first stream", first, "a@1", "b@1")
	expect(t, "its ACK", s.ack())
	c.ack(1)
	c.update([]wired{res("a", "2"), res("c", "1")}, []string{"b"})
	expect(t, "the change", s.take(), "a@2", "c@1", "-b")
	c.nack(2)
	late, got := openStream(c, []string{"*"}, nil)
	expect(t, "a new stream after the NACK", got, "a@1", "b@1")
	expect(t, "its ACK brings the newer revision", late.ack(), "a@2", "c@1", "-b")
	named, got := openStream(c, []string{"a", "c"}, nil)
	expect(t, "a named stream after the NACK", got, "a@1")
	expect(t, "and its ACK", named.ack(), "a@2", "c@1")
	resumed, got := openStream(c, []string{"*"}, map[string]string{"a": "1", "b": "1"})
	expect(t, "a stream that has the accepted revision", got)
	c.update([]wired{res("d", "1")}, nil)
	expect(t, "it gets everything since", resumed.take(), "a@2", "c@1", "d@1", "-b")
	c.ack(3)
	_, got = openStream(c, []string{"*"}, nil)
	expect(t, "once a newer revision is accepted", got, "a@2", "c@1", "d@1")
}

// The log is still compacted when a NACK came before any ACK, and when a
// rejected revision stays unfixed for a long time (new streams then get the
// current set again).
func TestDeltaCacheCompactsDespiteNACKs(t *testing.T) {
	for _, acked := range []uint64{0, 1} {
		c := newDeltaCache("t")
		c.update([]wired{res("a", "0")}, nil)
		if acked > 0 {
			c.ack(acked)
		}
		c.nack(1)
		for i := 1; i <= 20*maxLogFloor; i++ {
			c.update([]wired{res(fmt.Sprintf("n%d", i%7), fmt.Sprint(i))}, nil)
		}
		if c.logStart == 0 {
			t.Errorf("acked %d: the log was never compacted", acked)
		}
		if got := c.servedAt(); got != c.rev {
			t.Errorf("acked %d: new streams are served revision %d of %d", acked, got, c.rev)
		}
	}
}

// The log is also bounded in bytes: a resource of 64 KB changed a thousand
// times (far fewer changes than the count that compacts) leaves at most
// about logByteFloor of its earlier encodings in the log, and a prompt
// stream keeps up.
func TestDeltaCacheLogBytesBounded(t *testing.T) {
	c := newDeltaCache("t")
	big := func(i int) wired {
		return mustWire(&discoverygrpc.Resource{Name: "big", Version: fmt.Sprint(i),
			Resource: &anypb.Any{TypeUrl: "t", Value: bytes.Repeat([]byte{byte(i)}, 64<<10)}})
	}
	c.update([]wired{big(0)}, nil)
	s, _ := openStream(c, []string{"*"}, nil)
	s.ack()
	for i := 1; i <= 1000; i++ {
		c.update([]wired{big(i)}, nil)
		if got := summary(s.take()); len(got) != 1 || got[0] != fmt.Sprintf("big@%d", i) {
			t.Fatalf("change %d: the stream got %v", i, got)
		}
		s.ack()
	}
	if c.logStart == 0 {
		t.Fatal("the log was never compacted")
	}
	if limit := logByteFloor + 2*(64<<10+logEntryCost); c.logBytes > limit {
		t.Errorf("the log holds %d bytes, want at most %d", c.logBytes, limit)
	}
	var sum int
	for _, e := range c.log {
		sum += logEntryCost + e.prev.owned()
	}
	if sum != c.logBytes {
		t.Errorf("the log's byte count is %d, its entries add up to %d", c.logBytes, sum)
	}
}

// TestDeltaCacheEmptyStart: a stream that holds nothing and subscribes to
// everything, or to a namespace, is answered at once even when there is
// nothing to send (Envoy waits for that answer while starting), and a
// stream that subscribed before the first revision gets that revision's
// resources.
func TestDeltaCacheEmptyStart(t *testing.T) {
	for _, c := range []struct {
		typ, sub, name string
	}{{"t", "*", "a"}, {resourcev3.VirtualHostType, "rc", "rc/a"}} {
		cache := newDeltaCache(c.typ)
		s, first := openStream(cache, []string{c.sub}, nil)
		if first == nil || len(first.GetResources()) != 0 {
			t.Fatalf("%s: the first answer to an empty cache: %v", c.typ, first)
		}
		expect(t, c.typ+": its ACK", s.ack())
		cache.update([]wired{res(c.name, "1")}, nil)
		expect(t, c.typ+": the first revision", s.take(), c.name+"@1")
	}
	// A named subscription to what does not exist waits.
	cache := newDeltaCache("t")
	if _, first := openStream(cache, []string{"a"}, nil); first != nil {
		t.Fatalf("a named subscription was answered with %v", first)
	}
}

// firstAnswer opens a wildcard stream on c and returns its first answer as
// the cache built it, before the stream would turn it into a message.
func firstAnswer(t *testing.T, c *deltaCache) *deltaResponse {
	t.Helper()
	out := make(chan cachev3.DeltaResponse, 1)
	sub := streamv3.NewDeltaSubscription([]string{"*"}, nil, nil, true)
	cancel, err := c.createWatch(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: c.typeURL, ResourceNamesSubscribe: []string{"*"}}, &sub, out)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	select {
	case r := <-out:
		return r.(*deltaResponse)
	default:
		t.Fatal("no first answer")
		return nil
	}
}

// TestDeltaCacheSharedAnswersHeldWeakly: streams connecting at the same
// revision share one sorted and framed answer while any of them still holds
// it; once none does it is collected, and the next stream's answer is built
// again, the same.
func TestDeltaCacheSharedAnswersHeldWeakly(t *testing.T) {
	c := newDeltaCache("t")
	c.update([]wired{res("b", "1"), res("a", "1")}, nil)
	first, second := firstAnswer(t, c), firstAnswer(t, c)
	if len(first.framed) == 0 || len(second.framed) == 0 || &first.framed[0][0] != &second.framed[0][0] {
		t.Fatal("two streams' first answers do not share their framing")
	}
	runtime.GC()
	if c.wholes["*"].Value() == nil {
		t.Fatal("the shared answer was collected while streams still hold copies of it")
	}
	runtime.KeepAlive(first)
	runtime.KeepAlive(second)
	first, second = nil, nil
	runtime.GC()
	if c.wholes["*"].Value() != nil {
		t.Fatal("the shared answer is kept after every stream let go of it")
	}
	third := firstAnswer(t, c)
	if shared := c.wholes["*"].Value(); shared == nil || shared == third {
		t.Fatal("the answer built again is not shared, or is sent itself")
	}
	m, err := third.GetDeltaDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "answer built again", received(m), "a@1", "b@1")
	// A stream's goroutine may keep its last response for long: once its
	// message is built, the response holds none of the shared answer.
	if third.origin != nil || third.framed != nil || third.wires != nil || third.resources != nil {
		t.Error("a response still holds the shared answer once its message is built")
	}
	if got := third.GetNextVersionMap()[revisionKey]; got != "1" {
		t.Errorf("the response's version map after its message: %q, want revision 1", got)
	}
}
