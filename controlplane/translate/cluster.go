package translate

import (
	"strconv"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// Default active health-check settings: those Contour's code applies
// (its documentation says 5 s for the interval; its code, 10 s).
const (
	defaultHealthInterval  = 10 * time.Second
	defaultHealthTimeout   = 2 * time.Second
	defaultUnhealthy       = 3
	defaultHealthy         = 2
	defaultHealthCheckHost = "contour-envoy-healthcheck"
)

func lbPolicy(lb graph.LoadBalancer) clusterv3.Cluster_LbPolicy {
	switch lb {
	case graph.WeightedLeastRequest:
		return clusterv3.Cluster_LEAST_REQUEST
	case graph.Random:
		return clusterv3.Cluster_RANDOM
	case graph.Cookie, graph.RequestHash:
		return clusterv3.Cluster_RING_HASH
	}
	return clusterv3.Cluster_ROUND_ROBIN
}

// dnsFamily is Envoy's DNS lookup family for Contour's name of it.
func dnsFamily(family string) clusterv3.Cluster_DnsLookupFamily {
	switch family {
	case graph.DNSv4:
		return clusterv3.Cluster_V4_ONLY
	case graph.DNSv6:
		return clusterv3.Cluster_V6_ONLY
	case graph.DNSAll:
		return clusterv3.Cluster_ALL
	}
	return clusterv3.Cluster_AUTO
}

// defaultUpstreamTLS are the parameters of TLS to upstreams when
// cluster.upstream-tls sets none: Contour's, TLS 1.2 to 1.3 with its cipher
// suites (Envoy's client default would stop at TLS 1.2). Shared, never
// modified.
var defaultUpstreamTLS = &envoy.TLSParams{Min: envoy.TLSVersion("1.2"), Max: envoy.TLSVersion("1.3"),
	CipherSuites: graph.DefaultCipherSuites()}

// clusterNames are the EDS name of c (ClusterEDSName) and the alt_stat_name
// of its cluster. For the common cluster, a Service port's without health
// port, extension or DNS name, both are cut from one string: one
// allocation instead of up to four (S10k has 21,000 clusters).
func clusterNames(c *graph.Cluster) (eds, stat string) {
	var digits [11]byte
	port := strconv.AppendInt(digits[:0], int64(c.Port.Port), 10)
	switch {
	case c.Extension != nil: // extension/<ns>/<name> with underscores, as Contour
		eds = ClusterEDSName(c)
		return eds, strings.ReplaceAll(eds, "/", "_")
	case c.DNSNameScheme != "":
		return ClusterEDSName(c), "" // as Contour's DNS-name clusters
	case c.HealthPort != nil:
		return ClusterEDSName(c), c.Namespace + "_" + c.Service + "_" + string(port)
	}
	var both string
	if c.Port.Name != "" {
		both = c.Namespace + "/" + c.Service + "/" + c.Port.Name + c.Namespace + "_" + c.Service + "_" + string(port)
	} else {
		both = c.Namespace + "/" + c.Service + c.Namespace + "_" + c.Service + "_" + string(port)
	}
	n := len(both) - (len(c.Namespace) + len(c.Service) + len(port) + 2)
	return both[:n], both[n:]
}

// clusterResource builds the Envoy cluster called name for c.
func clusterResource(name string, c *graph.Cluster) *clusterv3.Cluster {
	eds, stat := clusterNames(c)
	o := envoy.ClusterOptions{
		Name:                  name,
		AltStatName:           stat,
		EDSName:               eds,
		LB:                    lbPolicy(c.LoadBalancer),
		HTTP2:                 c.Protocol == "h2" || c.Protocol == "h2c",
		MaxConnections:        c.CircuitBreakers.MaxConnections,
		MaxPendingRequests:    c.CircuitBreakers.MaxPendingRequests,
		MaxRequests:           c.CircuitBreakers.MaxRequests,
		MaxRetries:            c.CircuitBreakers.MaxRetries,
		PerHostMaxConnections: c.CircuitBreakers.PerHostMaxConnections,
	}
	if c.ExternalName != "" {
		o.DNSName, o.Port, o.DNSFamily = c.ExternalName, uint32(c.Port.Port), dnsFamily(c.DNSLookupFamily)
		if c.HealthPort != nil {
			o.DNSHealthPort = uint32(c.HealthPort.Port)
		}
	}
	o.ConnectTimeout, o.MaxRequestsPerConnection, o.BufferLimit = c.ConnectTimeout, c.MaxRequestsPerConnection, c.BufferLimit
	o.IdleTimeout = c.IdleConnection
	if c.Protocol == "h2" || c.Protocol == "tls" {
		tls := &envoy.UpstreamTLS{SNI: c.SNI}
		if c.Validation != nil {
			if c.Validation.CA != nil {
				tls.CA = c.Validation.CA.CA
			}
			tls.SubjectNames = c.Validation.SubjectNames
		}
		if c.ClientCertificate != nil {
			tls.ClientCert = SecretName(c.ClientCertificate)
		}
		tls.Params = defaultUpstreamTLS
		if c.UpstreamTLSMin != "" {
			tls.Params = &envoy.TLSParams{Min: envoy.TLSVersion(c.UpstreamTLSMin), Max: envoy.TLSVersion(c.UpstreamTLSMax),
				CipherSuites: strings.Split(c.UpstreamTLSCipherSuites, "\n")}
			if c.UpstreamTLSCurves != "" {
				tls.Params.Curves = strings.Split(c.UpstreamTLSCurves, "\n")
			}
		}
		o.TLS = tls
	}
	if h := c.HealthCheck; h != nil {
		hc := &envoy.HealthCheck{
			Path: h.Path, Host: h.Host, Interval: h.Interval, Timeout: h.Timeout,
			UnhealthyThreshold: h.UnhealthyThreshold, HealthyThreshold: h.HealthyThreshold,
		}
		if hc.Interval == 0 {
			hc.Interval = defaultHealthInterval
		}
		if hc.Timeout == 0 {
			hc.Timeout = defaultHealthTimeout
		}
		if hc.UnhealthyThreshold == 0 {
			hc.UnhealthyThreshold = defaultUnhealthy
		}
		if hc.HealthyThreshold == 0 {
			hc.HealthyThreshold = defaultHealthy
		}
		if hc.Path != "" && hc.Host == "" {
			hc.Host = defaultHealthCheckHost
		}
		for _, r := range h.ExpectedStatuses {
			hc.ExpectedStatuses = append(hc.ExpectedStatuses, [2]int64{r.Start, r.End})
		}
		o.HealthCheck = hc
	}
	if r := c.SlowStart; r != nil {
		o.SlowStart = &envoy.SlowStart{Window: r.Window, Aggression: r.Aggression, MinWeightPercent: r.MinWeightPercent}
	}
	return envoy.Cluster(o)
}
