package live_test

import (
	"sync"
	"testing"
	"time"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/live"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// fakeQuarantine is a Quarantine the test sets.
type fakeQuarantine struct {
	mu       sync.Mutex
	rejected map[status.Ref]string
	changed  chan struct{}
}

func (f *fakeQuarantine) Changed() <-chan struct{} { return f.changed }

func (f *fakeQuarantine) Rejected() map[status.Ref]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rejected
}

func (f *fakeQuarantine) set(rejected map[status.Ref]string) {
	f.mu.Lock()
	f.rejected = rejected
	f.mu.Unlock()
	f.changed <- struct{}{}
}

// TestLoopExcludesRejected: a rejection naming more HTTPProxies than can be
// blamed takes none out; of those a rejection names, the one a recent
// build changed is taken out (a full compile; it is invalid with
// EnvoyRejected and its host is not served) and the others stay; it stays
// out when the rejection is lifted and other objects change, and comes back
// when its own spec changes.
func TestLoopExcludesRejected(t *testing.T) {
	q := &fakeQuarantine{changed: make(chan struct{}, 1)}
	src, builds := startLoop(t, func(l *live.Loop) { l.Quarantine = q })
	idx := src.idx

	var roots []*contourv1.HTTPProxy
	for _, k := range idx.HTTPProxies.SortedKeys() {
		if p, _ := idx.HTTPProxies.Get(k); p.Spec.VirtualHost != nil && p.Spec.VirtualHost.TLS == nil && len(p.Spec.Routes) > 0 {
			roots = append(roots, p.DeepCopy())
		}
	}
	bad, other := roots[0], roots[1]
	ref := func(p *contourv1.HTTPProxy) status.Ref {
		return status.Ref{Kind: status.KindHTTPProxy, Namespace: p.Namespace, Name: p.Name}
	}
	served := func(b live.Build, p *contourv1.HTTPProxy) bool {
		for _, vh := range b.Result.Resources.RouteConfiguration("ingress_http").GetVirtualHosts() {
			if vh.GetName() == p.Spec.VirtualHost.Fqdn && len(vh.GetRoutes()) > 0 {
				return true
			}
		}
		return false
	}
	state := func(b live.Build, p *contourv1.HTTPProxy) string {
		for _, s := range b.Result.Statuses {
			if s.Ref == ref(p) {
				return string(s.CurrentStatus)
			}
		}
		return "none"
	}
	next := func(what string) live.Build {
		t.Helper()
		select {
		case b := <-builds:
			if b.Err != nil {
				t.Fatalf("%s: %v", what, b.Err)
			}
			return b
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no build", what)
		}
		return live.Build{}
	}

	// Too many named, none changed recently: nothing is taken out.
	broad := map[status.Ref]string{}
	for _, p := range roots[:11] {
		broad[ref(p)] = "Envoy rejected ingress_http"
	}
	q.set(broad)
	select {
	case b := <-builds:
		t.Fatalf("a rejection naming 11 HTTPProxies none of which changed caused a build: %+v", b)
	case <-time.After(300 * time.Millisecond):
	}

	bad.Spec.Routes[0].Conditions = []contourv1.MatchCondition{{Prefix: "/changed"}}
	src.upsert(t, bad)
	next("the change")
	q.set(map[status.Ref]string{ref(bad): "Envoy rejected it", ref(other): "Envoy rejected it"})
	b := next("the rejection")
	if !b.Full || served(b, bad) || state(b, bad) != "invalid" || !served(b, other) || state(b, other) != "valid" {
		t.Fatalf("after the rejection: full %v, bad served %v (%s), other served %v (%s)",
			b.Full, served(b, bad), state(b, bad), served(b, other), state(b, other))
	}
	want, err := controlplane.Compile(src.idx.Snapshot(), controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want.Resources.Equal(b.Result.Resources) {
		t.Fatal("the exclusion changed nothing")
	}

	// Lifted, and another object changes: bad stays out.
	q.set(nil)
	other.Spec.Routes[0].Conditions = []contourv1.MatchCondition{{Prefix: "/other"}}
	src.upsert(t, other)
	if b := next("another change"); served(b, bad) || !served(b, other) {
		t.Fatalf("after another change: bad served %v, other served %v", served(b, bad), served(b, other))
	}
	// Its own spec changes: it comes back.
	bad.Spec.Routes[0].Conditions = []contourv1.MatchCondition{{Prefix: "/fixed"}}
	src.upsert(t, bad)
	b = next("the fix")
	if !b.Full || !served(b, bad) || state(b, bad) != "valid" {
		t.Fatalf("after the fix: full %v, bad served %v (%s)", b.Full, served(b, bad), state(b, bad))
	}
	want, err = controlplane.Compile(src.idx.Snapshot(), controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !want.Resources.Equal(b.Result.Resources) {
		t.Fatal("after the fix the result differs from a full compile's")
	}
}
