package snapshot

import (
	"fmt"
	"testing"
)

// TestMatchOrdered: each element of next that is one of prev is found,
// each of prev at most once, whether kept in place, moved far, or
// repeated.
func TestMatchOrdered(t *testing.T) {
	t.Parallel()
	seq := func(from, to int) []int {
		var out []int
		for i := from; i < to; i++ {
			out = append(out, i)
		}
		return out
	}
	for name, tc := range map[string]struct {
		prev, next []int
		want       string
	}{
		"same":        {[]int{1, 2, 3}, []int{1, 2, 3}, "map[0:0 1:1 2:2]"},
		"replaced":    {[]int{1, 2, 3}, []int{1, 9, 3}, "map[0:0 2:2]"},
		"moved far":   {seq(0, 20), append([]int{19}, seq(0, 19)...), fmt.Sprint(shifted(20))},
		"dropped run": {seq(0, 30), append(seq(0, 5), seq(25, 30)...), "map[0:0 1:1 2:2 3:3 4:4 5:25 6:26 7:27 8:28 9:29]"},
		"repeated":    {[]int{1, 1, 2}, []int{1, 2, 1, 1}, "map[0:0 1:2 2:1]"},
		"empty prev":  {nil, []int{1}, "map[]"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := map[int]int{}
			n := matchOrdered(tc.prev, tc.next, func(i, at int) {
				if tc.prev[at] != tc.next[i] {
					t.Errorf("matched next[%d]=%d with prev[%d]=%d", i, tc.next[i], at, tc.prev[at])
				}
				got[i] = at
			})
			if fmt.Sprint(got) != tc.want || n != len(got) {
				t.Errorf("got %v (%d), want %s", got, n, tc.want)
			}
		})
	}
}

// shifted is the matches of a list of n whose last element moved first.
func shifted(n int) map[int]int {
	out := map[int]int{0: n - 1}
	for i := 1; i < n; i++ {
		out[i] = i - 1
	}
	return out
}

// TestNewElements: the indexes of next whose elements prev does not hold,
// each of prev standing for one element of next at most.
func TestNewElements(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		prev, next []int
		want       string
	}{
		"same":       {[]int{1, 2, 3}, []int{1, 2, 3}, "[]"},
		"replaced":   {[]int{1, 2, 3}, []int{1, 9, 3}, "[1]"},
		"added":      {[]int{1, 3}, []int{0, 1, 2, 3, 4}, "[0 2 4]"},
		"repeated":   {[]int{1, 2}, []int{1, 2, 1}, "[2]"},
		"empty prev": {nil, []int{5, 6}, "[0 1]"},
		"empty next": {[]int{5, 6}, nil, "[]"},
	} {
		if got := fmt.Sprint(NewElements(tc.prev, tc.next)); got != tc.want {
			t.Errorf("%s: got %s, want %s", name, got, tc.want)
		}
	}
}
