package main

import (
	"fmt"
	"net/netip"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/controlplane/bootstrap"
	"github.com/isobar-dev/isobar/controlplane/server"
	"github.com/isobar-dev/isobar/controlplane/translate"
)

// statsFlags are where the listeners that expose Envoy's readiness and
// statistics listen, served over LDS as Contour serves them: Contour's
// --stats-address/--stats-port (readiness, and statistics unless the
// configuration file's metrics.envoy moves them).
type statsFlags struct {
	address, metricsAddress string
	port, metricsPort       uint32
	// omAddress and omPort are Contour's omEnforcedHealthListener (port 0:
	// none).
	omAddress string
	omPort    uint32
	// adminPort is Contour's network.admin-port: the envoy-admin listener
	// on 127.0.0.1 (0: none).
	adminPort uint32
	// metricsTLS is Contour's metrics.envoy TLS: the statistics served
	// over HTTPS.
	metricsTLS bootstrap.StatsTLS
}

// register adds the flags to cmd.
func (s *statsFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&s.address, "stats-address", "0.0.0.0", "address of Envoy's stats-health listener (GET /ready, /stats, /stats/prometheus from its admin endpoint), as Contour's")
	fl.Uint32Var(&s.port, "stats-port", 8002, "port of Envoy's stats-health listener; 0: none (an Envoy whose bootstrap has its own, isobar bootstrap --stats-port)")
	fl.StringVar(&s.metricsAddress, "envoy-metrics-address", "", "address of Envoy's statistics when not the stats listener's (Contour's metrics.envoy.address): /ready stays on --stats-address:--stats-port")
	fl.Uint32Var(&s.metricsPort, "envoy-metrics-port", 0, "port of Envoy's statistics when not the stats listener's (Contour's metrics.envoy.port)")
	fl.StringVar(&s.omAddress, "envoy-om-health-address", "0.0.0.0", "address of a listener answering GET /ready within the overload manager's connection limit (Contour's omEnforcedHealthListener.address)")
	fl.StringVar(&s.metricsTLS.CertFile, "envoy-metrics-cert-file", "", "certificate file, in Envoy's container, of Envoy's statistics served over HTTPS (TLS 1.3) on their own listener (Contour's metrics.envoy.server-certificate-path)")
	fl.StringVar(&s.metricsTLS.KeyFile, "envoy-metrics-key-file", "", "its private key file (Contour's metrics.envoy.server-key-path)")
	fl.StringVar(&s.metricsTLS.CAFile, "envoy-metrics-ca-file", "", "CA bundle file client certificates of the statistics must verify against; given, they are required (Contour's metrics.envoy.ca-certificate-path)")
	fl.Uint32Var(&s.omPort, "envoy-om-health-port", 0, "its port (Contour's omEnforcedHealthListener.port); 0: none")
	fl.Uint32Var(&s.adminPort, "envoy-admin-port", 0, "port of Contour's envoy-admin listener on 127.0.0.1, GET of Envoy's read-only admin pages (config_dump, clusters, stats...), for an Envoy whose admin is a unix socket (Contour's network.admin-port); 0: none")
}

// listeners are the listeners the flags describe, checked: one
// stats-health listener, or "stats" and "health" when the statistics
// listen elsewhere (Contour's names), none with --stats-port 0;
// health-om-enforced with --envoy-om-health-port; envoy-admin with
// --envoy-admin-port.
func (s statsFlags) listeners() ([]*listenerv3.Listener, error) {
	out, err := s.statsListeners()
	if err != nil {
		return nil, err
	}
	if s.omPort != 0 {
		if _, err := netip.ParseAddr(s.omAddress); err != nil {
			return nil, fmt.Errorf("--envoy-om-health-address %q is not an IP address", s.omAddress)
		}
		out = append(out, bootstrap.OverloadHealthListenerAt(s.omAddress, s.omPort))
	}
	if s.adminPort != 0 {
		out = append(out, bootstrap.EnvoyAdminListenerAt(s.adminPort))
	}
	if err := server.CheckStaticListeners(out, translate.HTTPListener, translate.HTTPSListener); err != nil {
		return nil, err
	}
	return out, nil
}

// statsListeners are the stats listener, or the stats and health ones.
func (s statsFlags) statsListeners() ([]*listenerv3.Listener, error) {
	if s.port == 0 {
		return nil, nil
	}
	maddr, mport := s.address, s.port
	if s.metricsAddress != "" {
		maddr = s.metricsAddress
	}
	if s.metricsPort != 0 {
		mport = s.metricsPort
	}
	for _, f := range [...]struct{ flag, address string }{{"--stats-address", s.address}, {"--envoy-metrics-address", maddr}} {
		if _, err := netip.ParseAddr(f.address); err != nil { // in this order: the same error every time
			return nil, fmt.Errorf("%s %q is not an IP address", f.flag, f.address)
		}
	}
	if err := s.metricsTLS.Check(); err != nil {
		return nil, fmt.Errorf("--envoy-metrics-cert-file, --envoy-metrics-key-file: %w", err)
	}
	shared := maddr == s.address && mport == s.port
	switch {
	case shared && s.metricsTLS.Enabled():
		return nil, fmt.Errorf("statistics over TLS need their own port (--envoy-metrics-port, Contour's metrics.envoy.port): "+
			"readiness stays plain HTTP on --stats-port %d", s.port)
	case shared:
		return []*listenerv3.Listener{bootstrap.StatsListenerAt(s.address, s.port)}, nil
	}
	stats := bootstrap.AdminPathsListener("stats", maddr, mport, []string{"/stats", "/stats/prometheus"})
	if s.metricsTLS.Enabled() {
		stats = bootstrap.SecureStatsListenerAt(maddr, mport, s.metricsTLS)
	}
	return []*listenerv3.Listener{stats, bootstrap.AdminPathsListener("health", s.address, s.port, []string{"/ready"})}, nil
}
