package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestForCallsEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 5, 64, 1000} {
		for _, min := range []int{0, 1, 64} {
			counts := make([]atomic.Int32, n)
			For(n, min, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if c := counts[i].Load(); c != 1 {
					t.Fatalf("n=%d min=%d: index %d called %d times", n, min, i, c)
				}
			}
		}
	}
}

// TestWorkersStateIsEachGoroutines: every index once, worker called at most
// once per core, and the function it returns never called by two
// goroutines at a time.
func TestWorkersStateIsEachGoroutines(t *testing.T) {
	for _, n := range []int{0, 1, 5, 64, 1000, 5000} {
		counts := make([]atomic.Int32, n)
		var workers atomic.Int32
		var shared atomic.Bool
		Workers(n, 1, func() func(int) {
			workers.Add(1)
			var busy atomic.Bool
			return func(i int) {
				if !busy.CompareAndSwap(false, true) {
					shared.Store(true)
				}
				counts[i].Add(1)
				runtime.Gosched()
				busy.Store(false)
			}
		})
		for i := range counts {
			if c := counts[i].Load(); c != 1 {
				t.Fatalf("n=%d: index %d called %d times", n, i, c)
			}
		}
		if w := workers.Load(); w < 1 || int(w) > runtime.GOMAXPROCS(0) {
			t.Errorf("n=%d: worker called %d times, GOMAXPROCS is %d", n, w, runtime.GOMAXPROCS(0))
		}
		if shared.Load() {
			t.Errorf("n=%d: a worker's function ran on two goroutines at once", n)
		}
	}
}

func TestForUsesSeveralGoroutines(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one core")
	}
	var inside, most atomic.Int32
	release := make(chan struct{})
	go func() {
		for most.Load() < 2 {
			runtime.Gosched()
		}
		close(release)
	}()
	For(2, 1, func(int) {
		n := inside.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		select { // a single goroutine would wait here alone
		case <-release:
		case <-time.After(5 * time.Second):
		}
		inside.Add(-1)
	})
	if most.Load() < 2 {
		t.Errorf("at most %d calls ran at once", most.Load())
	}
}

// TestOrderedConsumesInOrderAfterWork: then sees every index once, in
// order, and only after work for that index returned.
func TestOrderedConsumesInOrderAfterWork(t *testing.T) {
	for _, n := range []int{0, 1, 7, 64, 1000} {
		for _, chunk := range []int{0, 1, 5, 64} {
			worked := make([]atomic.Bool, n)
			var got []int
			Ordered(n, chunk, func(i int) {
				if i%3 == 0 {
					time.Sleep(time.Microsecond) // let later chunks finish first
				}
				worked[i].Store(true)
			}, func(i int) {
				if !worked[i].Load() {
					t.Fatalf("n=%d chunk=%d: then(%d) before work(%d)", n, chunk, i, i)
				}
				got = append(got, i)
			})
			if len(got) != n {
				t.Fatalf("n=%d chunk=%d: then called %d times", n, chunk, len(got))
			}
			for i, v := range got {
				if v != i {
					t.Fatalf("n=%d chunk=%d: then's %dth call was for %d", n, chunk, i, v)
				}
			}
		}
	}
}

// TestDoCallsEachOnce: Do calls every function once and returns after all.
func TestDoCallsEachOnce(t *testing.T) {
	var calls [5]atomic.Int32
	fns := make([]func(), len(calls))
	for i := range fns {
		fns[i] = func() { calls[i].Add(1) }
	}
	Do(fns...)
	for i := range calls {
		if c := calls[i].Load(); c != 1 {
			t.Errorf("function %d called %d times", i, c)
		}
	}
}
