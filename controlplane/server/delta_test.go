package server

import (
	"fmt"
	"reflect"
	"testing"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
)

// fakeStream drives deltaCache the way go-control-plane's delta server
// does: one subscription per type, a watch per request, the response's
// version map stored back into the subscription.
type fakeStream struct {
	c      *deltaCache
	sub    streamv3.Subscription
	out    chan cachev3.DeltaResponse
	cancel func()
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
	if err != nil {
		panic(err)
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
		return m
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

func mustWire(r *discoverygrpc.Resource) wired {
	w, err := newWired(r)
	if err != nil {
		panic(err)
	}
	return w
}

// snapshot returns the version of every resource and the cache revision.
func (c *deltaCache) snapshot() (map[string]string, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.entries))
	for n, e := range c.entries {
		out[n] = e.res.GetVersion()
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
	expect(t, "the late client's ACK after compaction", late.ack(), want...)
	expect(t, "the prompt client is up to date", s.ack())
}
