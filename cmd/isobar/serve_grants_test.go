package main

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// TestServeClusterIncludeGrants runs `isobar serve --include-grants`
// against a real API server: a root's include of another namespace's
// HTTPProxy is refused (statuses on both say why) until that Namespace's
// annotation grants the root's namespace, and refused again once the grant
// is withdrawn: a change to a Namespace reaches the statuses.
func TestServeClusterIncludeGrants(t *testing.T) {
	_, kubeconfig, c := startAPIServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	createNamespaces(ctx, t, c, "infra", "team-b", "projectcontour")
	root := &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "www"},
		Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: "www.example.com"},
			Includes: []contourv1.Include{{Name: "blog", Namespace: "team-b", Conditions: []contourv1.MatchCondition{{Prefix: "/blog"}}}}}}
	blog := &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "blog"},
		Spec: contourv1.HTTPProxySpec{Routes: []contourv1.Route{{Services: []contourv1.Service{{Name: "blog", Port: 80}}}}}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "blog"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	for _, o := range []client.Object{svc, root, blog} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServeWith(ctx, t, kubeconfig, true, compileFlags{includeGrants: true})
	defer srv.stop(t)
	statuses := func(rootWant, blogWant string, reason bool) func() bool {
		return func() bool {
			var r, b contourv1.HTTPProxy
			if c.Get(ctx, client.ObjectKeyFromObject(root), &r) != nil || c.Get(ctx, client.ObjectKeyFromObject(blog), &b) != nil {
				return false
			}
			refused := strings.Contains(conditionText(r.Status.Conditions), graph.ReasonIncludeNotPermitted) &&
				strings.Contains(conditionText(b.Status.Conditions), graph.ReasonIncludeNotPermitted)
			return r.Status.CurrentStatus == rootWant && b.Status.CurrentStatus == blogWant && refused == reason
		}
	}
	eventually(t, 30*time.Second, "the include refused", statuses("invalid", "orphaned", true))
	grant := func(value string) {
		if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var ns corev1.Namespace
			if err := c.Get(ctx, client.ObjectKey{Name: "team-b"}, &ns); err != nil {
				return err
			}
			ns.Annotations = map[string]string{graph.IncludeFromAnnotation: value}
			return c.Update(ctx, &ns)
		}); err != nil {
			t.Fatal(err)
		}
	}
	grant("infra")
	eventually(t, 30*time.Second, "the include granted", statuses("valid", "valid", false))
	grant("platform")
	eventually(t, 30*time.Second, "the grant withdrawn", statuses("invalid", "orphaned", true))
}

// conditionText is every reason and message of conds and their
// sub-conditions, for searching.
func conditionText(conds []contourv1.DetailedCondition) string {
	var b strings.Builder
	for _, c := range conds {
		b.WriteString(c.Reason + " " + c.Message + "\n")
		for _, s := range append(append([]contourv1.SubCondition(nil), c.Errors...), c.Warnings...) {
			b.WriteString(s.Reason + " " + s.Message + "\n")
		}
	}
	return b.String()
}
