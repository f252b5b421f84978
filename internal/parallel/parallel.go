// Package parallel spreads independent work over every core while keeping
// results in input order, so that callers stay deterministic.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls fn(i) for every i in [0, n), on up to GOMAXPROCS goroutines, and
// returns when all calls have. Below minPerWorker items per extra worker it
// runs them in the caller's goroutine. fn must only write what belongs to i
// (typically out[i]); callers read the results in index order, so the
// outcome does not depend on scheduling.
func For(n, minPerWorker int, fn func(i int)) {
	Workers(n, minPerWorker, func() func(int) { return fn })
}

// Workers is For with state of each goroutine's own: worker is called once
// per goroutine and returns the function that goroutine calls for its
// items (a scratch buffer in its closure is used by one goroutine at a
// time). Items are handed out in runs of consecutive indexes as goroutines
// ask for them, so that a goroutine that gets less of the machine does
// less of the work, and two write next to each other in out[i] only where
// their runs meet.
func Workers(n, minPerWorker int, worker func() func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/max(1, minPerWorker)))
	if workers == 1 {
		fn := worker()
		for i := range n {
			fn(i)
		}
		return
	}
	run := max(1, min(256, n/(8*workers)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn := worker()
			for {
				lo := int(next.Add(int64(run))) - run
				if lo >= n {
					return
				}
				for i := lo; i < min(n, lo+run); i++ {
					fn(i)
				}
			}
		}()
	}
	wg.Wait()
}

// Do calls every fn side by side, on up to GOMAXPROCS goroutines, and
// returns when all have returned. Each must only write what is its own.
func Do(fns ...func()) {
	For(len(fns), 1, func(i int) { fns[i]() })
}

// Ordered calls work(i) for every i in [0, n) on up to GOMAXPROCS
// goroutines, handing out chunks of chunk consecutive items, and calls
// then(i) on the caller's goroutine in index order, each as soon as
// work(0..i) have returned: a sequential consumer (then) runs while later
// items are still being produced. work must only write what belongs to i;
// then may read it and anything then itself wrote.
func Ordered(n, chunk int, work, then func(i int)) {
	chunk = max(1, chunk)
	chunks := (n + chunk - 1) / chunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		for i := range n {
			work(i)
			then(i)
		}
		return
	}
	done := make([]chan struct{}, chunks)
	for c := range done {
		done[c] = make(chan struct{})
	}
	var next atomic.Int64
	for range workers {
		go func() {
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				for i := c * chunk; i < min(n, (c+1)*chunk); i++ {
					work(i)
				}
				close(done[c])
			}
		}()
	}
	for c := range chunks {
		<-done[c]
		for i := c * chunk; i < min(n, (c+1)*chunk); i++ {
			then(i)
		}
	}
}
