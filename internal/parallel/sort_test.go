package parallel

import (
	"cmp"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// TestSortFuncSortsAsSlices: whatever the length and the number of cores,
// SortFunc's result is slices.SortFunc's, duplicates included.
func TestSortFuncSortsAsSlices(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(1, 2))
	for _, procs := range []int{1, 2, 3, 4, 7} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{0, 1, 5, minSortPart, 2*minSortPart - 1, 2 * minSortPart, 5*minSortPart + 3, 20000} {
			for _, spread := range []int{3, 1 << 30} { // many duplicates, or few
				s := make([]int, n)
				for i := range s {
					s[i] = rng.IntN(spread)
				}
				want := slices.Clone(s)
				slices.Sort(want)
				SortFunc(s, cmp.Compare[int])
				if !slices.Equal(s, want) {
					t.Fatalf("GOMAXPROCS %d, n %d, spread %d: not sorted as slices.Sort sorts", procs, n, spread)
				}
			}
		}
	}
}

func TestMergeKeepsTheLeftFirst(t *testing.T) {
	type kv struct{ k, from int }
	a := []kv{{1, 0}, {2, 0}, {2, 0}, {5, 0}}
	b := []kv{{0, 1}, {2, 1}, {6, 1}}
	out := make([]kv, len(a)+len(b))
	merge(out, a, b, func(x, y kv) int { return cmp.Compare(x.k, y.k) })
	want := []kv{{0, 1}, {1, 0}, {2, 0}, {2, 0}, {2, 1}, {5, 0}, {6, 1}}
	if !slices.Equal(out, want) {
		t.Fatalf("merge = %v, want %v", out, want)
	}
}
