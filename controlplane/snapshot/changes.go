package snapshot

import (
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Kind is one of the five resource types of a set.
type Kind uint8

// The kinds, in the order Changes lists them.
const (
	KindListener Kind = iota
	KindRoute
	KindCluster
	KindEndpoint // ClusterLoadAssignment
	KindSecret
	kinds = iota
)

// String returns the kind as errors name it: "listener", "route
// configuration", "cluster", "ClusterLoadAssignment" or "secret".
func (k Kind) String() string {
	switch k {
	case KindListener:
		return "listener"
	case KindRoute:
		return "route configuration"
	case KindCluster:
		return "cluster"
	case KindEndpoint:
		return "ClusterLoadAssignment"
	case KindSecret:
		return "secret"
	}
	return "unknown kind"
}

// Item is one resource of a set with the name it is served under (a
// ClusterLoadAssignment's cluster_name, every other resource's name).
type Item struct {
	Name     string
	Resource proto.Message
}

// Delta is what changed in one kind's list between two sets: the resources
// of the new set that are not the very same pointer as in the old one
// (added, or replaced by a new message, whose content may still be equal),
// in name order, and the names the new set no longer has, in order.
type Delta struct {
	Changed []Item
	Removed []string
}

// Changes holds one Delta per Kind, indexed by Kind.
type Changes [kinds]Delta

// Set is a resource set as Diff reads it: each list sorted by name, with
// one resource per name (ClusterLoadAssignments named by cluster_name),
// in lists that are not the caller's but may be shared with other Sets
// (none is modified in place); the resources themselves are shared with
// whoever handed them over. The zero value is an empty set.
type Set struct {
	res xds.Resources
}

// NewSet returns res as a Set: res's lists are copied, and sorted when
// they are not (an O(n) check), the last of several resources of one name
// winning. res is not modified.
func NewSet(res *xds.Resources) *Set {
	_, s := Diff(nil, res)
	return s
}

// Resources returns the set's lists; callers must not modify them.
func (s *Set) Resources() *xds.Resources { return &s.res }

// PutEndpoints replaces the ClusterLoadAssignments of the same names as
// clas, or adds them: the endpoint fast path changes a set in place. The
// set's list of assignments is copied first, as other sets may share it.
func (s *Set) PutEndpoints(clas ...*endpointv3.ClusterLoadAssignment) {
	if len(clas) == 0 {
		return
	}
	s.res.Endpoints = slices.Clone(s.res.Endpoints)
	for _, c := range clas {
		name := c.GetClusterName()
		i, found := slices.BinarySearchFunc(s.res.Endpoints, name, func(e *endpointv3.ClusterLoadAssignment, n string) int {
			return strings.Compare(e.GetClusterName(), n)
		})
		if found {
			s.res.Endpoints[i] = c
		} else {
			s.res.Endpoints = slices.Insert(s.res.Endpoints, i, c)
		}
	}
}

// Diff returns what changed from prev (nil: an empty set) to next, kind by
// kind, and next as a Set, in one merge pass over each pair of lists.
// next's lists are read as they are when sorted by name, or else through a
// sorted copy in which the last of several resources of one name wins;
// next is not modified. Checking that a list is sorted compares the names
// only where it departs from prev's order, so that a set that changed
// little costs little more than comparing pointers.
//
// Diff compares pointers, not contents: it relies on the contract that a
// resource, once handed over in a set, is never mutated afterwards; a new
// content needs a new message. An unchanged resource handed over again as
// the same pointer costs nothing; a new pointer with equal content is
// reported as changed, and callers compare versions to drop it.
func Diff(prev *Set, next *xds.Resources) (Changes, *Set) {
	if prev == nil {
		prev = &Set{}
	}
	var c Changes
	s := &Set{}
	c[KindListener], s.res.Listeners = diffList(prev.res.Listeners, next.Listeners, (*listenerv3.Listener).GetName)
	c[KindRoute], s.res.Routes = diffList(prev.res.Routes, next.Routes, (*routev3.RouteConfiguration).GetName)
	c[KindCluster], s.res.Clusters = diffList(prev.res.Clusters, next.Clusters, (*clusterv3.Cluster).GetName)
	c[KindEndpoint], s.res.Endpoints = diffList(prev.res.Endpoints, next.Endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName)
	c[KindSecret], s.res.Secrets = diffList(prev.res.Secrets, next.Secrets, (*tlsv3.Secret).GetName)
	return c, s
}

// resource is a resource message type: a pointer, compared by identity.
type resource interface {
	comparable
	proto.Message
}

// diffList compares prev, sorted with unique names, with next, and
// returns the changes and next's list as a Set holds it: prev itself when
// next holds the very same resources (Sets share lists, and never modify
// one in place), else a copy.
func diffList[T resource](prev, next []T, name func(T) string) (Delta, []T) {
	if d, ok := mergeSorted(prev, next, name); ok {
		if len(d.Changed) == 0 && len(d.Removed) == 0 {
			return d, prev
		}
		return d, slices.Clone(next)
	}
	next = sortedCopy(next, name)
	d, _ := mergeSorted(prev, next, name)
	return d, next
}

// mergeSorted walks prev and next in name order and returns the changes;
// ok is false when next's names do not strictly increase. Two neighbours
// of next that are neighbours of prev as well are in order already; only
// other pairs are compared.
func mergeSorted[T resource](prev, next []T, name func(T) string) (d Delta, ok bool) {
	i := 0
	matched := -2 // the index in prev of next[j-1] when it is the same pointer
	for j, n := range next {
		at := -1
		if i < len(prev) && prev[i] == n {
			at = i
		}
		if j > 0 && (at < 0 || matched != at-1) && name(next[j-1]) >= name(n) {
			return Delta{}, false
		}
		if at >= 0 {
			i, matched = i+1, at
			continue
		}
		nn := name(n)
		for i < len(prev) && name(prev[i]) < nn {
			d.Removed = append(d.Removed, name(prev[i]))
			i++
		}
		if i < len(prev) && prev[i] == n {
			i, matched = i+1, i
			continue
		}
		if i < len(prev) && name(prev[i]) == nn {
			i++
		}
		d.Changed = append(d.Changed, Item{nn, n})
		matched = -2
	}
	for ; i < len(prev); i++ {
		d.Removed = append(d.Removed, name(prev[i]))
	}
	return d, true
}

func sortedCopy[T any](list []T, name func(T) string) []T {
	out := slices.Clone(list)
	slices.SortStableFunc(out, func(a, b T) int { return strings.Compare(name(a), name(b)) })
	w := 0
	for i := range out {
		if i+1 < len(out) && name(out[i]) == name(out[i+1]) {
			continue // a later one of the same name wins
		}
		out[w] = out[i]
		w++
	}
	clear(out[w:])
	return out[:w]
}
