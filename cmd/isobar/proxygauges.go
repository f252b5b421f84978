package main

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// proxyGauges are Contour's HTTPProxy gauges: contour_httpproxy,
// contour_httpproxy_root and contour_httpproxy_orphaned by namespace,
// contour_httpproxy_valid and contour_httpproxy_invalid by namespace and
// root host. They are kept as counts and written out when scraped: as
// gauge vectors, one series object per root host (10,000 at S10k, 6 MB)
// was made anew at every build. It is safe for concurrent use.
type proxyGauges struct {
	total, root, orphaned, valid, invalid *prometheus.Desc

	mu     sync.Mutex
	counts proxyCounts // replaced whole by set, never written once published
}

// proxyCounts are the HTTPProxies of one result, counted.
type proxyCounts struct {
	total, root, orphaned map[string]float64 // by namespace
	valid, invalid        map[nsHost]float64
}

// nsHost is a namespace and a root's host ("" for a proxy that is no root).
type nsHost struct{ ns, vhost string }

func newProxyGauges() *proxyGauges {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &proxyGauges{
		total:    desc("contour_httpproxy", "HTTPProxies, whatever their status, by namespace (Contour's name).", "namespace"),
		root:     desc("contour_httpproxy_root", "Root HTTPProxies (with a virtual host), by namespace (Contour's name).", "namespace"),
		orphaned: desc("contour_httpproxy_orphaned", "Orphaned HTTPProxies (no root includes them), by namespace (Contour's name).", "namespace"),
		valid:    desc("contour_httpproxy_valid", "Valid HTTPProxies by namespace and, for roots, virtual host (Contour's name).", "namespace", "vhost"),
		invalid:  desc("contour_httpproxy_invalid", "Invalid HTTPProxies by namespace and, for roots, virtual host (Contour's name).", "namespace", "vhost"),
	}
}

// set counts the HTTPProxies of res by status, reading the roots' hosts in
// idx, as Contour counts them: a root is an HTTPProxy with a virtual host,
// whatever its status; vhost labels roots only. Series of an earlier
// result that this one does not have are gone.
func (g *proxyGauges) set(idx *source.Index, res *controlplane.Result) {
	c := proxyCounts{total: map[string]float64{}, root: map[string]float64{}, orphaned: map[string]float64{},
		valid: map[nsHost]float64{}, invalid: map[nsHost]float64{}}
	for _, o := range res.Statuses {
		if o.Kind != status.KindHTTPProxy {
			continue
		}
		vhost := ""
		if p, ok := idx.HTTPProxies.Get(source.Key(o.Namespace, o.Name)); ok && p.Spec.VirtualHost != nil {
			vhost = strings.TrimSpace(p.Spec.VirtualHost.Fqdn)
		}
		c.total[o.Namespace]++
		if vhost != "" {
			c.root[o.Namespace]++
		}
		switch o.CurrentStatus {
		case status.Valid:
			c.valid[nsHost{o.Namespace, vhost}]++
		case status.Orphaned:
			c.orphaned[o.Namespace]++
		default:
			c.invalid[nsHost{o.Namespace, vhost}]++
		}
	}
	g.mu.Lock()
	g.counts = c
	g.mu.Unlock()
}

// Describe sends the five gauges' descriptions (prometheus.Collector).
func (g *proxyGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{g.total, g.root, g.orphaned, g.valid, g.invalid} {
		ch <- d
	}
}

// Collect sends a gauge per counted namespace, and per namespace and host,
// of the last result set (prometheus.Collector).
func (g *proxyGauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	c := g.counts
	g.mu.Unlock()
	for d, counts := range map[*prometheus.Desc]map[string]float64{g.total: c.total, g.root: c.root, g.orphaned: c.orphaned} {
		for ns, n := range counts {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, n, ns)
		}
	}
	for d, counts := range map[*prometheus.Desc]map[nsHost]float64{g.valid: c.valid, g.invalid: c.invalid} {
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, n, k.ns, k.vhost)
		}
	}
}
