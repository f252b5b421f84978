package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
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

// rejectRig is `isobar serve` (the leader) against a real API server with
// two HTTPProxies, shop and blog, each a host without TLS, and one delta
// client subscribed to ingress_http that accepts or rejects each answer.
type rejectRig struct {
	ctx        context.Context
	c          client.Client
	shop, blog *contourv1.HTTPProxy
	stream     discoverygrpc.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
}

func newRejectRig(t *testing.T, flags func(*serveFlags)) *rejectRig {
	_, kubeconfig, c := startAPIServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &rejectRig{ctx: ctx, c: c}
	createNamespaces(ctx, t, c, "app", "projectcontour")
	proxy := func(name string) *contourv1.HTTPProxy {
		return &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name},
			Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: name + ".example.com"},
				Routes: []contourv1.Route{{Services: []contourv1.Service{{Name: "web", Port: 80}}}}}}
	}
	r.shop, r.blog = proxy("shop"), proxy("blog")
	for _, o := range []client.Object{r.shop, r.blog, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServeFlags(ctx, t, kubeconfig, true, flags)
	t.Cleanup(func() { srv.stop(t) })
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(srv.xdsPort), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	untilServed(t, func() (err error) {
		r.stream, err = discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
		if err == nil {
			err = r.stream.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNamesSubscribe: []string{"ingress_http"}})
		}
		return err
	})
	return r
}

// answer reads the next response and accepts it, or rejects it with the
// message nack; it returns the hosts of ingress_http that have routes.
func (r *rejectRig) answer(t *testing.T, nack string) []string {
	t.Helper()
	resp, err := r.stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	req := &discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()}
	if nack != "" {
		req.ErrorDetail = &statuspb.Status{Message: nack}
	}
	if err := r.stream.Send(req); err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, res := range resp.GetResources() {
		rc := &routev3.RouteConfiguration{}
		if err := res.GetResource().UnmarshalTo(rc); err != nil {
			t.Fatal(err)
		}
		for _, vh := range rc.GetVirtualHosts() {
			if len(vh.GetRoutes()) > 0 {
				hosts = append(hosts, vh.GetName())
			}
		}
	}
	return hosts
}

// setPrefix updates shop's route.
func (r *rejectRig) setPrefix(t *testing.T, prefix string) {
	t.Helper()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var p contourv1.HTTPProxy
		if err := r.c.Get(r.ctx, client.ObjectKeyFromObject(r.shop), &p); err != nil {
			return err
		}
		p.Spec.Routes[0].Conditions = []contourv1.MatchCondition{{Prefix: prefix}}
		return r.c.Update(r.ctx, &p)
	}); err != nil {
		t.Fatal(err)
	}
}

// status returns p's currentStatus and its conditions' text.
func (r *rejectRig) status(p *contourv1.HTTPProxy) (string, string) {
	var got contourv1.HTTPProxy
	if r.c.Get(r.ctx, client.ObjectKeyFromObject(p), &got) != nil {
		return "", ""
	}
	return got.Status.CurrentStatus, conditionText(got.Status.Conditions)
}

// rejected reports whether p is valid with the EnvoyRejected warning.
func (r *rejectRig) rejected(p *contourv1.HTTPProxy) bool {
	s, text := r.status(p)
	return s == "valid" && strings.Contains(text, string(status.EnvoyRejected))
}

const shopRejected = "route configuration ingress_http: virtual host shop.example.com: bad route"

// TestServeClusterEnvoyRejected: a client rejects a change to one of two
// hosts; the leader puts an EnvoyRejected warning (with Envoy's message)
// on that host's HTTPProxy only, and takes it away once the client accepts
// a newer revision.
func TestServeClusterEnvoyRejected(t *testing.T) {
	r := newRejectRig(t, nil)
	r.answer(t, "") // the first answer: both hosts
	r.setPrefix(t, "/a")
	r.answer(t, shopRejected)
	eventually(t, 30*time.Second, "the EnvoyRejected warning on shop", func() bool {
		_, text := r.status(r.shop)
		return r.rejected(r.shop) && strings.Contains(text, "virtual host shop.example.com: bad route")
	})
	if r.rejected(r.blog) {
		t.Fatal("blog, which the rejection does not name, carries the warning")
	}
	r.setPrefix(t, "/b")
	r.answer(t, "")
	eventually(t, 30*time.Second, "the warning lifted", func() bool { return !r.rejected(r.shop) })
}

// TestServeClusterExcludeRejected: with --exclude-rejected, the rejected
// host's HTTPProxy is taken out (invalid with EnvoyRejected; the client's
// next ingress_http serves only blog) until its spec changes.
func TestServeClusterExcludeRejected(t *testing.T) {
	r := newRejectRig(t, func(f *serveFlags) { f.excludeRejected = true })
	if hosts := r.answer(t, ""); strings.Join(hosts, ",") != "blog.example.com,shop.example.com" {
		t.Fatalf("first answer: %v", hosts)
	}
	r.setPrefix(t, "/a")
	r.answer(t, shopRejected)
	if hosts := r.answer(t, ""); strings.Join(hosts, ",") != "blog.example.com" {
		t.Fatalf("after the rejection: hosts %v, want blog.example.com only", hosts)
	}
	eventually(t, 30*time.Second, "shop invalid with EnvoyRejected", func() bool {
		s, text := r.status(r.shop)
		return s == "invalid" && strings.Contains(text, "--exclude-rejected") && strings.Contains(text, "bad route")
	})
	if s, _ := r.status(r.blog); s != "valid" {
		t.Fatalf("blog is %q", s)
	}
	r.setPrefix(t, "/fixed")
	if hosts := r.answer(t, ""); strings.Join(hosts, ",") != "blog.example.com,shop.example.com" {
		t.Fatalf("after the fix: hosts %v", hosts)
	}
	eventually(t, 30*time.Second, "shop valid again", func() bool { s, _ := r.status(r.shop); return s == "valid" })
}
