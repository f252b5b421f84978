package xds

import (
	"sort"

	"google.golang.org/protobuf/proto"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/isobar-dev/isobar/internal/parallel"
)

// Resources is the full xDS output of one build. Every list is sorted by
// resource name once Sort has been called; producers call it before handing
// the set on, and consumers may rely on it.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Secrets   []*tlsv3.Secret
}

// Sort orders every list by resource name (ClusterLoadAssignments by
// cluster_name). The lists are sorted side by side on every core when they
// are long enough to be worth it.
func (r *Resources) Sort() {
	sorts := []func(){
		func() {
			sort.Slice(r.Listeners, func(i, j int) bool { return r.Listeners[i].GetName() < r.Listeners[j].GetName() })
		},
		r.SortRoutes,
		func() {
			sort.Slice(r.Clusters, func(i, j int) bool { return r.Clusters[i].GetName() < r.Clusters[j].GetName() })
		},
		func() {
			sort.Slice(r.Endpoints, func(i, j int) bool { return r.Endpoints[i].GetClusterName() < r.Endpoints[j].GetClusterName() })
		},
		func() {
			sort.Slice(r.Secrets, func(i, j int) bool { return r.Secrets[i].GetName() < r.Secrets[j].GetName() })
		},
	}
	if len(r.Routes)+len(r.Clusters)+len(r.Endpoints)+len(r.Secrets) < minParallelSort {
		for _, s := range sorts {
			s()
		}
		return
	}
	parallel.Do(sorts...)
}

// minParallelSort is the number of resources below which Sort sorts its
// lists one after another.
const minParallelSort = 4096

// SortRoutes orders the route configurations as Sort does (by name, which
// is unique): a caller that has them before the rest can sort them
// first, and Sort then leaves them as they are.
func (r *Resources) SortRoutes() {
	sort.Slice(r.Routes, func(i, j int) bool { return r.Routes[i].GetName() < r.Routes[j].GetName() })
}

// Listener returns the listener called name, or nil.
func (r *Resources) Listener(name string) *listenerv3.Listener {
	for _, l := range r.Listeners {
		if l.GetName() == name {
			return l
		}
	}
	return nil
}

// RouteConfiguration returns the route configuration called name, or nil.
func (r *Resources) RouteConfiguration(name string) *routev3.RouteConfiguration {
	i := sort.Search(len(r.Routes), func(i int) bool { return r.Routes[i].GetName() >= name })
	if i < len(r.Routes) && r.Routes[i].GetName() == name {
		return r.Routes[i]
	}
	return nil
}

// Cluster returns the cluster called name, or nil. The list must be sorted.
func (r *Resources) Cluster(name string) *clusterv3.Cluster {
	i := sort.Search(len(r.Clusters), func(i int) bool { return r.Clusters[i].GetName() >= name })
	if i < len(r.Clusters) && r.Clusters[i].GetName() == name {
		return r.Clusters[i]
	}
	return nil
}

// ClusterLoadAssignment returns the ClusterLoadAssignment for the EDS service name, or
// nil. The list must be sorted.
func (r *Resources) ClusterLoadAssignment(name string) *endpointv3.ClusterLoadAssignment {
	i := sort.Search(len(r.Endpoints), func(i int) bool { return r.Endpoints[i].GetClusterName() >= name })
	if i < len(r.Endpoints) && r.Endpoints[i].GetClusterName() == name {
		return r.Endpoints[i]
	}
	return nil
}

// Equal reports whether r and o hold the same resources in the same order,
// compared with proto.Equal.
func (r *Resources) Equal(o *Resources) bool {
	return equalList(r.Listeners, o.Listeners) && equalList(r.Routes, o.Routes) && equalList(r.Clusters, o.Clusters) &&
		equalList(r.Endpoints, o.Endpoints) && equalList(r.Secrets, o.Secrets)
}

func equalList[T proto.Message](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Messages lists every resource of r: listeners, route configurations,
// clusters, assignments, then secrets, each list in its order.
func (r *Resources) Messages() []proto.Message {
	out := make([]proto.Message, 0, len(r.Listeners)+len(r.Routes)+len(r.Clusters)+len(r.Endpoints)+len(r.Secrets))
	out = appendMessages(out, r.Listeners)
	out = appendMessages(out, r.Routes)
	out = appendMessages(out, r.Clusters)
	out = appendMessages(out, r.Endpoints)
	return appendMessages(out, r.Secrets)
}

func appendMessages[T proto.Message](out []proto.Message, list []T) []proto.Message {
	for _, m := range list {
		out = append(out, m)
	}
	return out
}
