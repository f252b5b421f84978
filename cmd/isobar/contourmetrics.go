package main

import (
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/kube"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// contourMetrics are Contour's own metrics, under Contour's names and
// labels, so that its Grafana dashboard and the alerts written for it
// keep working: build information, HTTPProxies by status, namespace and
// root host, configuration rebuilds, the Kubernetes changes received and
// the status updates.
type contourMetrics struct {
	buildInfo        *prometheus.GaugeVec
	proxyGauges      *proxyGauges
	rebuildTimestamp prometheus.Gauge
	rebuildTotal     prometheus.Counter
	rebuildSeconds   prometheus.Summary
	events           *prometheus.CounterVec
	// updates are the status update counters by kind: total, success,
	// noop, failed and conflict.
	updates map[string]*prometheus.CounterVec
}

func newContourMetrics(reg prometheus.Registerer) *contourMetrics {
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	m := &contourMetrics{
		buildInfo:   gauge("contour_build_info", "Build information (Contour's name): branch, git revision and version of Isobar.", "branch", "revision", "version"),
		proxyGauges: newProxyGauges(),
		rebuildTimestamp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "contour_dagrebuild_timestamp",
			Help: "Unix time of the last configuration build (Contour's name; isobar_build_timestamp_seconds)."}),
		rebuildTotal: prometheus.NewCounter(prometheus.CounterOpts{Name: "contour_dagrebuild_total",
			Help: "Configuration builds from objects since start, endpoint-only ones excepted (Contour's name)."}),
		rebuildSeconds: prometheus.NewSummary(prometheus.SummaryOpts{Name: "contour_dagrebuild_seconds",
			Help:       "Duration of configuration builds from objects (Contour's name; isobar_build_duration_seconds).",
			Objectives: map[float64]float64{0.5: 0.01, 0.9: 0.01, 0.99: 0.001}}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contour_eventhandler_operation_total",
			Help: "Kubernetes object changes received, by operation (add, update, delete) and kind (Contour's name)."}, []string{"op", "kind"}),
	}
	m.updates = map[string]*prometheus.CounterVec{}
	for what, help := range map[string]string{"total": "Status updates by object kind, no-ops included",
		"success": "Status writes that succeeded, by object kind", "noop": "Status updates skipped (the status was already right), by object kind",
		"failed": "Status writes that failed, by object kind", "conflict": "Status writes that met a newer version of the object, by object kind"} {
		name := "contour_status_update_" + what + "_total"
		if what == "total" {
			name = "contour_status_update_total"
		}
		m.updates[what] = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help + " (Contour's name)."}, []string{"kind"})
		reg.MustRegister(m.updates[what])
	}
	for _, c := range []prometheus.Collector{m.buildInfo, m.rebuildTimestamp,
		m.rebuildTotal, m.rebuildSeconds, m.events} {
		reg.MustRegister(c)
	}
	m.buildInfo.WithLabelValues(buildInfo()).Set(1)
	return m
}

// buildInfo is the branch (unknown: ""), git revision and version of the
// binary, from what Go recorded at build time.
func buildInfo() (branch, revision, version string) {
	version = "isobar"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", "", version
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		version = "isobar-" + strings.TrimPrefix(v, "v")
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return "", revision, version
}

// statusUpdates counts what one status write did, by kind.
func (m *contourMetrics) statusUpdates(r kube.WriteResult) {
	for kind, k := range r.Kinds {
		m.updates["total"].WithLabelValues(kind).Add(float64(k.Written + k.Skipped + k.Conflicts + k.Failed))
		m.updates["success"].WithLabelValues(kind).Add(float64(k.Written))
		m.updates["noop"].WithLabelValues(kind).Add(float64(k.Skipped))
		m.updates["failed"].WithLabelValues(kind).Add(float64(k.Failed))
		m.updates["conflict"].WithLabelValues(kind).Add(float64(k.Conflicts))
	}
}

// event counts one change an informer delivered.
func (m *contourMetrics) event(op, kind string) { m.events.WithLabelValues(op, kind).Inc() }

// rebuilt counts a build from objects (full or of changed HTTPProxies).
func (m *contourMetrics) rebuilt(seconds float64) {
	m.rebuildTotal.Inc()
	m.rebuildSeconds.Observe(seconds)
	m.rebuildTimestamp.SetToCurrentTime()
}

// proxies sets the HTTPProxy gauges from a result's statuses (see
// proxyGauges.set).
func (m *contourMetrics) proxies(idx *source.Index, res *controlplane.Result) {
	m.proxyGauges.set(idx, res)
}
