package live_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/live"
	"github.com/isobar-dev/isobar/controlplane/server"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestLoopRechecksCertificates: with a clock, the loop checks certificates
// at each full build and builds again when one expires, without any change
// to the objects. The clock starts 300 ms before the fixture's old-cert
// expires (2021-01-01T00:00:00Z) and runs at the real pace.
func TestLoopRechecksCertificates(t *testing.T) {
	idx, problems := source.Load(source.LoadOptions{}, "../../fixtures/tls-certificate-time/input.yaml")
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	expiry := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	t0 := time.Now()
	clock := func() time.Time { return expiry.Add(-300 * time.Millisecond).Add(time.Since(t0)) }
	src := &memorySource{idx: idx, proxies: map[types.NamespacedName]bool{}, services: map[types.NamespacedName]bool{}, notify: make(chan struct{}, 1)}
	results := make(chan *controlplane.Result, 4)
	builds := make(chan live.Build, 4)
	srv := server.New(server.Options{Address: "127.0.0.1"})
	loop := &live.Loop{Source: src, XDS: srv, Clock: clock,
		OnBuild:  func(b live.Build) { builds <- b },
		OnResult: func(_ *source.Index, r *controlplane.Result) { results <- r }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.Run(ctx) }()
	go func() { defer wg.Done(); _ = loop.Run(ctx) }()
	defer wg.Wait()
	defer cancel()

	codes := func(r *controlplane.Result) map[string]bool {
		out := map[string]bool{}
		for _, f := range r.AllFindings() {
			out[f.Code] = true
		}
		return out
	}
	first := <-results
	if b := <-builds; !b.Full || b.Err != nil || b.Result != first {
		t.Fatalf("the first build: %+v", b)
	}
	if c := codes(first); c[graph.ReasonCertificateExpired] || !c[graph.ReasonCertificateNotYetValid] {
		t.Fatalf("before the expiry: findings %v, want CertificateNotYetValid (new-cert) alone", c)
	}
	select {
	case r := <-results:
		if c := codes(r); !c[graph.ReasonCertificateExpired] || !c[graph.ReasonCertificateNotYetValid] {
			t.Errorf("after the expiry: findings %v, want CertificateExpired too", c)
		}
		if b := <-builds; !b.Full || b.Err != nil {
			t.Errorf("the recheck build: %+v", b)
		}
		if since := clock().Sub(expiry); since < time.Second {
			t.Errorf("rebuilt %v after the expiry; Envoy-facing status changes once NotAfter has passed", since)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no build after the certificate expired")
	}
}
