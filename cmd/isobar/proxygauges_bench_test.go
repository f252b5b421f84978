package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// BenchmarkMetricsScrape is one scrape of serve's /metrics with the
// HTTPProxy gauges of S10k's shape (10,000 roots, each its own host, in
// ten namespaces): Prometheus asks every 15 to 60 seconds, so what a
// scrape allocates is what an idle server's heap grows by between them.
func BenchmarkMetricsScrape(b *testing.B) {
	idx := source.NewIndex()
	var statuses []status.Object
	for i := range 10000 {
		ns, name := fmt.Sprintf("team-%d", i%10), fmt.Sprintf("proxy-%d", i)
		p := &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: fmt.Sprintf("p%d.example.com", i)}}}
		if err := idx.Upsert(p); err != nil {
			b.Fatal(err)
		}
		s := status.Valid
		if i%5 == 4 {
			s = status.Invalid
		}
		statuses = append(statuses, status.Object{Ref: status.Ref{Kind: status.KindHTTPProxy, Namespace: ns, Name: name}, CurrentStatus: s})
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	m := newContourMetrics(reg)
	m.proxies(idx, &controlplane.Result{Statuses: statuses})
	handler := httpMux(metricsGatherer(reg, m), &healthState{}, nil)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w := &discardResponse{header: http.Header{}}
		handler.ServeHTTP(w, req)
		if w.code != http.StatusOK || w.n < 500000 {
			b.Fatalf("status %d, %d bytes", w.code, w.n)
		}
	}
}

// discardResponse is a ResponseWriter that counts the body and drops it,
// as a connection does once the bytes are sent.
type discardResponse struct {
	header http.Header
	code   int
	n      int
}

func (d *discardResponse) Header() http.Header { return d.header }

func (d *discardResponse) WriteHeader(code int) { d.code = code }

func (d *discardResponse) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = http.StatusOK
	}
	d.n += len(p)
	return len(p), nil
}
