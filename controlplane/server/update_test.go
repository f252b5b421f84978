package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// synthetic returns n EDS clusters c00… with their assignments, a route
// configuration "http" with one route to each, and a listener "http"
// using it: 2n+2 resources.
func synthetic(t *testing.T, n int) *xds.Resources {
	t.Helper()
	res := &xds.Resources{}
	vh := &routev3.VirtualHost{Name: "all", Domains: []string{"*"}}
	for i := range n {
		name := fmt.Sprintf("c%02d", i)
		res.Clusters = append(res.Clusters, &clusterv3.Cluster{Name: name, ConnectTimeout: durationpb.New(time.Second),
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}, EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{}})
		res.Endpoints = append(res.Endpoints, assignment(name, fmt.Sprintf("10.0.0.%d", i)))
		vh.Routes = append(vh.Routes, routeTo("/"+name, name))
	}
	res.Routes = []*routev3.RouteConfiguration{{Name: "http", VirtualHosts: []*routev3.VirtualHost{vh}}}
	hcm, err := anypb.New(&hcmv3.HttpConnectionManager{StatPrefix: "http",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "http"}}})
	if err != nil {
		t.Fatal(err)
	}
	res.Listeners = []*listenerv3.Listener{{Name: "http", FilterChains: []*listenerv3.FilterChain{{
		Filters: []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm}}}}}}}
	return res
}

func assignment(cluster, ip string) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{ClusterName: cluster, Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
		HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
			SocketAddress: &corev3.SocketAddress{Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 80}}}}}}}}}}}
}

func routeTo(prefix, cluster string) *routev3.Route {
	return &routev3.Route{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster}}}}
}

// withClusters returns res with its own cluster list, edited by edit.
func withClusters(res *xds.Resources, edit func([]*clusterv3.Cluster) []*clusterv3.Cluster) *xds.Resources {
	next := *res
	next.Clusters = edit(slices.Clone(res.Clusters))
	return &next
}

// deltaWatcher is one delta ADS stream subscribed to every resource of
// some types, which ACKs what it receives.
type deltaWatcher struct {
	stream discoverygrpc.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	in     *inbox[*discoverygrpc.DeltaDiscoveryResponse]
}

// watch opens a stream on conn for types and returns it with the number of
// resources of each type in its first answers.
func watch(ctx context.Context, t *testing.T, conn *grpc.ClientConn, types ...string) (*deltaWatcher, map[string][]string) {
	t.Helper()
	st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &deltaWatcher{stream: st, in: pump(st.Recv)}
	for _, typ := range types {
		if err := st.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string][]string{}
	for range types {
		typ, names := w.next(t)
		got[typ] = names
	}
	return w, got
}

// next returns the type and "name" or "-name" of the next answer, which
// it ACKs, or fails the test when none comes.
func (w *deltaWatcher) next(t *testing.T) (string, []string) {
	t.Helper()
	r, ok := w.in.next(t, 5*time.Second)
	if !ok {
		t.Fatal("no answer")
	}
	if err := w.stream.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range r.GetResources() {
		names = append(names, x.GetName())
	}
	for _, n := range r.GetRemovedResources() {
		names = append(names, "-"+n)
	}
	sort.Strings(names)
	return shortType(r.GetTypeUrl()), names
}

// expect checks that the next answers are exactly want (type → names, in
// any order of types) and that nothing follows.
func (w *deltaWatcher) expect(t *testing.T, step string, want map[string][]string) {
	t.Helper()
	got := map[string][]string{}
	for range want {
		typ, names := w.next(t)
		got[typ] = names
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: got %v, want %v", step, got, want)
	}
	if r, ok := w.in.next(t, 300*time.Millisecond); ok {
		t.Errorf("%s: unexpected push of %s %v", step, shortType(r.GetTypeUrl()), summary(r))
	}
}

var allTypes = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType}

// TestSetResourcesSendsOnlyWhatChanged: a set that keeps all but one
// resource as the same messages sends that one; a new message with equal
// content sends nothing.
func TestSetResourcesSendsOnlyWhatChanged(t *testing.T) {
	res := synthetic(t, 49) // 100 resources
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w, first := watch(ctx, t, conn, allTypes...)
	if len(first["clusters"]) != 49 || len(first["endpoints"]) != 49 || len(first["routes"]) != 1 || len(first["listeners"]) != 1 {
		t.Fatalf("initial answers: %v", first)
	}
	next := withClusters(res, func(cs []*clusterv3.Cluster) []*clusterv3.Cluster {
		c := proto.CloneOf(cs[7])
		c.ConnectTimeout = durationpb.New(3 * time.Second)
		cs[7] = c
		return cs
	})
	if err := s.SetResources(ctx, next); err != nil {
		t.Fatal(err)
	}
	w.expect(t, "one cluster replaced", map[string][]string{"clusters": {"c07"}})

	same := withClusters(next, func(cs []*clusterv3.Cluster) []*clusterv3.Cluster {
		cs[8] = proto.CloneOf(cs[8])
		return cs
	})
	same.Routes = []*routev3.RouteConfiguration{proto.CloneOf(res.Routes[0])}
	if err := s.SetResources(ctx, same); err != nil {
		t.Fatal(err)
	}
	w.expect(t, "equal content in new messages", nil)
}

// TestSetResourcesRefusesDanglingReferences: a set naming a missing
// cluster, or removing a cluster still routed to, is refused; the last
// accepted set keeps being served, and later sets are checked against it.
func TestSetResourcesRefusesDanglingReferences(t *testing.T) {
	res := synthetic(t, 5)
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w, _ := watch(ctx, t, conn, allTypes...)

	missing := *res
	rc := proto.CloneOf(res.Routes[0])
	rc.VirtualHosts[0].Routes = append(rc.VirtualHosts[0].Routes, routeTo("/nope", "nope"))
	missing.Routes = []*routev3.RouteConfiguration{rc}
	err := s.SetResources(ctx, &missing)
	if want := `refusing an inconsistent resource set: route configuration "http", virtual host "all", route 5: cluster "nope" does not exist`; fmt.Sprint(err) != want {
		t.Errorf("route to a missing cluster: got %v, want %s", err, want)
	}
	removed := withClusters(res, func(cs []*clusterv3.Cluster) []*clusterv3.Cluster { return slices.Delete(cs, 3, 4) })
	removed.Endpoints = slices.Delete(slices.Clone(res.Endpoints), 3, 4)
	err = s.SetResources(ctx, removed)
	if want := `route configuration "http", virtual host "all", route 3: cluster "c03" does not exist`; !errors.Is(err, snapshot.ErrInconsistent) || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("removal of a cluster still used: got %v, want %s", err, want)
	}
	w.expect(t, "after the refusals", nil)
	_, fresh := watch(ctx, t, conn, allTypes...)
	if len(fresh["clusters"]) != 5 || len(fresh["endpoints"]) != 5 || !slices.Contains(fresh["clusters"], "c03") {
		t.Errorf("a new stream got %v, want the accepted set", fresh)
	}

	// Removing the cluster with its route is fine.
	rc = proto.CloneOf(res.Routes[0])
	rc.VirtualHosts[0].Routes = slices.Delete(rc.VirtualHosts[0].Routes, 3, 4)
	removed.Routes = []*routev3.RouteConfiguration{rc}
	if err := s.SetResources(ctx, removed); err != nil {
		t.Fatal(err)
	}
	w.expect(t, "route and cluster removed", map[string][]string{"routes": {"http"}, "clusters": {"-c03"}, "endpoints": {"-c03"}})
}

// TestSetResourcesAfterUpdateEndpoints: assignments UpdateEndpoints
// replaced are compared again at the next SetResources, even when the set
// holds the same messages as the last one, and assignments it added count
// for the consistency of the next sets.
func TestSetResourcesAfterUpdateEndpoints(t *testing.T) {
	res := synthetic(t, 5)
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w, _ := watch(ctx, t, conn, allTypes...)

	if err := s.UpdateEndpoints(ctx, []*endpointv3.ClusterLoadAssignment{assignment("c02", "10.9.9.9")}); err != nil {
		t.Fatal(err)
	}
	w.expect(t, "fast path", map[string][]string{"endpoints": {"c02"}})
	if err := s.SetResources(ctx, res); err != nil {
		t.Fatal(err)
	}
	w.expect(t, "the set's own assignment again", map[string][]string{"endpoints": {"c02"}})

	extra := assignment("extra", "10.8.8.8")
	if err := s.UpdateEndpoints(ctx, []*endpointv3.ClusterLoadAssignment{extra}); err != nil {
		t.Fatal(err)
	}
	w.expect(t, "a new assignment", map[string][]string{"endpoints": {"extra"}})
	next := withClusters(res, func(cs []*clusterv3.Cluster) []*clusterv3.Cluster {
		return append(cs, &clusterv3.Cluster{Name: "extra", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}})
	})
	next.Endpoints = append(slices.Clone(res.Endpoints), extra)
	if err := s.SetResources(ctx, next); err != nil {
		t.Fatal(err)
	}
	w.expect(t, "a cluster for it", map[string][]string{"clusters": {"extra"}})
	if err := s.SetResources(ctx, res); err != nil {
		t.Fatal(err)
	}
	w.expect(t, "both gone", map[string][]string{"clusters": {"-extra"}, "endpoints": {"-extra"}})
}
