package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/kube"
)

// contourClusterRules are the grants of the ClusterRole Contour's example
// deployment gives its control plane (examples/contour/02-role-contour.yaml
// in Contour 1.33, Gateway API rules left out): no Endpoints, no
// IngressClasses, and update but not patch on the status subresources.
func contourClusterRules() []rbacv1.PolicyRule {
	read := []string{"get", "list", "watch"}
	status := []string{"create", "get", "update"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps", "namespaces", "secrets", "services"}, Verbs: read},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: read},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses"}, Verbs: read},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses/status"}, Verbs: status},
		{APIGroups: []string{"projectcontour.io"}, Resources: []string{"contourconfigurations", "extensionservices", "httpproxies", "tlscertificatedelegations"}, Verbs: read},
		{APIGroups: []string{"projectcontour.io"}, Resources: []string{"contourconfigurations/status", "extensionservices/status", "httpproxies/status"}, Verbs: status},
	}
}

// contourNamespaceRules are the grants of Contour's Role in its namespace.
func contourNamespaceRules() []rbacv1.PolicyRule {
	verbs := []string{"create", "get", "update"}
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: verbs},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: verbs},
	}
}

// webObjects are the Service apps/web and the root HTTPProxy apps/web
// (web.example.com) routing to it.
func webObjects() []client.Object {
	return []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}},
		&contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
			Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: "web.example.com"},
				Routes: []contourv1.Route{{Services: []contourv1.Service{{Name: "web", Port: 80}}}}}},
	}
}

// grant creates a ClusterRole with cluster rules and a Role in
// projectcontour with namespace rules, both bound to the user called name.
func grant(ctx context.Context, t *testing.T, c client.Client, name string, cluster, namespace []rbacv1.PolicyRule) {
	t.Helper()
	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}}
	for _, o := range []client.Object{
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: cluster},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, Subjects: subjects,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "projectcontour", Name: name}, Rules: namespace},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "projectcontour", Name: name}, Subjects: subjects,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}},
	} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

// userKubeconfig adds an API server user called name (authenticated, in no
// privileged group) and writes a kubeconfig for it.
func userKubeconfig(t *testing.T, env *envtest.Environment, name string) string {
	t.Helper()
	u, err := env.AddUser(envtest.User{Name: name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return writeKubeconfig(t, u.Config())
}

// lastApplied is kubectl's annotation, which the informers drop from their
// copies and status writes must keep.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// TestServeWithContourRBAC replaces Contour in place: serve runs as an
// account with exactly the grants of Contour's example ClusterRole and
// Role. It skips the kinds it may not read instead of waiting for them for
// ever, writes statuses although status patches are forbidden, holds the
// Lease and records its LeaderElection Event.
func TestServeWithContourRBAC(t *testing.T) {
	env, _, c := startAPIServer(t)
	ctx := context.Background()
	createNamespaces(ctx, t, c, "projectcontour", "apps")
	grant(ctx, t, c, "contour", contourClusterRules(), contourNamespaceRules())
	kubeconfig := userKubeconfig(t, env, "contour")
	for _, o := range append(webObjects(),
		&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "site", Annotations: map[string]string{lastApplied: `{"kept":true}`}},
			Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
	) {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	checkWatcherAccess(ctx, t, kubeconfig)
	s := startServeFlags(ctx, t, kubeconfig, true, func(f *serveFlags) { f.statusAddress = "192.0.2.10" })
	defer s.stop(t)
	eventually(t, 30*time.Second, "serve ready", func() bool {
		return httpStatus("http://127.0.0.1:"+strconv.Itoa(s.httpPort)+"/readyz") == http.StatusOK
	})
	eventually(t, 30*time.Second, "the HTTPProxy's status written by update", func() bool {
		var p contourv1.HTTPProxy
		return c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "web"}, &p) == nil && p.Status.CurrentStatus == "valid" &&
			len(p.Status.LoadBalancer.Ingress) == 1 && p.Status.LoadBalancer.Ingress[0].IP == "192.0.2.10"
	})
	eventually(t, 30*time.Second, "the Ingress's address written by update", func() bool {
		var ing networkingv1.Ingress
		return c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "site"}, &ing) == nil &&
			len(ing.Status.LoadBalancer.Ingress) == 1 && ing.Status.LoadBalancer.Ingress[0].IP == "192.0.2.10" &&
			ing.Annotations[lastApplied] == `{"kept":true}`
	})
	// Once written, statuses stay: the status updates coming back make the
	// writer compare again, and it finds nothing more to write.
	written := func() string {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(s.httpPort) + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return regexp.MustCompile(`isobar_status_writes_total\{result="written"\} \d+`).FindString(string(body))
	}
	first := written()
	time.Sleep(3 * recheckDelay)
	if again := written(); again != first || first == "" {
		t.Errorf("status writes went on after the statuses were written: %q, then %q", first, again)
	}
	eventually(t, 30*time.Second, "a LeaderElection Event on the Lease", func() bool {
		var events corev1.EventList
		if err := c.List(ctx, &events, client.InNamespace("projectcontour")); err != nil {
			return false
		}
		for _, e := range events.Items {
			if e.Reason == "LeaderElection" && e.InvolvedObject.Kind == "Lease" && strings.HasSuffix(e.Message, " became leader") {
				return true
			}
		}
		return false
	})
}

// checkWatcherAccess checks what a watcher for Contour's account skips:
// the kinds Contour's ClusterRole does not grant, and that every other
// kind is unsynced before the informers start and synced after.
func checkWatcherAccess(ctx context.Context, t *testing.T, kubeconfig string) {
	t.Helper()
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	w, err := kube.NewWatcher(cfg, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/v1, Kind=Endpoints (list endpoints, watch endpoints)",
		"networking.k8s.io/v1, Kind=IngressClass (list ingressclasses.networking.k8s.io, watch ingressclasses.networking.k8s.io)",
		"contour.heptio.com/v1beta1, Kind=IngressRoute (list ingressroutes.contour.heptio.com, watch ingressroutes.contour.heptio.com)",
		"contour.heptio.com/v1beta1, Kind=TLSCertificateDelegation (list tlscertificatedelegations.contour.heptio.com, watch tlscertificatedelegations.contour.heptio.com)",
	}
	if d := cmp.Diff(want, w.Forbidden()); d != "" {
		t.Errorf("forbidden kinds (-want +got):\n%s", d)
	}
	wantKinds := []string{"Namespace", "Service", "EndpointSlice", "Secret", "Ingress", "HTTPProxy", "TLSCertificateDelegation", "ExtensionService"}
	if d := cmp.Diff(wantKinds, w.Unsynced()); d != "" {
		t.Errorf("kinds read, unsynced before start (-want +got):\n%s", d)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	go func() { _ = w.Start(wctx) }()
	if !w.WaitForSync(wctx) || len(w.Unsynced()) > 0 {
		t.Errorf("after sync, unsynced kinds %v", w.Unsynced())
	}
}

// TestServeRefusesWithoutRequiredAccess: an account that may not read
// Secrets makes serve stop at once with an error naming the kind and the
// verbs, where informers would retry for ever and never sync.
func TestServeRefusesWithoutRequiredAccess(t *testing.T) {
	env, _, c := startAPIServer(t)
	ctx := context.Background()
	createNamespaces(ctx, t, c, "projectcontour")
	var rules []rbacv1.PolicyRule
	for _, r := range contourClusterRules() {
		if r.APIGroups[0] == "" {
			r.Resources = []string{"configmaps", "namespaces", "services"}
		}
		rules = append(rules, r)
	}
	grant(ctx, t, c, "nosecrets", rules, contourNamespaceRules())
	s := startServeFlags(ctx, t, userKubeconfig(t, env, "nosecrets"), true, nil)
	select {
	case err := <-s.done:
		if err == nil || !strings.Contains(err.Error(), "list secrets") || !strings.Contains(err.Error(), "watch secrets") {
			t.Fatalf("serve ended with %v, want an error naming list and watch of secrets", err)
		}
	case <-time.After(30 * time.Second):
		s.cancel()
		t.Fatal("serve did not stop without access to Secrets")
	}
}

// httpStatus is the status code of a GET of url, 0 when it fails.
func httpStatus(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeWithNamespaceRoles: with --watch-namespaces, an account granted
// Contour's rules by Roles in the watched namespaces alone (no cluster-wide
// grant at all) is enough: the cluster-scoped kinds are skipped, the
// namespaced ones read, and statuses written.
func TestServeWithNamespaceRoles(t *testing.T) {
	env, _, c := startAPIServer(t)
	ctx := context.Background()
	createNamespaces(ctx, t, c, "projectcontour", "apps", "other")
	subjects := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "tenant"}}
	for _, ns := range []string{"projectcontour", "apps"} {
		rules := contourClusterRules()
		if ns == "projectcontour" {
			rules = append(rules, contourNamespaceRules()...)
		}
		for _, o := range []client.Object{
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}, Rules: rules},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tenant"}, Subjects: subjects,
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "tenant"}},
		} {
			if err := c.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, o := range webObjects() {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	kubeconfig := userKubeconfig(t, env, "tenant")
	s := startServeFlags(ctx, t, kubeconfig, true, func(f *serveFlags) {
		f.watchNamespaces = []string{"projectcontour", "apps"}
	})
	defer s.stop(t)
	eventually(t, 30*time.Second, "the HTTPProxy's status", func() bool {
		var p contourv1.HTTPProxy
		return c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "web"}, &p) == nil && p.Status.CurrentStatus == "valid"
	})
	// With include grants, Namespaces hold the grants: not reading them
	// would refuse every include across namespaces, so serve refuses to
	// start instead.
	grants := startServeFlags(ctx, t, kubeconfig, false, func(f *serveFlags) {
		f.watchNamespaces = []string{"projectcontour", "apps"}
		f.compile.includeGrants = true
	})
	select {
	case err := <-grants.done:
		if err == nil || !strings.Contains(err.Error(), "list namespaces") {
			t.Fatalf("with --include-grants serve ended with %v, want an error naming list namespaces", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("with --include-grants serve started without access to Namespaces")
	}
}
