package live_test

import (
	"bytes"
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/live"
	"github.com/isobar-dev/isobar/controlplane/server"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/sim/gen"
)

// memorySource is a Source over an index written by the test, marking
// changes as the Kubernetes watcher does.
type memorySource struct {
	mu       sync.Mutex
	idx      *source.Index
	full     bool
	proxies  map[types.NamespacedName]bool
	services map[types.NamespacedName]bool
	notify   chan struct{}
}

func (m *memorySource) Changed() <-chan struct{} { return m.notify }

func (m *memorySource) Take() source.Change {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := source.Change{Index: m.idx.Snapshot(), Full: m.full, Proxies: source.SortedKeys(m.proxies), Services: source.SortedKeys(m.services)}
	m.full, m.proxies, m.services = false, map[types.NamespacedName]bool{}, map[types.NamespacedName]bool{}
	return c
}

func (m *memorySource) upsert(t *testing.T, o any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.idx.Upsert(o); err != nil {
		t.Fatal(err)
	}
	switch e := o.(type) {
	case *contourv1.HTTPProxy:
		m.proxies[source.Key(e.Namespace, e.Name)] = true
	case *source.EndpointSlice:
		m.services[source.Key(e.Namespace, e.Service)] = true
	default:
		m.full = true
	}
	m.notify <- struct{}{}
}

// startLoop runs a loop, set up further by set, over a small generated
// corpus held by a memorySource and serving a real xDS server, and returns
// the source and the builds once the first one, full, is served.
func startLoop(t *testing.T, set func(*live.Loop)) (*memorySource, <-chan live.Build) {
	t.Helper()
	o := gen.S1k()
	o.Proxies, o.Ingresses = 60, 6
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	idx, _ := source.LoadBytes(source.LoadOptions{}, "generated", buf.Bytes())
	src := &memorySource{idx: idx, proxies: map[types.NamespacedName]bool{}, services: map[types.NamespacedName]bool{}, notify: make(chan struct{}, 1)}
	builds := make(chan live.Build, 1)
	srv := server.New(server.Options{Address: "127.0.0.1"})
	loop := &live.Loop{Source: src, XDS: srv, Window: time.Millisecond, MaxDelay: 5 * time.Millisecond,
		OnBuild: func(b live.Build) { builds <- b }}
	if set != nil {
		set(loop)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = srv.Run(ctx) }()
	go func() { _ = loop.Run(ctx) }()
	<-srv.Listening() // the port opens once the first full build is served
	if b := <-builds; !b.Full || b.Err != nil || b.Result == nil {
		t.Fatalf("first build %+v", b)
	}
	return src, builds
}

// TestLoopTakesTheCheapestRightPath feeds the loop one change of each kind
// and checks which path compiled it and that what the server was handed
// equals a full compile of the same objects.
func TestLoopTakesTheCheapestRightPath(t *testing.T) {
	var mu sync.Mutex
	var last *controlplane.Result
	src, builds := startLoop(t, func(l *live.Loop) {
		l.OnResult = func(_ *source.Index, r *controlplane.Result) {
			mu.Lock()
			last = r
			mu.Unlock()
		}
	})
	idx := src.idx

	proxy, _ := idx.HTTPProxies.Get(rootKey(t, idx))
	proxy = proxy.DeepCopy()
	proxy.Spec.Routes[0].Conditions = []contourv1.MatchCondition{{Prefix: "/moved"}}
	svcKey := idx.EndpointSlices.SortedKeys()[0]
	slice := new(source.EndpointSlice)
	slices, _ := idx.EndpointSlices.Get(svcKey)
	*slice = *slices[len(slices)-1]
	tail := slice.Endpoints[len(slice.Endpoints)-1]
	slice.Object, slice.Endpoints = nil, append(slice.Endpoints[:len(slice.Endpoints)-1:len(slice.Endpoints)-1],
		source.EndpointRun{Addresses: tail.Addresses[:len(tail.Addresses)-1], Ready: tail.Ready, Terminating: tail.Terminating})
	svc := new(source.Service)
	*svc = *idx.Services[svcKey]
	svc.Object, svc.Annotations = nil, map[string]string{"projectcontour.io/max-connections": "7"}
	for _, step := range []struct {
		name  string
		obj   any
		check func(live.Build) bool
	}{
		{"HTTPProxy", proxy, func(b live.Build) bool { return b.Proxies == 1 && !b.Full }},
		{"EndpointSlice", slice, func(b live.Build) bool { return b.Endpoints > 0 && !b.Full && b.Proxies == 0 }},
		{"Service", svc, func(b live.Build) bool { return b.Full }},
	} {
		src.upsert(t, step.obj)
		b := <-builds
		if b.Err != nil || !step.check(b) {
			t.Fatalf("%s change: build %+v", step.name, b)
		}
		want, err := controlplane.Compile(src.idx.Snapshot(), controlplane.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// Every build reports the latest result, the fast path's included.
		if !want.Resources.Equal(b.Result.Resources) {
			t.Fatalf("%s change: the build's result differs from a full compile's", step.name)
		}
		if !reflect.DeepEqual(want.Findings, b.Result.Findings) {
			t.Fatalf("%s change: findings %v, a full compile's %v", step.name, b.Result.Findings, want.Findings)
		}
		if step.name == "EndpointSlice" {
			continue // the fast path hands assignments over without OnResult
		}
		mu.Lock()
		got := last
		mu.Unlock()
		if got != b.Result {
			t.Fatalf("%s change: OnResult was not handed the build's result", step.name)
		}
	}
}

func rootKey(t *testing.T, idx *source.Index) types.NamespacedName {
	for _, k := range idx.HTTPProxies.SortedKeys() {
		if p, _ := idx.HTTPProxies.Get(k); p.Spec.VirtualHost != nil && len(p.Spec.Routes) > 0 {
			return k
		}
	}
	t.Fatal("no root")
	return types.NamespacedName{}
}
