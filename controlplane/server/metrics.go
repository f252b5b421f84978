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
	// Builds counts builds by kind and result (set by the caller).
	Builds *prometheus.CounterVec
	// LastBuild is the Unix time of the last successful build (set by the
	// caller), as Contour's contour_dagrebuild_timestamp.
	LastBuild prometheus.Gauge
	// StatusWrites counts status writes by result (set by the caller).
	StatusWrites *prometheus.CounterVec
	// Findings is the number of findings of the latest result by code and
	// severity, such as CertificateExpired (set by the caller).
	Findings *prometheus.GaugeVec
	// Objects is the number of HTTPProxies, IngressRoutes and Ingresses of
	// the latest result by kind, namespace and status (valid, invalid,
	// orphaned), as Contour's contour_httpproxy_{valid,invalid,orphaned}
	// (set by the caller).
	Objects *prometheus.GaugeVec
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
		LastBuild: prometheus.NewGauge(prometheus.GaugeOpts{Name: "isobar_build_timestamp_seconds",
			Help: "Unix time of the last successful build."}),
		StatusWrites: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "isobar_status_writes_total",
			Help: "Status writes by result (written, skipped, conflict, failed)."}, []string{"result"}),
		Findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "isobar_findings",
			Help: "Findings of the latest configuration, by code and severity (e.g. CertificateExpired, DuplicateVhost)."}, []string{"code", "severity"}),
		Objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "isobar_objects",
			Help: "HTTPProxies, IngressRoutes and Ingresses of the latest configuration, by kind, namespace and status (valid, invalid, orphaned)."},
			[]string{"kind", "namespace", "status"}),
	}
	for _, c := range []prometheus.Collector{m.streams, m.pushes, m.nacks, m.updated, m.resources, m.BuildSeconds, m.Builds,
		m.LastBuild, m.StatusWrites, m.Findings, m.Objects} {
		_ = r.Register(c)
	}
	return m
}

// shortType turns a type URL into listeners/routes/clusters/endpoints/secrets
// (or virtualhosts, runtime).
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
	case strings.HasSuffix(typeURL, "VirtualHost"):
		return "virtualhosts"
	case strings.HasSuffix(typeURL, "Runtime"):
		return "runtime"
	}
	return typeURL
}

// Descriptions of the revision gauges (see revisions).
var (
	revisionDesc = prometheus.NewDesc("isobar_xds_revision",
		"Revision of the configuration served, by type (the snapshot version): it grows with every change of that type; "+
			"state-of-the-world answers carry it as version_info <revision>.<epoch>.", []string{"type"}, nil)
	ackedDesc = prometheus.NewDesc("isobar_xds_acked_revision",
		"Newest revision an Envoy accepted (ACK), by type; 0 before any.", []string{"type"}, nil)
	nackedDesc = prometheus.NewDesc("isobar_xds_nacked_revision",
		"Newest revision an Envoy rejected (NACK), by type; 0 when none. While it is above the accepted one, "+
			"Envoys that connect get the accepted revision.", []string{"type"}, nil)
)

// revisions reports each type's current, acknowledged and rejected
// revisions, read from the caches when scraped.
type revisions map[string]*deltaCache

// Describe sends the revision gauges' descriptions.
func (r revisions) Describe(ch chan<- *prometheus.Desc) {
	ch <- revisionDesc
	ch <- ackedDesc
	ch <- nackedDesc
}

// Collect sends each type's revisions.
func (r revisions) Collect(ch chan<- prometheus.Metric) {
	for _, t := range servedTypes {
		c, ok := r[t]
		if !ok {
			continue // no VHDS, or no runtime layer
		}
		c.mu.Lock()
		rev, acked, nacked := c.rev, c.acked, c.nacked
		c.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(revisionDesc, prometheus.GaugeValue, float64(rev), shortType(t))
		ch <- prometheus.MustNewConstMetric(ackedDesc, prometheus.GaugeValue, float64(acked), shortType(t))
		ch <- prometheus.MustNewConstMetric(nackedDesc, prometheus.GaugeValue, float64(nacked), shortType(t))
	}
}
