package main

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// TestProxyGauges checks Contour's HTTPProxy gauges as scraped, written
// out by hand, and that a later result's series replace the earlier ones.
func TestProxyGauges(t *testing.T) {
	idx := source.NewIndex()
	proxy := func(ns, name, fqdn string) {
		p := &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if fqdn != "" {
			p.Spec.VirtualHost = &contourv1.VirtualHost{Fqdn: fqdn}
		}
		if err := idx.Upsert(p); err != nil {
			t.Fatal(err)
		}
	}
	proxy("a", "root", " x.example.com ")
	proxy("a", "child", "")
	proxy("a", "lost", "")
	proxy("b", "dup", "y.example.com")
	obj := func(kind, ns, name string, s status.CurrentStatus) status.Object {
		return status.Object{Ref: status.Ref{Kind: kind, Namespace: ns, Name: name}, CurrentStatus: s}
	}
	g := newProxyGauges()
	g.set(idx, &controlplane.Result{Statuses: []status.Object{
		obj(status.KindHTTPProxy, "a", "child", status.Valid),
		obj(status.KindHTTPProxy, "a", "lost", status.Orphaned),
		obj(status.KindHTTPProxy, "a", "root", status.Valid),
		obj(status.KindHTTPProxy, "b", "dup", status.Invalid),
		obj(status.KindIngress, "b", "web", status.Valid),
	}})
	want := `
# HELP contour_httpproxy HTTPProxies, whatever their status, by namespace (Contour's name).
# TYPE contour_httpproxy gauge
contour_httpproxy{namespace="a"} 3
contour_httpproxy{namespace="b"} 1
# HELP contour_httpproxy_invalid Invalid HTTPProxies by namespace and, for roots, virtual host (Contour's name).
# TYPE contour_httpproxy_invalid gauge
contour_httpproxy_invalid{namespace="b",vhost="y.example.com"} 1
# HELP contour_httpproxy_orphaned Orphaned HTTPProxies (no root includes them), by namespace (Contour's name).
# TYPE contour_httpproxy_orphaned gauge
contour_httpproxy_orphaned{namespace="a"} 1
# HELP contour_httpproxy_root Root HTTPProxies (with a virtual host), by namespace (Contour's name).
# TYPE contour_httpproxy_root gauge
contour_httpproxy_root{namespace="a"} 1
contour_httpproxy_root{namespace="b"} 1
# HELP contour_httpproxy_valid Valid HTTPProxies by namespace and, for roots, virtual host (Contour's name).
# TYPE contour_httpproxy_valid gauge
contour_httpproxy_valid{namespace="a",vhost=""} 1
contour_httpproxy_valid{namespace="a",vhost="x.example.com"} 1
`
	if err := testutil.CollectAndCompare(g, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	g.set(idx, &controlplane.Result{Statuses: []status.Object{obj(status.KindHTTPProxy, "b", "dup", status.Valid)}})
	want = `
# HELP contour_httpproxy HTTPProxies, whatever their status, by namespace (Contour's name).
# TYPE contour_httpproxy gauge
contour_httpproxy{namespace="b"} 1
# HELP contour_httpproxy_root Root HTTPProxies (with a virtual host), by namespace (Contour's name).
# TYPE contour_httpproxy_root gauge
contour_httpproxy_root{namespace="b"} 1
# HELP contour_httpproxy_valid Valid HTTPProxies by namespace and, for roots, virtual host (Contour's name).
# TYPE contour_httpproxy_valid gauge
contour_httpproxy_valid{namespace="b",vhost="y.example.com"} 1
`
	if err := testutil.CollectAndCompare(g, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
