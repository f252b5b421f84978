package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
	"github.com/isobar-dev/isobar/controlplane/kube"
	"github.com/isobar-dev/isobar/internal/goldentest"
)

// startAPIServer starts a real kube-apiserver and etcd with Isobar's CRDs.
func startAPIServer(t *testing.T) (*envtest.Environment, string, client.Client) {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		if testing.Short() {
			t.Skip("KUBEBUILDER_ASSETS is not set (-short)")
		}
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test` (it builds kube-apiserver and installs etcd once) or export KUBEBUILDER_ASSETS=$(make -s envtest-assets)")
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{goldentest.Path("deploy/crds")}, ErrorIfCRDPathMissing: true}
	// A certificate folder we own survives APIServer.Stop, so a restarted
	// API server keeps its serving certificate, port and client CA.
	// A graceful stop that takes longer than StopTimeout ends with SIGKILL.
	env.ControlPlane.APIServer = &envtest.APIServer{CertDir: t.TempDir(), StopTimeout: 5 * time.Second}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	c, err := client.New(cfg, client.Options{Scheme: kube.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	return env, writeKubeconfig(t, cfg), c
}

// writeKubeconfig writes a kubeconfig file for cfg's server and client
// certificate, and returns its path.
func writeKubeconfig(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["envtest"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "envtest"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// testServe is `isobar serve` running against an envtest API server.
type testServe struct {
	xdsPort, httpPort int
	cancel            context.CancelFunc
	done              chan error
	// stopping is set before serve is asked to stop: serve ending
	// otherwise is logged with its error.
	stopping atomic.Bool
}

// startServe runs `isobar serve` against kubeconfig on free local ports,
// plaintext, electing a leader in projectcontour/isobar-leader when lead.
func startServe(ctx context.Context, t *testing.T, kubeconfig string, lead bool) *testServe {
	return startServeWith(ctx, t, kubeconfig, lead, compileFlags{})
}

// startServeWith is startServe with the core's options from compile.
func startServeWith(ctx context.Context, t *testing.T, kubeconfig string, lead bool, compile compileFlags) *testServe {
	return startServeFlags(ctx, t, kubeconfig, lead, func(f *serveFlags) { f.compile = compile })
}

// startServeFlags is startServe with its flags changed by set, when not nil.
func startServeFlags(ctx context.Context, t *testing.T, kubeconfig string, lead bool, set func(*serveFlags)) *testServe {
	ctx, cancel := context.WithCancel(ctx)
	s := &testServe{xdsPort: freePort(t), httpPort: freePort(t), cancel: cancel, done: make(chan error, 1)}
	f := serveFlags{kubeconfig: kubeconfig, xdsAddress: "127.0.0.1", xdsPort: s.xdsPort,
		httpAddress: "127.0.0.1", httpPort: s.httpPort, insecure: true, leaderElection: lead,
		leaseNamespace: "projectcontour", leaseName: "isobar-leader", envoyServiceNS: "projectcontour", envoyServiceName: "envoy"}
	if set != nil {
		set(&f)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		err := runServe(ctx, f)
		if !s.stopping.Load() {
			t.Logf("serve ended by itself: %v", err)
		}
		s.done <- err
	}()
	t.Cleanup(func() { // serve never outlives the test, nor logs after it
		s.stopping.Store(true)
		cancel()
		select {
		case <-ended:
		case <-time.After(15 * time.Second):
		}
	})
	return s
}

// stop ends serve and fails the test if it does not return.
func (s *testServe) stop(t *testing.T) {
	t.Helper()
	s.stopping.Store(true)
	s.cancel()
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// createNamespaces creates the namespaces called names.
func createNamespaces(ctx context.Context, t *testing.T, c client.Client, names ...string) {
	t.Helper()
	for _, ns := range names {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
}

func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeCluster runs `isobar serve` against a real API server: objects
// applied there reach a gRPC xDS client, and the leader writes statuses.
func TestServeCluster(t *testing.T) {
	_, kubeconfig, c := startAPIServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, ns := range []string{"apps", "projectcontour"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	proxy := &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
		Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: "web.example.com"},
			Routes: []contourv1.Route{{Services: []contourv1.Service{{Name: "web", Port: 80}}}}}}
	ext := &contourv1alpha1.ExtensionService{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "authz"},
		Spec: contourv1alpha1.ExtensionServiceSpec{Services: []contourv1alpha1.ExtensionServiceTarget{{Name: "web", Port: 80}}}}
	for _, o := range []client.Object{svc, proxy, ext} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// Before any controller, the CRD's default, as Contour's: NotReconciled.
	var fresh contourv1.HTTPProxy
	if err := c.Get(ctx, client.ObjectKeyFromObject(proxy), &fresh); err != nil || fresh.Status.CurrentStatus != "NotReconciled" ||
		fresh.Status.Description != "Waiting for controller" {
		t.Fatalf("a new HTTPProxy's status: %+v, %v; want NotReconciled, Waiting for controller", fresh.Status, err)
	}
	srv := startServe(ctx, t, kubeconfig, true)
	xdsPort := srv.xdsPort
	// The leader writes the statuses: the ExtensionService's too (its CRD,
	// its informer and its status subresource).
	eventually(t, 30*time.Second, "status valid", func() bool {
		var p contourv1.HTTPProxy
		return c.Get(ctx, client.ObjectKeyFromObject(proxy), &p) == nil && p.Status.CurrentStatus == "valid" &&
			len(p.Status.Conditions) == 1 && p.Status.Conditions[0].ObservedGeneration == p.Generation
	})
	eventually(t, 30*time.Second, "ExtensionService status valid", func() bool {
		var e contourv1alpha1.ExtensionService
		return c.Get(ctx, client.ObjectKeyFromObject(ext), &e) == nil && len(e.Status.Conditions) == 1 &&
			e.Status.Conditions[0].Type == "Valid" && e.Status.Conditions[0].Status == metav1.ConditionTrue &&
			e.Status.Conditions[0].ObservedGeneration == e.Generation
	})
	// Another writer's status (a replica of an older version, a person) is
	// put right, although the update changed only the status.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur contourv1.HTTPProxy
		if err := c.Get(ctx, client.ObjectKeyFromObject(proxy), &cur); err != nil {
			return err
		}
		cur.Status.CurrentStatus, cur.Status.Description = "invalid", "overwritten"
		return c.Status().Update(ctx, &cur)
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the overwritten status put right", func() bool {
		var p contourv1.HTTPProxy
		return c.Get(ctx, client.ObjectKeyFromObject(proxy), &p) == nil && p.Status.CurrentStatus == "valid" && p.Status.Description != "overwritten"
	})
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(xdsPort), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ads, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNames: []string{"ingress_http"}}); err != nil {
		t.Fatal(err)
	}
	vhosts := func() []string {
		r, err := ads.Recv()
		if err != nil {
			t.Fatal(err)
		}
		_ = ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNames: []string{"ingress_http"}, VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()})
		var rc routev3.RouteConfiguration
		if err := r.GetResources()[0].UnmarshalTo(&rc); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, vh := range rc.GetVirtualHosts() {
			out = append(out, vh.GetName())
		}
		return out
	}
	if got := vhosts(); len(got) != 1 || got[0] != "web.example.com" {
		t.Fatalf("virtual hosts %v", got)
	}
	// A second HTTPProxy applied to the API server reaches the client.
	second := proxy.DeepCopy()
	second.ObjectMeta = metav1.ObjectMeta{Namespace: "apps", Name: "api"}
	second.Spec.VirtualHost.Fqdn = "api.example.com"
	if err := c.Create(ctx, second); err != nil {
		t.Fatal(err)
	}
	if got := vhosts(); len(got) != 2 {
		t.Fatalf("virtual hosts after the second proxy %v", got)
	}
	// An invalid change is reported on that object only.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur contourv1.HTTPProxy
		if err := c.Get(ctx, client.ObjectKeyFromObject(second), &cur); err != nil {
			return err
		}
		cur.Spec.Routes[0].Services[0].Name = "missing"
		return c.Update(ctx, &cur)
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "status invalid", func() bool {
		var p contourv1.HTTPProxy
		return c.Get(ctx, client.ObjectKeyFromObject(second), &p) == nil && p.Status.CurrentStatus == "invalid"
	})
	// Those HTTPProxy changes were compiled incrementally.
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(srv.httpPort) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`isobar_builds_total\{kind="proxies",result="ok"\} [1-9]`).Match(body) {
		t.Errorf("no incremental HTTPProxy build in the metrics:\n%s", grepLines(string(body), "isobar_builds_total"))
	}
	// Contour's names: the changes the informers delivered, the invalid
	// HTTPProxy.
	for _, want := range []string{`contour_eventhandler_operation_total\{kind="HTTPProxy",op="add"\} [1-9]`,
		`contour_eventhandler_operation_total\{kind="HTTPProxy",op="update"\} [1-9]`, `contour_httpproxy_invalid\{namespace="[a-z-]+",vhost="[^"]*"\} 1`,
		`contour_status_update_success_total\{kind="HTTPProxy"\} [1-9]`, `contour_status_update_total\{kind="HTTPProxy"\} [1-9]`} {
		if !regexp.MustCompile(want).Match(body) {
			t.Errorf("no %s in the metrics:\n%s", want, grepLines(string(body), "contour_"))
		}
	}
	checkStatusPatches(ctx, t, c)
	srv.stop(t)
}

// checkStatusPatches checks that the Envoy Service's address, with its
// ports, reaches an Ingress's status, that status writes leave alone what
// the informers drop from their copies (kubectl's last-applied annotation),
// and that the address stays when the Envoy Service goes, as in Contour.
func checkStatusPatches(ctx context.Context, t *testing.T, c client.Client) {
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web",
		Annotations: map[string]string{lastApplied: `{"kept":true}`}},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "ing.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}
	envoy := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "projectcontour", Name: "envoy"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	for _, o := range []client.Object{ing, envoy} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	envoy.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.7",
		Ports: []corev1.PortStatus{{Port: 80, Protocol: corev1.ProtocolTCP}}}}
	if err := c.Status().Update(ctx, envoy); err != nil {
		t.Fatal(err)
	}
	wantIngress := networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.7",
		Ports: []networkingv1.IngressPortStatus{{Port: 80, Protocol: "TCP"}}}}}
	var got networkingv1.Ingress
	eventually(t, 30*time.Second, "the Envoy Service's address and ports in the Ingress's status", func() bool {
		return c.Get(ctx, client.ObjectKeyFromObject(ing), &got) == nil && reflect.DeepEqual(got.Status.LoadBalancer, wantIngress)
	})
	if got.Annotations[lastApplied] != `{"kept":true}` {
		t.Errorf("after the status write the Ingress's annotations are %v", got.Annotations)
	}
	checkAddressKept(ctx, t, c, wantIngress)
}

// checkAddressKept deletes the Envoy Service and then the Service of the
// HTTPProxy apps/web: once that HTTPProxy's status says invalid, a status
// write has seen both deletions (one informer delivers a kind's changes in
// order), and the HTTPProxy and the Ingress apps/web must still carry the
// address the Envoy Service had.
func checkAddressKept(ctx context.Context, t *testing.T, c client.Client, wantIngress networkingv1.IngressLoadBalancerStatus) {
	for _, key := range []client.ObjectKey{{Namespace: "projectcontour", Name: "envoy"}, {Namespace: "apps", Name: "web"}} {
		if err := c.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}); err != nil {
			t.Fatal(err)
		}
	}
	var p contourv1.HTTPProxy
	eventually(t, 30*time.Second, "apps/web invalid once its Service is gone", func() bool {
		return c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "web"}, &p) == nil && p.Status.CurrentStatus == "invalid"
	})
	vip := corev1.LoadBalancerIPModeVIP // the API server's default on the Service
	wantProxy := corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.7", IPMode: &vip,
		Ports: []corev1.PortStatus{{Port: 80, Protocol: "TCP"}}}}}
	if d := cmp.Diff(wantProxy, p.Status.LoadBalancer); d != "" {
		t.Errorf("the HTTPProxy's address after the Envoy Service was deleted (-want +got):\n%s", d)
	}
	var ing networkingv1.Ingress
	if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "web"}, &ing); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantIngress, ing.Status.LoadBalancer); d != "" {
		t.Errorf("the Ingress's address after the Envoy Service was deleted (-want +got):\n%s", d)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestStatusRetryDelays: conflicts are retried a second later; failures
// with a delay doubling up to five minutes, reset by a write that does not
// fail; a clean write is not retried.
func TestStatusRetryDelays(t *testing.T) {
	var s statusLoop
	type step struct {
		r     kube.WriteResult
		delay time.Duration
		again bool
	}
	steps := []step{
		{kube.WriteResult{Written: 3}, time.Second, false},
		{kube.WriteResult{Conflicts: 1}, time.Second, true},
		{kube.WriteResult{Failed: 1}, time.Second, true},
		{kube.WriteResult{Failed: 1, Conflicts: 2}, 2 * time.Second, true},
		{kube.WriteResult{Failed: 4}, 4 * time.Second, true},
	}
	for i := 0; i < 7; i++ {
		steps = append(steps, step{kube.WriteResult{Failed: 1}, min(8*time.Second<<i, 5*time.Minute), true})
	}
	steps = append(steps, step{kube.WriteResult{Written: 1, Conflicts: 1}, time.Second, true}, step{kube.WriteResult{Failed: 1}, time.Second, true})
	for i, st := range steps {
		delay, again := s.nextRetry(st.r)
		if delay != st.delay && st.again || again != st.again {
			t.Errorf("step %d %+v: retry %v after %s, want %v after %s", i, st.r, again, delay, st.again, st.delay)
		}
	}
}
