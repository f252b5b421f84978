package live_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/server"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/sim/gen"
)

// BenchmarkProxyChange measures what the live loop spends between taking
// one changed HTTPProxy from the watcher and the xDS server holding the new
// snapshot, with S10k loaded and no client connected: the snapshot of the
// index (copy on write), the incremental compile and SetResources. Two
// changes: a TLS root's route timeout (only https/<fqdn> changes) and a
// plain root's route path (ingress_http, with every insecure host, changes;
// with VHDS, root-path-vhds, the server sends that host alone).
func BenchmarkProxyChange(b *testing.B) {
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, gen.S10k()); err != nil {
		b.Fatal(err)
	}
	loaded, _ := source.LoadBytes(source.LoadOptions{}, "S10k", buf.Bytes())
	for _, c := range []struct {
		name   string
		tls    bool
		vhds   bool
		change func(p *contourv1.HTTPProxy, i int)
	}{
		{"tls-root-timeout", true, false, func(p *contourv1.HTTPProxy, i int) {
			p.Spec.Routes[0].TimeoutPolicy = &contourv1.TimeoutPolicy{Response: fmt.Sprintf("%ds", 10+i%2)}
		}},
		{"root-path", false, false, rootPath},
		{"root-path-vhds", false, true, rootPath},
	} {
		b.Run("S10k/"+c.name, func(b *testing.B) {
			live := loaded.Clone() // the watcher's own index
			comp := controlplane.NewCompiler(controlplane.Options{})
			res, err := comp.Compile(live.Snapshot())
			if err != nil {
				b.Fatal(err)
			}
			opts := server.Options{Address: "127.0.0.1", Freeze: true} // as serve runs it
			if c.vhds {
				opts.VHDS = &server.VHDS{}
			}
			srv := server.New(opts)
			ctx := context.Background()
			if err := srv.SetResources(ctx, res.Resources); err != nil {
				b.Fatal(err)
			}
			key := root(b, live, c.tls)
			var compiling time.Duration
			took := make([]time.Duration, 0, b.N)
			runtime.GC() // the set-up's garbage, not the changes'
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				p, _ := live.HTTPProxies.Get(key)
				p = p.DeepCopy() // what the informer delivers
				c.change(p, i)
				b.StartTimer()
				start := time.Now()
				if err := live.Upsert(p); err != nil {
					b.Fatal(err)
				}
				res, err := comp.Update(live.Snapshot(), []types.NamespacedName{key})
				if err != nil {
					b.Fatal(err)
				}
				compiling += time.Since(start)
				if err := srv.SetResources(ctx, res.Resources); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			// ns/op includes the collections the changes' garbage causes
			// (the heap holds all of S10k); the percentiles are what one
			// change waits.
			b.ReportMetric(float64(compiling.Microseconds())/1000/float64(b.N), "ms-compile")
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-p50")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "ms-p99")
			if n := comp.FullCompiles(); n != 1 {
				b.Fatalf("%d full compiles", n)
			}
		})
	}
}

// rootPath changes a root's first route's path.
func rootPath(p *contourv1.HTTPProxy, i int) {
	p.Spec.Routes[0].Conditions = []contourv1.MatchCondition{{Prefix: fmt.Sprintf("/changed-%d", i%2)}}
}

// root returns the first root HTTPProxy with routes, with or without TLS.
func root(b *testing.B, idx *source.Index, tls bool) types.NamespacedName {
	for _, k := range idx.HTTPProxies.SortedKeys() {
		p, _ := idx.HTTPProxies.Get(k)
		if vh := p.Spec.VirtualHost; vh != nil && (vh.TLS != nil) == tls && len(p.Spec.Routes) > 0 {
			return k
		}
	}
	b.Fatal("no such root")
	return types.NamespacedName{}
}
