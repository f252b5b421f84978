package translate

import (
	"runtime"
	"sync"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// minParallelHosts is the number of virtual hosts below which they are
// translated on one goroutine.
const minParallelHosts = 256

// workersFor is the number of goroutines n hosts are translated on.
func workersFor(n int) int {
	return min(runtime.GOMAXPROCS(0), n/minParallelHosts)
}

// forEachForked calls do(f, i) for every i in [0, n) on the given number of
// goroutines. Each goroutine takes one contiguous chunk and its own fork f
// of t (its own cluster and secret registries, t's metadata); the registries
// are merged into t chunk by chunk afterwards, so the result is exactly
// that of one goroutine calling do(t, i) in order: the first registration
// of a cluster name keeps it, the last of a secret name keeps it. With one
// worker or fewer, do runs on t itself.
func (t *translator) forEachForked(workers, n int, do func(f *translator, i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			do(t, i)
		}
		return
	}
	forks := make([]*translator, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*n/workers, (w+1)*n/workers
		// Sized for about one cluster per item.
		forks[w] = &translator{g: t.g, idx: t.idx, clusters: make(map[string]*graph.Cluster, hi-lo),
			secrets: map[string]*graph.Secret{}, names: make(map[*graph.Cluster]string, hi-lo),
			sources: t.sources, kit: t.kit, rateLimit: t.rateLimit}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				do(forks[w], i)
			}
		}()
	}
	wg.Wait()
	for _, f := range forks {
		for name, c := range f.clusters {
			if _, ok := t.clusters[name]; !ok {
				t.clusters[name] = c
			}
		}
		for name, s := range f.secrets {
			t.secrets[name] = s
		}
		t.findings = append(t.findings, f.findings...)
	}
}
