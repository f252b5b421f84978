package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// TestServeClusterDelta connects a delta-ADS client to `isobar serve`
// running against a real API server: an EndpointSlice change arrives as
// exactly one ClusterLoadAssignment (no cluster or route is resent), and a
// new HTTPProxy arrives as a route configuration only.
func TestServeClusterDelta(t *testing.T) {
	_, kubeconfig, c := startAPIServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}); err != nil {
		t.Fatal(err)
	}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web-1",
		Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(8080))}}}
	proxy := func(name, fqdn string) *contourv1.HTTPProxy {
		return &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name},
			Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: fqdn},
				Routes: []contourv1.Route{{Services: []contourv1.Service{{Name: "web", Port: 80}}}}}}
	}
	for _, o := range []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}},
		slice, proxy("web", "web.example.com"),
	} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServe(ctx, t, kubeconfig, false)
	xdsPort := srv.xdsPort
	var conn *grpc.ClientConn
	var stream discoverygrpc.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	eventually(t, 30*time.Second, "the xDS port", func() bool {
		var err error
		if conn, err = grpc.NewClient("127.0.0.1:"+strconv.Itoa(xdsPort), grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
			return false
		}
		if stream, err = discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx); err != nil {
			conn.Close()
			return false
		}
		return true
	})
	defer conn.Close()
	types := []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.RouteType}
	for _, typ := range types {
		if err := stream.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
	}
	responses := make(chan *discoverygrpc.DeltaDiscoveryResponse, 16)
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				close(responses)
				return
			}
			_ = stream.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()})
			responses <- r
		}
	}()
	next := func(within time.Duration) *discoverygrpc.DeltaDiscoveryResponse {
		select {
		case r := <-responses:
			return r
		case <-time.After(within):
			return nil
		}
	}
	got := map[string]int{}
	for range types {
		r := next(30 * time.Second)
		if r == nil {
			t.Fatalf("initial responses: only %v", got)
		}
		got[r.GetTypeUrl()] = len(r.GetResources())
	}
	if got[resourcev3.ClusterType] != 1 || got[resourcev3.EndpointType] != 1 || got[resourcev3.RouteType] != 1 {
		t.Fatalf("initial responses %v, want one resource of each type", got)
	}
	quiet := func(what string) {
		t.Helper()
		if r := next(time.Second); r != nil {
			t.Fatalf("after %s, also received %d resources of %s", what, len(r.GetResources()), r.GetTypeUrl())
		}
	}

	// An endpoint change: one ClusterLoadAssignment, nothing else.
	slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.0.0.2"},
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}})
	if err := c.Update(ctx, slice); err != nil {
		t.Fatal(err)
	}
	r := next(30 * time.Second)
	if r == nil || r.GetTypeUrl() != resourcev3.EndpointType || len(r.GetResources()) != 1 || r.GetResources()[0].GetName() != "apps/web/http" {
		t.Fatalf("after the EndpointSlice change: %v", r)
	}
	quiet("the endpoint change")

	// A new HTTPProxy on the same Service: the route configuration only.
	if err := c.Create(ctx, proxy("api", "api.example.com")); err != nil {
		t.Fatal(err)
	}
	r = next(30 * time.Second)
	if r == nil || r.GetTypeUrl() != resourcev3.RouteType || len(r.GetResources()) != 1 || r.GetResources()[0].GetName() != "ingress_http" {
		t.Fatalf("after the new HTTPProxy: %v", r)
	}
	quiet("the new HTTPProxy")

	// The Service's limits (informers cache what the core reads of a
	// Service): its cluster only.
	svc := &corev1.Service{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "web"}, svc); err != nil {
		t.Fatal(err)
	}
	svc.Annotations = map[string]string{"projectcontour.io/max-connections": "7", "meta.helm.sh/release-name": "web"}
	if err := c.Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	r = next(30 * time.Second)
	var cluster clusterv3.Cluster
	if r == nil || r.GetTypeUrl() != resourcev3.ClusterType || len(r.GetResources()) != 1 ||
		r.GetResources()[0].GetResource().UnmarshalTo(&cluster) != nil ||
		cluster.GetCircuitBreakers().GetThresholds()[0].GetMaxConnections().GetValue() != 7 {
		t.Fatalf("after the Service change: %v", r)
	}
	quiet("the Service change")

	// The slice moved to another Service, back, then deleted (the
	// informer hands back what it cached): web's assignment each time,
	// with no endpoint, both, and none.
	for _, step := range []struct {
		what      string
		change    func() error
		endpoints int
	}{
		{"moved to another Service", func() error { slice.Labels[discoveryv1.LabelServiceName] = "other"; return c.Update(ctx, slice) }, 0},
		{"moved back", func() error { slice.Labels[discoveryv1.LabelServiceName] = "web"; return c.Update(ctx, slice) }, 2},
		{"deleted", func() error { return c.Delete(ctx, slice) }, 0},
	} {
		if err := step.change(); err != nil {
			t.Fatal(err)
		}
		r = next(30 * time.Second)
		var cla endpointv3.ClusterLoadAssignment
		if r == nil || r.GetTypeUrl() != resourcev3.EndpointType || len(r.GetResources()) != 1 ||
			r.GetResources()[0].GetResource().UnmarshalTo(&cla) != nil || cla.GetClusterName() != "apps/web/http" {
			t.Fatalf("after the EndpointSlice was %s: %v", step.what, r)
		}
		n := 0
		for _, l := range cla.GetEndpoints() {
			n += len(l.GetLbEndpoints())
		}
		if n != step.endpoints {
			t.Fatalf("after the EndpointSlice was %s: %d endpoints, want %d: %v", step.what, n, step.endpoints, &cla)
		}
		quiet("the EndpointSlice " + step.what)
	}
	srv.stop(t)
}
