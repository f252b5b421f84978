package server

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// fakeSotW drives deltaCache the way go-control-plane's state-of-the-world
// server does: one subscription per type, set from each request's names;
// the previous watch cancelled before a new one; the answer's returned
// resources stored back into the subscription.
type fakeSotW struct {
	c       *deltaCache
	sub     streamv3.Subscription
	out     chan cachev3.Response
	cancel  func()
	names   []string
	version string // of the last answer, which the next request carries
}

// openSotW opens a stream asking for names (none: legacy wildcard) and
// returns its first answer.
func openSotW(c *deltaCache, names []string) (*fakeSotW, *discoverygrpc.DiscoveryResponse) {
	return openSotWAt(c, names, "")
}

// openSotWAt is openSotW for a client that says it holds version.
func openSotWAt(c *deltaCache, names []string, version string) (*fakeSotW, *discoverygrpc.DiscoveryResponse) {
	s := &fakeSotW{c: c, out: make(chan cachev3.Response, 1), names: names, version: version}
	s.sub = streamv3.NewSotwSubscription(names, true)
	return s, s.request()
}

// request asks again with the stream's names and version.
func (s *fakeSotW) request() *discoverygrpc.DiscoveryResponse {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	req := &discoverygrpc.DiscoveryRequest{TypeUrl: s.c.typeURL, ResourceNames: s.names, VersionInfo: s.version}
	cancel, err := s.c.createSotwWatch(req, s.sub, s.out)
	if err != nil {
		panic(err)
	}
	s.cancel = cancel
	return s.take()
}

// ask changes the names asked for.
func (s *fakeSotW) ask(names ...string) *discoverygrpc.DiscoveryResponse {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.names = names
	s.sub.SetResourceSubscription(names)
	return s.request()
}

// take returns a pending answer, applying it as the server does.
func (s *fakeSotW) take() *discoverygrpc.DiscoveryResponse {
	select {
	case r := <-s.out:
		s.sub.SetReturnedResources(r.GetReturnedResources())
		m, err := r.GetDiscoveryResponse()
		if err != nil {
			panic(err)
		}
		s.version = m.GetVersionInfo()
		return received(m)
	default:
		return nil
	}
}

// sotwRes is a resource whose value is its name (field 1, as every type
// served has) and version.
func sotwRes(name, version string) wired {
	v := append([]byte{0x0a, byte(len(name))}, name...)
	v = append(v, 0x12, byte(len(version)))
	v = append(v, version...)
	return mustWire(&discoverygrpc.Resource{Name: name, Version: version, Resource: &anypb.Any{TypeUrl: "t", Value: v}})
}

// sotwSummary renders an answer as "name@version …"; nil for no answer.
func sotwSummary(r *discoverygrpc.DiscoveryResponse) []string {
	if r == nil {
		return nil
	}
	out := []string{}
	for _, a := range r.GetResources() {
		v := a.GetValue()
		name := string(v[2 : 2+v[1]])
		out = append(out, name+"@"+string(v[4+v[1]:]))
	}
	return out
}

func expectSotW(t *testing.T, step string, got *discoverygrpc.DiscoveryResponse, want ...string) {
	t.Helper()
	g := sotwSummary(got)
	if want == nil {
		if g != nil {
			t.Errorf("%s: got an answer %v, want none", step, g)
		}
		return
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("%s: got %v, want %v", step, g, want)
	}
}

// Listeners and clusters: every answer holds every resource; a deletion
// is an answer without it; an ACK of the current state waits.
func TestSotWWholeAnswers(t *testing.T) {
	c := newDeltaCache(resourcev3.ClusterType)
	c.update([]wired{sotwRes("a", "1"), sotwRes("b", "1")}, nil)
	s, first := openSotW(c, nil)
	expectSotW(t, "first", first, "a@1", "b@1")
	expectSotW(t, "ACK", s.request())
	c.update([]wired{sotwRes("b", "2")}, nil)
	expectSotW(t, "a change", s.take(), "a@1", "b@2")
	expectSotW(t, "ACK", s.request())
	c.update(nil, []string{"a"})
	expectSotW(t, "a deletion", s.take(), "b@2")
	expectSotW(t, "ACK", s.request())
	c.update(nil, []string{"b"})
	expectSotW(t, "the last one deleted", s.take(), []string{}...)
	expectSotW(t, "ACK of nothing", s.request())
	// A client that holds what another server sent is told, even of
	// nothing; one that holds this cache's answer is not.
	_, got := openSotWAt(c, nil, "9.elsewhere")
	expectSotW(t, "another server's version", got, []string{}...)
	_, got = openSotWAt(c, nil, s.version)
	expectSotW(t, "this cache's version", got)
}

// Other types: an answer holds what changed or was newly asked for.
func TestSotWNamedAnswers(t *testing.T) {
	c := newDeltaCache(resourcev3.EndpointType)
	c.update([]wired{sotwRes("a", "1"), sotwRes("b", "1"), sotwRes("c", "1")}, nil)
	s, first := openSotW(c, []string{"b", "a"})
	expectSotW(t, "first", first, "a@1", "b@1")
	expectSotW(t, "ACK", s.request())
	c.update([]wired{sotwRes("c", "2")}, nil)
	expectSotW(t, "a change of a name not asked for", s.take())
	c.update([]wired{sotwRes("b", "2")}, nil)
	expectSotW(t, "a change", s.take(), "b@2")
	expectSotW(t, "a name added", s.ask("a", "b", "c"), "c@2")
	expectSotW(t, "a name missing: an empty answer records the subscription", s.ask("a", "b", "c", "d"), []string{}...)
	expectSotW(t, "ACK", s.request())
	c.update([]wired{sotwRes("d", "1")}, nil)
	expectSotW(t, "it appears", s.take(), "d@1")
	// The mark sits on "a": when "a" is no longer asked for, the stream is
	// answered as a new one.
	expectSotW(t, "the smallest name dropped", s.ask("b", "c", "d"), "b@2", "c@2", "d@1")
	expectSotW(t, "ACK", s.request())
	c.update(nil, []string{"d"})
	expectSotW(t, "a deletion is not said", s.take())
	// Nothing asked for: one empty answer to the first request, then quiet.
	e, got := openSotW(c, []string{"zzz"})
	expectSotW(t, "a name that does not exist", got, []string{}...)
	expectSotW(t, "its ACK", e.request())
	expectSotW(t, "asking for nothing", e.ask())
	expectSotW(t, "and again", e.request())
	expectSotW(t, "then for a name again", e.ask("a"), "a@1")
}

// After a NACK, new streams get the accepted revision, then the newer one.
func TestSotWNewStreamsGetTheAcceptedRevision(t *testing.T) {
	c := newDeltaCache(resourcev3.ClusterType)
	c.update([]wired{sotwRes("a", "1"), sotwRes("b", "1")}, nil)
	c.ack(1)
	c.update([]wired{sotwRes("a", "2")}, []string{"b"})
	c.nack(2)
	late, got := openSotW(c, nil)
	expectSotW(t, "a new stream after the NACK", got, "a@1", "b@1")
	expectSotW(t, "its ACK brings the newer revision", late.request(), "a@2")
	expectSotW(t, "then nothing", late.request())
}

// TestSotWAgainstModel drives streams with random changes, subscriptions,
// ACKs and reconnections, applying every answer to a model of what the
// client holds: after each step a client holds the current version of
// every resource it asks for, and, for whole answers, nothing else.
func TestSotWAgainstModel(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.EndpointType} {
		for seed := int64(1); seed <= 20; seed++ {
			rng := rand.New(rand.NewSource(seed))
			c := newDeltaCache(typ)
			clients := []*sotwModel{{wildcard: true}, {asks: []string{"a", "c"}}, {asks: []string{"b", "d", "e"}}}
			for _, cl := range clients {
				cl.connect(c)
			}
			for step := 0; step < 300; step++ {
				n := names[rng.Intn(len(names))]
				cl := clients[rng.Intn(len(clients))]
				switch rng.Intn(7) {
				case 0, 1:
					c.update([]wired{sotwRes(n, fmt.Sprint(rng.Intn(4)))}, nil)
				case 2:
					c.update(nil, []string{n})
				case 3:
					cl.apply(cl.s.request())
				case 4:
					if !cl.wildcard {
						cl.toggle(n)
					}
				case 5:
					cl.connect(c)
				case 6:
					if !cl.wildcard {
						cl.toggleStar()
					}
				}
				for _, other := range clients {
					other.apply(other.s.take())
				}
				for _, x := range clients {
					x.settle(t, c, fmt.Sprintf("%s seed %d step %d", typ, seed, step))
				}
			}
		}
	}
}

// sotwModel is what a state-of-the-world client holds by its own account.
type sotwModel struct {
	s        *fakeSotW
	wildcard bool // legacy: asks for nothing by name
	star     bool // asks for "*" besides its names
	asks     []string
	holds    map[string]string
}

// request is what the client asks for.
func (cl *sotwModel) request() []string {
	if cl.star {
		return append([]string{"*"}, cl.asks...)
	}
	return cl.asks
}

// toggleStar asks for "*" too, or no longer (dropping what it no longer
// asks for by name).
func (cl *sotwModel) toggleStar() {
	cl.star = !cl.star
	if !cl.star {
		for n := range cl.holds {
			if i := sort.SearchStrings(cl.asks, n); i == len(cl.asks) || cl.asks[i] != n {
				delete(cl.holds, n)
			}
		}
	}
	cl.apply(cl.s.ask(cl.request()...))
}

func (cl *sotwModel) connect(c *deltaCache) {
	var first *discoverygrpc.DiscoveryResponse
	cl.holds = map[string]string{}
	cl.s, first = openSotW(c, cl.request())
	cl.apply(first)
}

// toggle asks for n too, or no longer (dropping it, as Envoy does).
func (cl *sotwModel) toggle(n string) {
	i := sort.SearchStrings(cl.asks, n)
	if i < len(cl.asks) && cl.asks[i] == n {
		if len(cl.asks) == 1 {
			return // an empty request would mean wildcard
		}
		cl.asks = append(cl.asks[:i:i], cl.asks[i+1:]...)
		if !cl.star {
			delete(cl.holds, n)
		}
	} else {
		cl.asks = append(cl.asks[:i:i], append([]string{n}, cl.asks[i:]...)...)
	}
	cl.apply(cl.s.ask(cl.request()...))
}

func (cl *sotwModel) apply(r *discoverygrpc.DiscoveryResponse) {
	if r == nil {
		return
	}
	if cachev3.ResourceRequiresFullStateInSotw(cl.s.c.typeURL) {
		clear(cl.holds)
	}
	for _, nv := range sotwSummary(r) {
		var name, version string
		fmt.Sscanf(nv, "%1s@%s", &name, &version)
		cl.holds[name] = version
	}
}

func (cl *sotwModel) settle(t *testing.T, c *deltaCache, where string) {
	t.Helper()
	for r := cl.s.request(); r != nil; r = cl.s.request() {
		cl.apply(r)
	}
	current, _ := c.snapshot()
	asked := func(n string) bool {
		return cl.wildcard || cl.star || sort.SearchStrings(cl.asks, n) < len(cl.asks) && cl.asks[sort.SearchStrings(cl.asks, n)] == n
	}
	whole := cachev3.ResourceRequiresFullStateInSotw(c.typeURL)
	for n, v := range current {
		if asked(n) && cl.holds[n] != v {
			t.Fatalf("%s: a client (asking %v) holds %v, want %s@%s", where, cl.asks, cl.holds, n, v)
		}
	}
	for n := range cl.holds {
		if _, exists := current[n]; whole && (!exists || !asked(n)) {
			t.Fatalf("%s: a client of whole answers (asking %v) holds %s, which is gone", where, cl.asks, n)
		}
	}
}

// TestSotWCodecWritesSharedEncodings: an answer reads back, through the
// codec, as proto's own encoding of the same message; answers to streams
// with the same subscription share one framing.
func TestSotWCodecWritesSharedEncodings(t *testing.T) {
	c := newDeltaCache(resourcev3.EndpointType)
	c.update([]wired{sotwRes("a", "1"), sotwRes("b", "1")}, nil)
	var framed [][]byte
	for range 2 {
		s := &fakeSotW{c: c, out: make(chan cachev3.Response, 1), names: []string{"a", "b"}}
		s.sub = streamv3.NewSotwSubscription(s.names, true)
		cancel, err := c.createSotwWatch(&discoverygrpc.DiscoveryRequest{TypeUrl: c.typeURL, ResourceNames: s.names}, s.sub, s.out)
		if err != nil {
			t.Fatal(err)
		}
		defer cancel()
		r := (<-s.out).(*sotwResponse)
		msg, _ := r.GetDiscoveryResponse()
		msg.Nonce = "5"
		out, err := wireCodec{}.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		want := &discoverygrpc.DiscoveryResponse{VersionInfo: msg.GetVersionInfo(), TypeUrl: c.typeURL, Nonce: "5",
			Resources: []*anypb.Any{c.entries["a"].any(), c.entries["b"].any()}}
		var got discoverygrpc.DiscoveryResponse
		if err := proto.Unmarshal(out.Materialize(), &got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(want, &got) {
			t.Errorf("read back %v, want %v", &got, want)
		}
		if framed != nil && &framed[0][0] != &r.framed[0][0] {
			t.Error("two streams with the same subscription did not share the framing")
		}
		framed = r.framed
	}
}

// TestSotWEndpointsByName drives the real server over gRPC as Envoy does
// with state-of-the-world ADS: endpoints asked for by name, every request
// (ACKs too) naming them all. The first answer has every one asked for;
// an ACK gets nothing; one more name gets that one; an endpoint change
// gets the changed one; a NACK gets nothing; and every answer, written
// from the shared encodings, decodes as the resources themselves.
func TestSotWEndpointsByName(t *testing.T) {
	res := compiled(t, "fixtures/seeds/talk-delegation")
	if len(res.Endpoints) < 3 {
		t.Fatalf("the fixture has %d assignments, want 3 or more", len(res.Endpoints))
	}
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ads, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := pump(ads.Recv)
	var names []string
	for _, e := range res.Endpoints[1:] {
		names = append(names, e.GetClusterName())
	}
	ask := func(version, nonce string, names []string) {
		t.Helper()
		if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, VersionInfo: version,
			ResponseNonce: nonce, ResourceNames: names}); err != nil {
			t.Fatal(err)
		}
	}
	// got returns the names of the next answer's assignments, checking
	// each against want.
	got := func(step string, want map[string]*endpointv3.ClusterLoadAssignment) *discoverygrpc.DiscoveryResponse {
		t.Helper()
		r, ok := in.next(t, 5*time.Second)
		if !ok {
			t.Fatalf("%s: no answer", step)
		}
		if len(r.GetResources()) != len(want) {
			t.Fatalf("%s: %d assignments, want %d", step, len(r.GetResources()), len(want))
		}
		for _, a := range r.GetResources() {
			var cla endpointv3.ClusterLoadAssignment
			if err := a.UnmarshalTo(&cla); err != nil {
				t.Fatal(err)
			}
			if w := want[cla.GetClusterName()]; w == nil || !proto.Equal(w, &cla) {
				t.Fatalf("%s: got %s, not what was asked for or not as it is", step, cla.GetClusterName())
			}
		}
		return r
	}
	byName := func(clas ...*endpointv3.ClusterLoadAssignment) map[string]*endpointv3.ClusterLoadAssignment {
		out := map[string]*endpointv3.ClusterLoadAssignment{}
		for _, c := range clas {
			out[c.GetClusterName()] = c
		}
		return out
	}
	quiet := func(step string) {
		t.Helper()
		if r, ok := in.next(t, 300*time.Millisecond); ok {
			t.Fatalf("%s: an answer with %d resources", step, len(r.GetResources()))
		}
	}
	ask("", "", names)
	r := got("first", byName(res.Endpoints[1:]...))
	ask(r.GetVersionInfo(), r.GetNonce(), names)
	quiet("ACK")
	names = append(names, res.Endpoints[0].GetClusterName())
	ask(r.GetVersionInfo(), r.GetNonce(), names)
	r = got("one more name", byName(res.Endpoints[0]))
	ask(r.GetVersionInfo(), r.GetNonce(), names)
	quiet("ACK")
	changed := proto.Clone(res.Endpoints[2]).(*endpointv3.ClusterLoadAssignment)
	changed.Endpoints = nil
	if err := s.UpdateEndpoints(ctx, []*endpointv3.ClusterLoadAssignment{changed}); err != nil {
		t.Fatal(err)
	}
	r = got("an endpoint change", byName(changed))
	if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, VersionInfo: "older",
		ResponseNonce: r.GetNonce(), ResourceNames: names, ErrorDetail: &statuspb.Status{Message: "bad endpoints"}}); err != nil {
		t.Fatal(err)
	}
	quiet("NACK")
	waitForNACK(s)
	if s.NACKs() != 1 {
		t.Fatalf("NACKs = %d, want 1", s.NACKs())
	}
}

// TestSotWEmptyStart: a state-of-the-world stream that subscribed before
// the first revision (its type had nothing when the port opened) gets that
// revision's resources.
func TestSotWEmptyStart(t *testing.T) {
	for _, tc := range []struct {
		typ   string
		names []string // clusters: the whole set, as Envoy asks for them
	}{{resourcev3.ClusterType, nil}, {resourcev3.SecretType, []string{"a"}}} {
		c := newDeltaCache(tc.typ)
		s, first := openSotW(c, tc.names)
		expectSotW(t, tc.typ+": the first answer", first, []string{}...)
		expectSotW(t, tc.typ+": its ACK", s.request())
		c.update([]wired{sotwRes("a", "1")}, nil)
		expectSotW(t, tc.typ+": the first revision", s.take(), "a@1")
	}
}

// firstSotWAnswer opens a wildcard state-of-the-world stream on c and
// returns its first answer as the cache built it.
func firstSotWAnswer(t *testing.T, c *deltaCache) *sotwResponse {
	t.Helper()
	out := make(chan cachev3.Response, 1)
	sub := streamv3.NewSotwSubscription(nil, true)
	cancel, err := c.createSotwWatch(&discoverygrpc.DiscoveryRequest{TypeUrl: c.typeURL}, sub, out)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	select {
	case r := <-out:
		return r.(*sotwResponse)
	default:
		t.Fatal("no first answer")
		return nil
	}
}

// TestSotWSharedAnswersHeldWeakly is TestDeltaCacheSharedAnswersHeldWeakly
// for state-of-the-world streams.
func TestSotWSharedAnswersHeldWeakly(t *testing.T) {
	c := newDeltaCache(resourcev3.ClusterType)
	c.update([]wired{sotwRes("b", "1"), sotwRes("a", "1")}, nil)
	first, second := firstSotWAnswer(t, c), firstSotWAnswer(t, c)
	if len(first.framed) == 0 || len(second.framed) == 0 || &first.framed[0][0] != &second.framed[0][0] {
		t.Fatal("two streams' first answers do not share their framing")
	}
	digest := uint64(0)
	for d := range c.sotwShared {
		digest = d
	}
	if len(c.sotwShared) != 1 {
		t.Fatalf("%d shared answers, want 1", len(c.sotwShared))
	}
	// Each stream got a copy of the shared answer, which lives as long
	// as any copy does.
	first = nil
	runtime.GC()
	if c.sotwShared[digest].Value() == nil {
		t.Fatal("the shared answer was collected while a stream still holds a copy of it")
	}
	runtime.KeepAlive(second)
	second = nil
	runtime.GC()
	if c.sotwShared[digest].Value() != nil {
		t.Fatal("the shared answer is kept after every stream let go of it")
	}
	third := firstSotWAnswer(t, c)
	if shared := c.sotwShared[digest].Value(); shared == nil || shared == third {
		t.Fatal("the answer built again is not shared, or is sent itself")
	}
	m, err := third.GetDiscoveryResponse()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sotwSummary(received(m)), []string{"a@1", "b@1"}; !slices.Equal(got, want) {
		t.Errorf("answer built again: %v, want %v", got, want)
	}
	if third.origin != nil || third.framed != nil || third.wires != nil || third.resources != nil {
		t.Error("a response still holds the shared answer once its message is built")
	}
}
