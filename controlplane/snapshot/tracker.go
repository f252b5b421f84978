package snapshot

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// ErrInconsistent is what Tracker.Apply's errors wrap: the change would
// leave a reference dangling.
var ErrInconsistent = errors.New("inconsistent resource set")

// Ref names one resource.
type Ref struct {
	Kind Kind
	Name string
}

// Node is one resource handed to a Tracker: its name, its message (read
// only to word errors) and what it refers to, in groups (see Outgoing).
type Node struct {
	Ref
	Resource proto.Message
	Out      [][]Ref
}

// Outgoing returns what m refers to, in groups: a listener's secrets, then
// route configurations, then clusters (the order ConsistentWith checks
// them), as listenerRefs gives them (References, or a cache of it), in one
// group; the clusters the routes of a route configuration forward or
// mirror to, one group per virtual host; an EDS cluster's
// ClusterLoadAssignment. ClusterLoadAssignments and secrets refer to
// nothing.
func Outgoing(m proto.Message, listenerRefs func(*listenerv3.Listener) (Refs, error)) ([][]Ref, error) {
	switch m := m.(type) {
	case *listenerv3.Listener:
		r, err := listenerRefs(m)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", m.GetName(), err)
		}
		out := make([]Ref, 0, len(r.Secrets)+len(r.Routes)+len(r.Clusters))
		out = appendRefs(out, KindSecret, r.Secrets)
		out = appendRefs(out, KindRoute, r.Routes)
		out = appendRefs(out, KindCluster, r.Clusters)
		return [][]Ref{out}, nil
	case *routev3.RouteConfiguration:
		out := make([][]Ref, len(m.GetVirtualHosts()))
		for i, vh := range m.GetVirtualHosts() {
			out[i] = hostRefs(vh)
		}
		return out, nil
	case *clusterv3.Cluster:
		if name, ok := edsName(m); ok {
			return [][]Ref{{{KindEndpoint, name}}}, nil
		}
	}
	return nil, nil
}

func appendRefs(out []Ref, k Kind, names []string) []Ref {
	for _, n := range names {
		out = append(out, Ref{k, n})
	}
	return out
}

// Tracker checks a resource set for dangling references change by change:
// it keeps, for each resource, what it refers to, and for each name, how
// many references point at it, so that a change costs time in proportion
// to the resources it touches and their references, whatever the size of
// the set. A set is consistent exactly when ConsistentWith accepts it. The
// zero value is an empty, consistent set; a Tracker is not safe for
// concurrent use.
type Tracker struct {
	nodes    map[Ref]node
	users    map[Ref]int // references to each name, from the resources present
	dangling int         // references to names not present
}

type node struct {
	msg proto.Message
	out [][]Ref
}

// Apply removes the named resources, then adds or replaces put (a later
// node of the same name wins). When the result would refer to a resource
// it does not hold, Apply changes nothing and returns an error wrapping
// ErrInconsistent that names the first dangling reference, in
// ConsistentWith's order and words.
func (t *Tracker) Apply(put []Node, remove []Ref) error {
	j := journal{t: t, dangling: t.dangling}
	if len(t.nodes) == 0 {
		// Nothing to save: a refusal empties the tracker again.
		t.nodes, t.users = make(map[Ref]node, len(put)), make(map[Ref]int, len(put))
	} else {
		j.nodes, j.users = map[Ref]*node{}, map[Ref]int{}
	}
	for _, r := range remove {
		j.remove(r)
	}
	for _, n := range put {
		j.put(n)
	}
	if t.dangling == 0 {
		return nil
	}
	err := t.firstDangling()
	j.undo()
	return err
}

// journal applies a change to a Tracker, saving what it overwrites so
// that it can undo the change; with nil maps, the Tracker was empty, and
// undoing empties it.
type journal struct {
	t        *Tracker
	nodes    map[Ref]*node // the node before the change (nil: absent)
	users    map[Ref]int
	dangling int
}

func (j *journal) remove(r Ref) {
	old, ok := j.t.nodes[r]
	if !ok {
		return
	}
	for _, g := range old.out {
		for _, x := range g {
			j.use(x, -1)
		}
	}
	j.setNode(r, nil)
	j.t.dangling += j.t.users[r]
}

// put adds or replaces a node. Of a replaced node's reference groups,
// only those between the common beginning and end of the old and new
// lists are counted out and in: a big route configuration that changed one
// virtual host costs a comparison of its groups (most of them the very
// same slices, when they come from a RefCache), not two passes over the
// counts.
func (j *journal) put(n Node) {
	old, ok := j.t.nodes[n.Ref]
	p, q := common(old.out, n.Out)
	for _, g := range old.out[p : len(old.out)-q] {
		for _, x := range g {
			j.use(x, -1)
		}
	}
	j.setNode(n.Ref, &node{n.Resource, n.Out})
	if !ok {
		j.t.dangling -= j.t.users[n.Ref]
	}
	for _, g := range n.Out[p : len(n.Out)-q] {
		for _, x := range g {
			j.use(x, 1)
		}
	}
}

// common returns the lengths of the longest common prefix of a and b, and
// of the longest common suffix of what follows it, comparing groups.
func common(a, b [][]Ref) (prefix, suffix int) {
	for prefix < len(a) && prefix < len(b) && sameRefs(a[prefix], b[prefix]) {
		prefix++
	}
	for suffix < len(a)-prefix && suffix < len(b)-prefix && sameRefs(a[len(a)-1-suffix], b[len(b)-1-suffix]) {
		suffix++
	}
	return prefix, suffix
}

// sameRefs reports whether a and b are equal, at once when they are the
// same slice.
func sameRefs(a, b []Ref) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0] || slices.Equal(a, b)
}

// use adds d references to r.
func (j *journal) use(r Ref, d int) {
	if _, saved := j.users[r]; !saved && j.users != nil {
		j.users[r] = j.t.users[r]
	}
	if u := j.t.users[r] + d; u == 0 {
		delete(j.t.users, r)
	} else {
		j.t.users[r] = u
	}
	if _, ok := j.t.nodes[r]; !ok {
		j.t.dangling += d
	}
}

// setNode sets r's node (nil: removes r).
func (j *journal) setNode(r Ref, n *node) {
	if _, saved := j.nodes[r]; !saved && j.nodes != nil {
		var was *node
		if old, ok := j.t.nodes[r]; ok {
			was = &old
		}
		j.nodes[r] = was
	}
	if n == nil {
		delete(j.t.nodes, r)
	} else {
		j.t.nodes[r] = *n
	}
}

func (j *journal) undo() {
	if j.nodes == nil {
		*j.t = Tracker{}
		return
	}
	for r, n := range j.nodes {
		if n == nil {
			delete(j.t.nodes, r)
		} else {
			j.t.nodes[r] = *n
		}
	}
	for r, u := range j.users {
		if u == 0 {
			delete(j.t.users, r)
		} else {
			j.t.users[r] = u
		}
	}
	j.t.dangling = j.dangling
}

// danglingError is a dangling reference, worded as ConsistentWith words it.
type danglingError struct{ msg string }

func (e *danglingError) Error() string { return e.msg }
func (e *danglingError) Unwrap() error { return ErrInconsistent }

// firstDangling finds the first dangling reference as ConsistentWith
// would: listeners, then route configurations, then clusters, each in name
// order. It scans every resource, which only the error path pays for.
func (t *Tracker) firstDangling() error {
	for k := range Kind(kinds) {
		var names []string
		for r, n := range t.nodes {
			if r.Kind == k && t.dangles(n) {
				names = append(names, r.Name)
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			r := Ref{k, names[0]}
			return &danglingError{t.describe(r, t.nodes[r])}
		}
	}
	return fmt.Errorf("%w: %d dangling references", ErrInconsistent, t.dangling)
}

func (t *Tracker) dangles(n node) bool {
	for _, g := range n.out {
		for _, x := range g {
			if _, ok := t.nodes[x]; !ok {
				return true
			}
		}
	}
	return false
}

func (t *Tracker) describe(r Ref, n node) string {
	if rc, ok := n.msg.(*routev3.RouteConfiguration); ok {
		for _, vh := range rc.GetVirtualHosts() {
			for i, route := range xds.Thaw(vh).GetRoutes() {
				for _, c := range routeClusters(route) {
					if _, ok := t.nodes[Ref{KindCluster, c}]; !ok {
						return fmt.Sprintf("route configuration %q, virtual host %q, route %d: cluster %q does not exist", rc.GetName(), vh.GetName(), i, c)
					}
				}
			}
		}
	}
	for _, g := range n.out {
		for _, x := range g {
			if _, ok := t.nodes[x]; !ok {
				return fmt.Sprintf("%s %q: %s %q does not exist", r.Kind, r.Name, x.Kind, x.Name)
			}
		}
	}
	return fmt.Sprintf("%s %q: a reference dangles", r.Kind, r.Name)
}
