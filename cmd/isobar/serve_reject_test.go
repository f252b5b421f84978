package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// TestServeClusterEnvoyRejected runs `isobar serve` against a real API
// server with a delta client that rejects a change to one of two hosts:
// the leader puts an EnvoyRejected warning (with Envoy's message) on that
// host's HTTPProxy only, and takes it away once the client accepts a newer
// revision.
func TestServeClusterEnvoyRejected(t *testing.T) {
	_, kubeconfig, c := startAPIServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	createNamespaces(ctx, t, c, "app", "projectcontour")
	proxy := func(name string) *contourv1.HTTPProxy {
		return &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name},
			Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: name + ".example.com"},
				Routes: []contourv1.Route{{Services: []contourv1.Service{{Name: "web", Port: 80}}}}}}
	}
	shop, blog := proxy("shop"), proxy("blog")
	for _, o := range []client.Object{shop, blog, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServe(ctx, t, kubeconfig, true)
	defer srv.stop(t)
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(srv.xdsPort), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var stream discoverygrpc.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	untilServed(t, func() (err error) {
		stream, err = discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
		if err == nil {
			err = stream.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNamesSubscribe: []string{"ingress_http"}})
		}
		return err
	})
	// answer reads the next response and accepts it, or rejects it with
	// the message nack.
	answer := func(nack string) {
		t.Helper()
		r, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		req := &discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}
		if nack != "" {
			req.ErrorDetail = &statuspb.Status{Message: nack}
		}
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	setPrefix := func(prefix string) {
		t.Helper()
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var p contourv1.HTTPProxy
			if err := c.Get(ctx, client.ObjectKeyFromObject(shop), &p); err != nil {
				return err
			}
			p.Spec.Routes[0].Conditions = []contourv1.MatchCondition{{Prefix: prefix}}
			return c.Update(ctx, &p)
		}); err != nil {
			t.Fatal(err)
		}
	}
	rejected := func(p *contourv1.HTTPProxy) bool {
		var got contourv1.HTTPProxy
		if c.Get(ctx, client.ObjectKeyFromObject(p), &got) != nil || got.Status.CurrentStatus != "valid" {
			return false
		}
		return strings.Contains(conditionText(got.Status.Conditions), string(status.EnvoyRejectedWarning))
	}
	answer("") // the first answer: both hosts
	// A change of shop, rejected with a message naming its host.
	setPrefix("/a")
	answer("route configuration ingress_http: virtual host shop.example.com: bad route")
	eventually(t, 30*time.Second, "the EnvoyRejected warning on shop", func() bool {
		var got contourv1.HTTPProxy
		return rejected(shop) && c.Get(ctx, client.ObjectKeyFromObject(shop), &got) == nil &&
			strings.Contains(conditionText(got.Status.Conditions), "virtual host shop.example.com: bad route")
	})
	if rejected(blog) {
		t.Fatal("blog, which the rejection does not name, carries the warning")
	}
	// A newer revision accepted lifts it.
	setPrefix("/b")
	answer("")
	eventually(t, 30*time.Second, "the warning lifted", func() bool { return !rejected(shop) })
}
