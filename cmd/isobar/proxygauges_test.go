package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/kube"
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
	if err := testutil.GatherAndCompare(g, strings.NewReader(want)); err != nil {
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
	if err := testutil.GatherAndCompare(g, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestMetricsServeProxyGauges checks that /metrics serves the registry's
// families and the HTTPProxy gauges, which the registry does not hold,
// each family once and all sorted by name, as a registry alone serves them.
func TestMetricsServeProxyGauges(t *testing.T) {
	idx := source.NewIndex()
	p := &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "root"},
		Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: "x.example.com"}}}
	if err := idx.Upsert(p); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := newContourMetrics(reg)
	m.rebuilt(0.5)
	m.statusUpdates(kube.WriteResult{Kinds: map[string]*kube.KindResult{"HTTPProxy": {Written: 1}}})
	m.proxies(idx, &controlplane.Result{Statuses: []status.Object{
		{Ref: status.Ref{Kind: status.KindHTTPProxy, Namespace: "a", Name: "root"}, CurrentStatus: status.Valid}}})
	own, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range own {
		if strings.HasPrefix(mf.GetName(), "contour_httpproxy") {
			t.Errorf("the registry holds %s, which is gathered apart", mf.GetName())
		}
	}
	w := httptest.NewRecorder()
	httpMux(metricsGatherer(reg, m), &healthState{}, nil).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var names []string
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names = append(names, strings.Fields(name)[0])
		}
	}
	want := []string{"contour_build_info", "contour_dagrebuild_seconds", "contour_dagrebuild_timestamp", "contour_dagrebuild_total",
		"contour_httpproxy", "contour_httpproxy_root", "contour_httpproxy_valid",
		"contour_status_update_conflict_total", "contour_status_update_failed_total", "contour_status_update_noop_total", "contour_status_update_success_total", "contour_status_update_total"}
	if !slices.Equal(names, want) {
		t.Errorf("families served:\n%q\nwant\n%q", names, want)
	}
	if !strings.Contains(w.Body.String(), `contour_httpproxy_valid{namespace="a",vhost="x.example.com"} 1`+"\n") {
		t.Errorf("the valid root's series is missing:\n%s", w.Body)
	}
}

// TestProxyGaugesNeverStale races scrapes with new results: once a result
// is set, every later scrape has its counts, even when a scrape that read
// the previous counts finishes building their families afterwards.
func TestProxyGaugesNeverStale(t *testing.T) {
	idx := source.NewIndex()
	if err := idx.Upsert(&contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "p"}}); err != nil {
		t.Fatal(err)
	}
	result := func(n int) *controlplane.Result {
		res := &controlplane.Result{}
		for range n {
			res.Statuses = append(res.Statuses, status.Object{Ref: status.Ref{Kind: status.KindHTTPProxy, Namespace: "a", Name: "p"}, CurrentStatus: status.Valid})
		}
		return res
	}
	total := func(g *proxyGauges) float64 {
		families, _ := g.Gather()
		return families[0].GetMetric()[0].GetGauge().GetValue()
	}
	g := newProxyGauges()
	for round := 1; round <= 500; round++ {
		g.set(idx, result(round))
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = g.Gather()
		}()
		g.set(idx, result(round+1))
		<-done
		if got := total(g); got != float64(round+1) {
			t.Fatalf("round %d: contour_httpproxy = %v after a result of %d", round, got, round+1)
		}
	}
}
