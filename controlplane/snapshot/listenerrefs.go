package snapshot

import (
	"sync"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
)

// ListenerRefs gives References, remembering what each filter chain of
// the listeners it last saw refers to: a listener handed over again as a
// new message that keeps most of its filter chains as the same messages
// (the HTTPS listener holds one per host) decodes only the new ones. It
// relies on Diff's contract: a message handed over is never mutated
// afterwards. The zero value is ready; it is safe for concurrent use
// (concurrent calls for one listener stay correct but may decode again).
type ListenerRefs struct {
	mu   sync.Mutex
	last map[string]listenerMemo // by listener name
}

// listenerMemo is a listener's filter chains and what each refers to.
type listenerMemo struct {
	chains []*listenerv3.FilterChain
	refs   []Refs
}

// References returns References(l), reusing the answers for the filter
// chains l shares with the last listener of its name.
func (c *ListenerRefs) References(l *listenerv3.Listener) (Refs, error) {
	c.mu.Lock()
	prev := c.last[l.GetName()]
	c.mu.Unlock()
	next := listenerMemo{chains: l.GetFilterChains(), refs: make([]Refs, len(l.GetFilterChains()))}
	known := make([]bool, len(next.chains))
	matchOrdered(prev.chains, next.chains, func(i, at int) { next.refs[i], known[i] = prev.refs[at], true })
	var r Refs
	for i, fc := range next.chains {
		if !known[i] {
			if err := chainRefs(fc, &next.refs[i]); err != nil {
				return Refs{}, err
			}
		}
		cr := next.refs[i]
		r.Secrets = append(r.Secrets, cr.Secrets...)
		r.Routes = append(r.Routes, cr.Routes...)
		r.Clusters = append(r.Clusters, cr.Clusters...)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		c.last = map[string]listenerMemo{}
	}
	c.last[l.GetName()] = next
	return r, nil
}

// Forget drops what c remembers of the listener called name; callers call
// it when the listener is removed.
func (c *ListenerRefs) Forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.last, name)
}
