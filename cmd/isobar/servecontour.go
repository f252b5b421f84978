package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// contourServeFlags are the rest of the flags of `contour serve` that a
// Contour Deployment may pass: logging, the API client's budget, leader
// election timing, informers to leave out, and Contour's own health
// endpoint.
type contourServeFlags struct {
	debug                       bool
	kubernetesDebug             uint
	clientQPS                   float32
	clientBurst                 int
	leaseDuration, renew, retry time.Duration
	disabledFeatures            []string
	healthAddress               string
	healthPort                  int
	contourConfigName           string
	disableExtensionServices    bool
}

// gatewayFeatures are the values of Contour's --disable-feature that name
// Gateway API informers, which Isobar never starts.
var gatewayFeatures = []string{"tlsroutes", "grpcroutes", "tcproutes", "backendtlspolicies"}

// register adds the flags to cmd.
func (c *contourServeFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVarP(&c.debug, "debug", "d", false, "log at debug level (Contour's)")
	fl.UintVar(&c.kubernetesDebug, "kubernetes-debug", 0, "verbosity of the Kubernetes client libraries' logs, 0 to 9 (Contour's)")
	fl.Float32Var(&c.clientQPS, "kubernetes-client-qps", 100, "requests per second the Kubernetes client may make (Contour's kubernetesClientQPS)")
	fl.IntVar(&c.clientBurst, "kubernetes-client-burst", 200, "burst of requests the Kubernetes client may make (Contour's kubernetesClientBurst)")
	fl.DurationVar(&c.leaseDuration, "leader-election-lease-duration", 15*time.Second, "how long a leader's Lease lasts without renewal")
	fl.DurationVar(&c.renew, "leader-election-renew-deadline", 10*time.Second, "how long the leader retries renewing before it stops leading")
	fl.DurationVar(&c.retry, "leader-election-retry-period", 2*time.Second, "how often candidates try to acquire or renew the Lease")
	fl.StringSliceVar(&c.disabledFeatures, "disable-feature", nil,
		"informers not to start (Contour's): extensionservices; tlsroutes, grpcroutes, tcproutes and backendtlspolicies are Gateway API kinds Isobar never watches")
	fl.StringVar(&c.healthAddress, "health-address", "", "address of a second endpoint answering /healthz (Contour's; default: --http-address)")
	fl.IntVar(&c.healthPort, "health-port", 0, "port of that endpoint (Contour's; default: --http-port)")
	fl.StringVar(&c.contourConfigName, "contour-config-name", "", "Contour's ContourConfiguration resource: not supported (use --config-path with Contour's configuration file)")
	_ = fl.MarkHidden("contour-config-name")
}

// apply checks the flags, gives the zero ones their defaults (serve's own
// callers may leave them unset) and applies those that act at once: the
// log level (returned) and the client libraries' verbosity.
func (c *contourServeFlags) apply() (slog.Level, error) {
	for _, d := range []struct {
		to  *time.Duration
		def time.Duration
	}{{&c.leaseDuration, 15 * time.Second}, {&c.renew, 10 * time.Second}, {&c.retry, 2 * time.Second}} {
		if *d.to == 0 {
			*d.to = d.def
		}
	}
	if c.clientQPS == 0 {
		c.clientQPS = 100 // status writes must not queue behind a tiny client budget
	}
	if c.clientBurst == 0 {
		c.clientBurst = 200
	}
	if c.contourConfigName != "" {
		return 0, fmt.Errorf("--contour-config-name %q: ContourConfiguration resources are not supported; give Contour's configuration file with --config-path", c.contourConfigName)
	}
	for _, f := range c.disabledFeatures {
		switch {
		case f == "extensionservices":
			c.disableExtensionServices = true
		case slices.Contains(gatewayFeatures, f):
		default:
			return 0, fmt.Errorf("--disable-feature %q: must be extensionservices, tlsroutes, grpcroutes, tcproutes or backendtlspolicies", f)
		}
	}
	switch {
	case c.clientQPS <= 0 || c.clientBurst <= 0:
		return 0, fmt.Errorf("--kubernetes-client-qps %g and --kubernetes-client-burst %d must be above 0", c.clientQPS, c.clientBurst)
	case c.leaseDuration <= c.renew || c.renew <= c.retry || c.retry <= 0:
		return 0, fmt.Errorf("leader election: want --leader-election-lease-duration (%s) > --leader-election-renew-deadline (%s) > --leader-election-retry-period (%s) > 0",
			c.leaseDuration, c.renew, c.retry)
	case c.kubernetesDebug > 9:
		return 0, fmt.Errorf("--kubernetes-debug %d: from 0 to 9", c.kubernetesDebug)
	}
	if c.kubernetesDebug > 0 {
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		if err := fs.Set("v", strconv.FormatUint(uint64(c.kubernetesDebug), 10)); err != nil {
			return 0, err
		}
	}
	if c.debug {
		return slog.LevelDebug, nil
	}
	return slog.LevelInfo, nil
}

// client applies the client budget to cfg.
func (c contourServeFlags) client(cfg *rest.Config) {
	cfg.QPS, cfg.Burst = c.clientQPS, c.clientBurst
}

// healthEndpoint is where a second /healthz endpoint listens, "" when it
// is the HTTP endpoint's own.
func (c contourServeFlags) healthEndpoint(httpAddress string, httpPort int) string {
	addr, port := c.healthAddress, c.healthPort
	if addr == "" {
		addr = httpAddress
	}
	if port == 0 {
		port = httpPort
	}
	if addr == httpAddress && port == httpPort {
		return ""
	}
	return net.JoinHostPort(addr, strconv.Itoa(port))
}
