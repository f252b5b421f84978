package translate

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

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
// goroutines. Each goroutine has its own fork f of t (its own cluster and
// secret registries, t's metadata) and takes runs of consecutive items as
// it asks for them, so that a goroutine that gets less of the machine does
// less of the work. Each fork logs, run by run, the registrations it makes;
// the logs are replayed into t in the order of the runs afterwards, so the
// result is exactly that of one goroutine calling do(t, i) in order: the
// first registration of a cluster name keeps it, the last of a secret name
// keeps it, findings come in item order. With one worker or fewer, do runs
// on t itself.
func (t *translator) forEachForked(workers, n int, do func(f *translator, i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			do(t, i)
		}
		return
	}
	run := max(1, min(64, n/(8*workers)))
	forks := make([]*translator, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		// Sized for about one cluster per item.
		forks[w] = &translator{g: t.g, idx: t.idx, clusters: make(map[string]*graph.Cluster, n/workers),
			secrets: map[string]*graph.Secret{}, names: make(map[*graph.Cluster]string, n/workers),
			sources: t.sources, kit: t.kit, rateLimit: t.rateLimit, log: &forkLog{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := forks[w]
			for {
				lo := int(next.Add(int64(run))) - run
				if lo >= n {
					return
				}
				for i := lo; i < min(n, lo+run); i++ {
					do(f, i)
				}
				f.log.endRun(lo, f)
			}
		}()
	}
	wg.Wait()
	t.replay(forks)
}

// forkLog is what a fork registered, run by run: the clusters new to the
// fork and every secret, in order, and where each run's entries end in
// those and in the fork's findings.
type forkLog struct {
	clusters []namedCluster
	secrets  []namedSecret
	runs     []forkRun
}

type namedCluster struct {
	name string
	c    *graph.Cluster
}

type namedSecret struct {
	name string
	s    *graph.Secret
}

// forkRun is a run of items starting at lo, and the lengths of its fork's
// log and findings once it was done.
type forkRun struct {
	lo, clusters, secrets, findings int
	fork                            *translator
}

// endRun records the end of the run starting at lo, done by f.
func (l *forkLog) endRun(lo int, f *translator) {
	l.runs = append(l.runs, forkRun{lo: lo, clusters: len(l.clusters), secrets: len(l.secrets), findings: len(f.findings), fork: f})
}

// replay merges what forks registered into t, run by run in item order.
func (t *translator) replay(forks []*translator) {
	var runs []forkRun
	added := 0
	for _, f := range forks {
		runs = append(runs, f.log.runs...)
		added += len(f.log.clusters)
	}
	slices.SortFunc(runs, func(a, b forkRun) int { return a.lo - b.lo })
	if len(t.clusters) == 0 {
		t.clusters = make(map[string]*graph.Cluster, added)
	}
	at := map[*translator]forkRun{} // where each fork's replay stands
	for _, r := range runs {
		f, from := r.fork, at[r.fork]
		for _, e := range f.log.clusters[from.clusters:r.clusters] {
			if _, ok := t.clusters[e.name]; !ok {
				t.clusters[e.name] = e.c
			}
		}
		for _, e := range f.log.secrets[from.secrets:r.secrets] {
			t.secrets[e.name] = e.s
		}
		t.findings = append(t.findings, f.findings[from.findings:r.findings]...)
		at[f] = r
	}
}
