package server

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the server's Prometheus metrics.
type Metrics struct {
	streams   *prometheus.GaugeVec
	pushes    *prometheus.CounterVec
	nacks     *prometheus.CounterVec
	updated   *prometheus.CounterVec
	resources *prometheus.GaugeVec
	// BuildSeconds observes how long each build took (set by the caller).
	BuildSeconds *prometheus.HistogramVec
	// Version is the content version of the last full build (a hash, as a
	// label of a constant gauge).
	Builds *prometheus.CounterVec
	// StatusWrites counts status writes by result (set by the caller).
	StatusWrites *prometheus.CounterVec
	// Findings is the number of findings of the latest result by code and
	// severity, such as CertificateExpired (set by the caller).
	Findings *prometheus.GaugeVec
}

func newMetrics(r prometheus.Registerer) *Metrics {
	m := &Metrics{
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "isobar_xds_streams",
			Help: "Open xDS streams, by protocol: sotw (state of the world, Contour's bootstrap) or delta."}, []string{"protocol"}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isobar_xds_pushes_total",
			Help: "xDS responses sent, by resource type."}, []string{"type"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isobar_xds_nacks_total",
			Help: "Responses Envoy rejected (NACK), by resource type."}, []string{"type"}),
		updated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isobar_xds_resource_updates_total",
			Help: "Resources whose content changed and were handed to the streams, by type."}, []string{"type"}),
		resources: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "isobar_xds_resources",
			Help: "Resources currently served, by type."}, []string{"type"}),
		BuildSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "isobar_build_duration_seconds",
			Help: "Time to compile and hand over a configuration, by kind (full, proxies: the hosts of changed HTTPProxies, or endpoints).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"kind"}),
		Builds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isobar_builds_total",
			Help: "Builds by kind and result."}, []string{"kind", "result"}),
		StatusWrites: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isobar_status_writes_total",
			Help: "Status writes by result (written, skipped, conflict, failed)."}, []string{"result"}),
		Findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "isobar_findings",
			Help: "Findings of the latest configuration, by code and severity (e.g. CertificateExpired, DuplicateVhost)."}, []string{"code", "severity"}),
	}
	for _, c := range []prometheus.Collector{m.streams, m.pushes, m.nacks, m.updated, m.resources, m.BuildSeconds, m.Builds, m.StatusWrites, m.Findings} {
		_ = r.Register(c)
	}
	return m
}

// shortType turns a type URL into listeners/routes/clusters/endpoints/secrets.
func shortType(typeURL string) string {
	switch {
	case strings.HasSuffix(typeURL, "Listener"):
		return "listeners"
	case strings.HasSuffix(typeURL, "RouteConfiguration"):
		return "routes"
	case strings.HasSuffix(typeURL, "Cluster"):
		return "clusters"
	case strings.HasSuffix(typeURL, "ClusterLoadAssignment"):
		return "endpoints"
	case strings.HasSuffix(typeURL, "Secret"):
		return "secrets"
	}
	return typeURL
}
