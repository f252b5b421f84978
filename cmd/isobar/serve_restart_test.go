package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// TestServeSurvivesAPIServerRestart stops the kube-apiserver while `isobar
// serve` is serving, for longer than the leader's renew deadline, then starts
// it again. Meanwhile the connected xDS client must keep its configuration
// (nothing pushed without the served host); after the restart the informers
// re-list, a new object reaches the client, and the replica leads again and
// writes its status.
func TestServeSurvivesAPIServerRestart(t *testing.T) {
	env, kubeconfig, c := startAPIServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, ns := range []string{"apps", "projectcontour"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	proxy := func(name, fqdn string) *contourv1.HTTPProxy {
		return &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name},
			Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: fqdn},
				Routes: []contourv1.Route{{Services: []contourv1.Service{{Name: "web", Port: 80}}}}}}
	}
	objs := []client.Object{&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}},
		proxy("web", "web.example.com")}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServe(ctx, t, kubeconfig, true)
	xdsPort, httpPort := srv.xdsPort, srv.httpPort
	status := func(name string) string {
		var p contourv1.HTTPProxy
		if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: name}, &p); err != nil {
			return ""
		}
		return p.Status.CurrentStatus
	}
	eventually(t, 30*time.Second, "status valid", func() bool { return status("web") == "valid" })

	updates := watchVirtualHosts(ctx, t, xdsPort)
	if got := <-updates; !slices.Equal(got, []string{"web.example.com"}) {
		t.Fatalf("virtual hosts before the outage %v", got)
	}

	// SIGTERM, then SIGKILL after 5 s: either way the API server goes away.
	stopped := time.Now()
	if err := env.ControlPlane.APIServer.Stop(); err != nil {
		t.Logf("stopping the API server: %v", err)
	}
	// Longer than the renew deadline (10 s): the replica loses the Lease.
	outage := time.After(time.Until(stopped.Add(14 * time.Second)))
	for waiting := true; waiting; {
		select {
		case got := <-updates:
			if !slices.Equal(got, []string{"web.example.com"}) {
				t.Fatalf("during the outage the client received virtual hosts %v", got)
			}
		case <-outage:
			waiting = false
		}
	}
	// Liveness stays green: a restarted replica could not sync either.
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Kubernetes API unreachable") {
		t.Errorf("/healthz during the outage: %d %s", resp.StatusCode, body)
	}
	if err := env.ControlPlane.APIServer.Start(); err != nil {
		t.Fatal(err)
	}

	eventually(t, 30*time.Second, "the API server back", func() bool {
		return c.Get(ctx, client.ObjectKey{Name: "apps"}, &corev1.Namespace{}) == nil
	})
	if err := c.Create(ctx, proxy("api", "api.example.com")); err != nil {
		t.Fatal(err)
	}
	want := []string{"api.example.com", "web.example.com"}
	deadline := time.After(40 * time.Second)
	for got := <-updates; !slices.Equal(got, want); {
		select {
		case got = <-updates:
			if len(got) == 0 {
				t.Fatalf("after the restart the client received no virtual hosts")
			}
		case <-deadline:
			t.Fatalf("the object created after the restart never reached the client (last %v)", got)
		}
	}
	// The replica campaigns again and the new object gets its status.
	eventually(t, 60*time.Second, "status of the new proxy", func() bool { return status("api") == "valid" })
	srv.stop(t)
}

// watchVirtualHosts subscribes to the route configuration ingress_http over
// ADS, ACKs every response, and sends the names of its virtual hosts.
func watchVirtualHosts(ctx context.Context, t *testing.T, port int) <-chan []string {
	t.Helper()
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ads, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := &discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNames: []string{"ingress_http"}}
	if err := ads.Send(req); err != nil {
		t.Fatal(err)
	}
	out := make(chan []string, 16)
	go func() {
		defer close(out)
		for {
			r, err := ads.Recv()
			if err != nil {
				return
			}
			_ = ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNames: []string{"ingress_http"},
				VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()})
			var names []string
			for _, a := range r.GetResources() {
				var rc routev3.RouteConfiguration
				if a.UnmarshalTo(&rc) != nil {
					continue
				}
				for _, vh := range rc.GetVirtualHosts() {
					names = append(names, vh.GetName())
				}
			}
			select {
			case out <- names:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
