package snapshot

import (
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// RefCache gives Outgoing, remembering what each filter chain of the
// listeners and each virtual host of the route configurations it last saw
// refers to: a resource handed over again as a new message that keeps most
// of its elements as the same messages decodes only the new ones, and a
// change of one virtual host of a route configuration of thousands walks
// that host only, and hands a Tracker the others' groups as they were. It relies on Diff's
// contract: a message handed over is never mutated afterwards. The zero
// value is ready; it is safe for concurrent use (concurrent calls for one
// resource stay correct but may decode again).
type RefCache struct {
	listeners ListenerRefs
	mu        sync.Mutex
	routes    map[string]hostMemo // by route configuration name
}

// hostMemo is a route configuration's virtual hosts and the clusters each
// refers to (never nil once known).
type hostMemo struct {
	hosts []*routev3.VirtualHost
	refs  [][]Ref
}

// Outgoing returns Outgoing(m, References), reusing the answers for the
// filter chains or virtual hosts m shares with the last resource of its
// kind and name: a route configuration's groups for the virtual hosts it
// kept are the very slices the last answer held. The groups are c's memory
// too: callers must not modify them.
func (c *RefCache) Outgoing(m proto.Message) ([][]Ref, error) {
	rc, ok := m.(*routev3.RouteConfiguration)
	if !ok {
		return Outgoing(m, c.listeners.References)
	}
	c.mu.Lock()
	prev := c.routes[rc.GetName()]
	c.mu.Unlock()
	next := hostMemo{hosts: rc.GetVirtualHosts(), refs: make([][]Ref, len(rc.GetVirtualHosts()))}
	matchOrdered(prev.hosts, next.hosts, func(i, at int) { next.refs[i] = prev.refs[at] })
	for i, vh := range next.hosts {
		if next.refs[i] == nil {
			next.refs[i] = hostRefs(vh)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.routes == nil {
		c.routes = map[string]hostMemo{}
	}
	c.routes[rc.GetName()] = next
	return next.refs, nil
}

// hostRefs returns the clusters the routes of vh forward or mirror to, in
// the order ConsistentWith checks them; never nil.
func hostRefs(vh *routev3.VirtualHost) []Ref {
	out := []Ref{}
	for _, r := range xds.Thaw(vh).GetRoutes() {
		forRouteClusters(r, func(c string) { out = append(out, Ref{KindCluster, c}) })
	}
	return out
}

// Forget drops what c remembers of the resource of kind k called name;
// callers call it when the resource is removed.
func (c *RefCache) Forget(k Kind, name string) {
	switch k {
	case KindListener:
		c.listeners.Forget(name)
	case KindRoute:
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.routes, name)
	}
}
