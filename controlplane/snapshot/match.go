package snapshot

// reuseWindow is how far past the position after the last match
// matchOrdered looks for an element before it leaves it to the index.
const reuseWindow = 8

// matchOrdered calls found(i, at) for each element next[i] that is
// prev[at], each element of prev matching at most one of next, and
// returns how many it found. Lists change little and keep their order: each
// element is looked for just after the last one found; those not found
// there are looked for in an index of the elements of prev not matched
// yet, so that replacing an element costs O(1) beyond the walk, not an
// index of the whole list.
func matchOrdered[E comparable](prev, next []E, found func(i, at int)) int {
	used := make([]bool, len(prev))
	var missed []int
	from, n := 0, 0
	for i, e := range next {
		at := -1
		for k := from; k < min(from+reuseWindow, len(prev)); k++ {
			if prev[k] == e && !used[k] {
				at = k
				break
			}
		}
		if at < 0 {
			missed = append(missed, i)
			continue
		}
		used[at] = true
		found(i, at)
		from, n = at+1, n+1
	}
	if len(missed) == 0 || n == len(prev) {
		return n
	}
	index := make(map[E]int, len(prev)-n)
	for k, e := range prev {
		if !used[k] {
			index[e] = k
		}
	}
	for _, i := range missed {
		if at, ok := index[next[i]]; ok {
			delete(index, next[i])
			found(i, at)
			n++
		}
	}
	return n
}

// NewElements returns, in order, the indexes of the elements of next that
// are not elements of prev (compared by identity: for messages, the same
// pointer), each element of prev standing for one of next at most. Lists
// that changed little since prev cost a walk of both.
func NewElements[E comparable](prev, next []E) []int {
	found := make([]bool, len(next))
	if matchOrdered(prev, next, func(i, _ int) { found[i] = true }) == len(next) {
		return nil
	}
	var out []int
	for i, f := range found {
		if !f {
			out = append(out, i)
		}
	}
	return out
}
