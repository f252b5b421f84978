package server

import (
	"slices"
	"sort"
)

// pastState is the resources as of an earlier revision: the value before
// the first change after that revision of every name changed since, and the
// current value of the others.
type pastState struct {
	c     *deltaCache
	first map[string]logEntry // the first change after the revision, by name
}

// stateAt returns the resources as of revision rev (≥ logStart).
func (c *deltaCache) stateAt(rev uint64) pastState {
	st := pastState{c: c, first: map[string]logEntry{}}
	for _, e := range c.log[c.after(rev):] {
		if _, seen := st.first[e.name]; !seen {
			st.first[e.name] = e
		}
	}
	return st
}

// names lists every name that may have existed then (with repeats): the
// current ones and those changed since.
func (st pastState) names() []string {
	out := make([]string, 0, len(st.c.entries)+len(st.first))
	for n := range st.c.entries {
		out = append(out, n)
	}
	for n := range st.first {
		out = append(out, n)
	}
	return out
}

// get returns the resource called name, and whether it existed.
func (st pastState) get(name string) (wired, bool) {
	if e, changed := st.first[name]; changed {
		return e.prev, e.what != created
	}
	e, ok := st.c.entries[name]
	return e, ok
}

// changedAt returns, sorted, the names changed at revision rev; none when
// that revision's changes are not logged (the first revision's, or
// compacted ones).
func (c *deltaCache) changedAt(rev uint64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev <= c.logStart {
		return nil
	}
	var out []string
	for _, e := range c.log[c.after(rev-1):] {
		if e.rev != rev {
			break
		}
		out = append(out, e.name)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
