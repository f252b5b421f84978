package router_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/sim/gen"
	"github.com/isobar-dev/isobar/sim/router"
)

// BenchmarkEvaluate10k evaluates 10,000 requests (spread over every host of
// the corpus, hitting routes, missing paths and header variants) after load.
func BenchmarkEvaluate10k(b *testing.B) {
	for _, c := range []struct {
		name string
		o    gen.Options
	}{{"S1k", gen.S1k()}, {"S10k", gen.S10k()}} {
		b.Run(c.name, func(b *testing.B) {
			var buf bytes.Buffer
			if _, err := gen.Write(&buf, c.o); err != nil {
				b.Fatal(err)
			}
			idx, _ := source.LoadBytes(source.LoadOptions{}, c.name, buf.Bytes())
			res, err := controlplane.Compile(idx, controlplane.Options{})
			if err != nil {
				b.Fatal(err)
			}
			rt := router.New(res.Resources, router.Options{})
			reqs := make([]router.Request, 10000)
			for i := range reqs {
				p := i % c.o.Proxies
				reqs[i] = router.Request{URL: fmt.Sprintf("http://p%d.example.com/r%d/x", p, i%6),
					Headers: map[string]string{"x-variant": fmt.Sprintf("v%d", i%5)}}
			}
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				routed := 0
				for _, q := range reqs {
					if rt.Evaluate(q).Routed {
						routed++
					}
				}
				if routed == 0 {
					b.Fatal("nothing routed")
				}
			}
		})
	}
}
