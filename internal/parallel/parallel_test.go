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
