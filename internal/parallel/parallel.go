// Package parallel spreads independent work over every core while keeping
// results in input order, so that callers stay deterministic.
package parallel

import (
	"runtime"
	"sync"
)

// For calls fn(i) for every i in [0, n), on up to GOMAXPROCS goroutines, and
// returns when all calls have. Below minPerWorker items per extra worker it
// runs them in the caller's goroutine. fn must only write what belongs to i
// (typically out[i]); callers read the results in index order, so the
// outcome does not depend on scheduling.
func For(n, minPerWorker int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/max(1, minPerWorker)))
	if workers == 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
