package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	runtimev3 "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/bootstrap"
	"github.com/isobar-dev/isobar/controlplane/live"
	"github.com/isobar-dev/isobar/controlplane/server"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/translate"
)

// serveFlags are the flags of `isobar serve`.
type serveFlags struct {
	compile                          compileFlags
	fixtures, kubeconfig             string
	xdsAddress, httpAddress          string
	xdsPort, httpPort                int
	debugAddress                     string
	debugPort                        int
	memoryLimitRatio                 float64
	caFile, certFile, keyFile        string
	insecure                         bool
	watchNamespaces                  []string
	envoyServiceNS, envoyServiceName string
	statusAddress                    string
	leaderElection                   bool
	leaseNamespace, leaseName        string
	vhds                             bool
	vhdsCluster                      string
	excludeRejected                  bool
	runtime                          runtimeFlags
	stats                            statsFlags
	contour                          contourServeFlags
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve (--fixtures DIR | --kubeconfig FILE | in-cluster)",
		Short: "Run the live control plane: watch objects, serve xDS to Envoy, write status",
		Long: `serve runs the control plane. Objects come from the Kubernetes API (in-cluster
or --kubeconfig) or, with --fixtures DIR, from a folder of YAML that is
watched: editing a file changes what connected Envoys receive.

The xDS port (--xds-port, default 8001) opens only after the first complete
build, so Envoy never receives an empty or partial configuration. /healthz
and /metrics are served on --http-port (default 8000). Only the leader
(a Lease, unless --leader-election=false) writes statuses; every replica
serves xDS.

Contour's names for serve's flags are accepted too, so that the arguments of
a Contour Deployment work unchanged: --contour-cafile, --contour-cert-file and
--contour-key-file (--xds-ca-file, --xds-cert-file, --xds-key-file),
--ingress-class-name (--ingress-class), --leader-election-resource-name and
--leader-election-resource-namespace, --disable-leader-election
(--leader-election=false) and --incluster (the default without --kubeconfig
or --fixtures).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := f.logger()
			if err != nil {
				return err
			}
			// klog's logger may only be set before any client runs.
			routeLibraryLogs(log)
			if ignored := f.compile.configIgnored; len(ignored) > 0 {
				log.Warn("settings of the configuration file that Isobar does not implement are ignored", "file", f.compile.configPath, "keys", ignored)
			}
			return runServe(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	f.compile.logIgnored = true
	f.compile.register(cmd)
	fl.StringVar(&f.fixtures, "fixtures", "", "serve the objects of this folder (watched) instead of a cluster")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster configuration)")
	fl.StringVar(&f.xdsAddress, "xds-address", "0.0.0.0", "xDS listen address")
	fl.IntVar(&f.xdsPort, "xds-port", 8001, "xDS listen port")
	fl.StringVar(&f.httpAddress, "http-address", "0.0.0.0", "address of /healthz and /metrics")
	fl.IntVar(&f.httpPort, "http-port", 8000, "port of /healthz and /metrics")
	fl.StringVar(&f.debugAddress, "debug-http-address", "127.0.0.1", "address of Go's profiles (/debug/pprof/), as Contour's")
	fl.IntVar(&f.debugPort, "debug-http-port", 6060, "port of /debug/pprof/; 0 turns it off")
	fl.Float64Var(&f.memoryLimitRatio, "memory-limit-ratio", 0.9, memoryLimitRatioUsage)
	fl.StringVar(&f.caFile, "xds-ca-file", "", "CA that Envoy client certificates must chain to")
	fl.StringVar(&f.certFile, "xds-cert-file", "", "xDS server certificate")
	fl.StringVar(&f.keyFile, "xds-key-file", "", "xDS server key")
	fl.BoolVar(&f.insecure, "insecure", false, "serve xDS without TLS (only when asked for: Envoy's configuration includes TLS keys)")
	fl.StringSliceVar(&f.watchNamespaces, "watch-namespaces", nil, "only read objects from these namespaces")
	fl.StringVar(&f.envoyServiceNS, "envoy-service-namespace", contourNamespace(), "namespace of the Envoy Service whose address goes into statuses (default: $CONTOUR_NAMESPACE, else projectcontour, as Contour's)")
	fl.StringVar(&f.envoyServiceName, "envoy-service-name", "envoy", "name of the Envoy Service whose address goes into statuses")
	fl.StringVar(&f.statusAddress, "ingress-status-address", "", "the addresses statuses carry instead of the Envoy Service's, as Contour's: a comma-separated list, each an IP address or a host name")
	fl.BoolVar(&f.leaderElection, "leader-election", true, "elect a leader to write statuses (--leader-election=false: always write)")
	fl.StringVar(&f.leaseNamespace, "leader-election-namespace", contourNamespace(), "namespace of the leader-election Lease (default: $CONTOUR_NAMESPACE, else projectcontour, as Contour's)")
	fl.StringVar(&f.leaseName, "leader-election-name", "isobar-leader", "name of the leader-election Lease")
	fl.BoolVar(&f.vhds, "vhds", false, "send ingress_http's virtual hosts one by one over VHDS (incremental xDS), so that a change to one insecure host sends that host, not every one")
	fl.BoolVar(&f.excludeRejected, "exclude-rejected", false, "take an HTTPProxy Envoy rejected (a NACK naming what it built) out of the configuration, invalid with EnvoyRejected, until its spec changes")
	fl.StringVar(&f.vhdsCluster, "vhds-cluster", bootstrap.XDSCluster, "with --vhds: the name of the xDS server's cluster in Envoy's bootstrap, which Envoy opens the VHDS stream to")
	f.runtime.register(cmd)
	f.stats.register(cmd)
	f.contour.register(cmd)
	contourFlags(cmd, &f)
	return cmd
}

// contourNamespace is where Contour's serve assumes it runs, for the
// defaults of the Envoy Service's and the Lease's namespaces: the
// CONTOUR_NAMESPACE its Deployment sets, else projectcontour.
func contourNamespace() string {
	if ns := os.Getenv("CONTOUR_NAMESPACE"); ns != "" {
		return ns
	}
	return "projectcontour"
}

// rejectedProxies is the loop's Quarantine with --exclude-rejected: the
// HTTPProxies the server's standing rejections name.
type rejectedProxies struct {
	srv     *server.Server
	changed <-chan struct{}
}

// Changed is signalled when the server's rejections change.
func (r rejectedProxies) Changed() <-chan struct{} { return r.changed }

// Rejected returns the HTTPProxies the standing rejections name, each with
// what Envoy rejected.
func (r rejectedProxies) Rejected() map[status.Ref]string {
	out := map[status.Ref]string{}
	for _, rej := range r.srv.Rejections() {
		for _, o := range rej.Objects {
			if o.Kind == status.KindHTTPProxy {
				out[o] = "taken out of the configuration until its spec changes (--exclude-rejected): " + rej.Describe()
			}
		}
	}
	return out
}

// vhdsOption is the server's VHDS option, nil without --vhds.
func (f serveFlags) vhdsOption() *server.VHDS {
	if !f.vhds {
		return nil
	}
	return &server.VHDS{RouteConfiguration: translate.HTTPRoutes, Cluster: f.vhdsCluster}
}

// whenListening logs the xDS address once the port opens, after the first
// build was handed over, withdraws the huge page advice the first build had
// (firstBuild) and gives that build's garbage (the decoded files or
// informer lists, the compile's temporaries) back to the system now rather
// than when Go's scavenger gets to it; from then on, the garbage of each
// later burst too, once it has quieted down (quietHandBack). The
// collector gets back the target it had before the first build.
func whenListening(ctx context.Context, srv *server.Server, log *slog.Logger, firstBuild firstBuildHeap, hb *handBackMetrics) {
	select {
	case <-srv.Listening():
		log.Info("serving xDS", "address", srv.Addr().String())
		if err := firstBuild.end(); err != nil {
			log.Warn("huge pages stay advised for the first build's heap", "error", err)
		}
		debug.FreeOSMemory()
		if ownProcess {
			go quietHandBack(ctx, log, hb)
		}
	case <-ctx.Done():
	}
}

// logger checks and applies Contour's other serve flags (contourServeFlags)
// and returns serve's structured log, at debug level with --debug.
func (f *serveFlags) logger() (*slog.Logger, error) {
	level, err := f.contour.apply()
	if err != nil {
		return nil, exitWith(exitBadInput, err)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})), nil
}

// serverOptions are the xDS server's options the flags describe, checked.
func (f serveFlags) serverOptions(log *slog.Logger, reg *prometheus.Registry) (server.Options, error) {
	tlsFiles, err := f.tls()
	if err != nil {
		return server.Options{}, err
	}
	layer, err := f.runtimeLayer(log)
	if err != nil {
		return server.Options{}, err
	}
	static, err := f.stats.listeners()
	if err != nil {
		return server.Options{}, err
	}
	for _, l := range static {
		if p := l.GetAddress().GetSocketAddress().GetPortValue(); p == f.compile.httpPort || p == f.compile.httpsPort {
			return server.Options{}, fmt.Errorf("listener %s on port %d: that port is Envoy's HTTP or HTTPS listener's (--envoy-service-http(s)-port)", l.GetName(), p)
		}
	}
	return server.Options{Address: f.xdsAddress, Port: f.xdsPort, TLS: tlsFiles, Logger: log, Registry: reg,
		VHDS: f.vhdsOption(), Runtime: layer, StaticListeners: static, Freeze: true}, nil
}

// runtimeLayer is the runtime layer the server serves, checked; the
// settings it skipped (keys it manages) are logged.
func (f serveFlags) runtimeLayer(log *slog.Logger) (*runtimev3.Runtime, error) {
	layer, skipped, err := f.runtime.layer()
	if err == nil {
		err = server.CheckRuntime(layer)
	}
	if err != nil {
		return nil, err
	}
	if len(skipped) > 0 {
		log.Warn("runtime settings that Isobar manages are not overridden", "keys", skipped)
	}
	return layer, nil
}

func runServe(parent context.Context, f serveFlags) error {
	if parent == nil {
		parent = context.Background()
	}
	log, err := f.logger()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	firstBuild := prepareServeHeap(f.fixtures)
	applyMemoryLimit(f.memoryLimitRatio, log)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	opts, err := f.serverOptions(log, reg)
	if err != nil {
		return exitWith(exitBadInput, err)
	}
	srv := server.New(opts)
	go watchHeap(ctx, log, 15*time.Second)
	bm := &buildMetrics{m: srv.Metrics(), contour: newContourMetrics(reg), log: log}
	var latest atomic.Pointer[controlplane.Result] // what /debug/config shows
	loop := &live.Loop{XDS: srv, Options: f.compile.options(), OnBuild: func(b live.Build) {
		bm.record(b)
		if b.Result != nil {
			latest.Store(b.Result)
		}
	}}
	if f.compile.now == "" {
		loop.Clock = time.Now // certificates are checked at each full build, and again when one expires
	}
	if f.excludeRejected {
		loop.Quarantine = rejectedProxies{srv: srv, changed: srv.Rejected()}
	}
	health := &healthState{}
	defer serveOperations(f, metricsGatherer(reg, bm.contour), health, srv, log, stop)()
	var sourceErr error
	waitSource := func() {}
	switch {
	case f.fixtures != "":
		sourceErr = serveFixtures(ctx, f, loop, log)
	default:
		waitSource, sourceErr = serveCluster(ctx, f, loop, log, srv, health, bm.contour)
	}
	if sourceErr != nil {
		return sourceErr
	}
	defer waitSource()
	statusWriter := loop.OnResult
	loop.OnResult = func(idx *source.Index, res *controlplane.Result) {
		bm.contour.proxies(idx, res)
		if statusWriter != nil {
			statusWriter(idx, res)
		}
	}
	stopDebug := serveDebug(f.debugAddress, f.debugPort, log, &latest)
	defer stopDebug()
	errc := make(chan error, 2)
	go func() { errc <- srv.Run(ctx) }()
	go func() { errc <- loop.Run(ctx) }()
	go whenListening(ctx, srv, log, firstBuild, newHandBackMetrics(reg))
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		stop()
	}
	log.Info("stopped")
	return runErr
}

func (f serveFlags) tls() (*server.TLSFiles, error) {
	n := 0
	for _, p := range []string{f.caFile, f.certFile, f.keyFile} {
		if p != "" {
			n++
		}
	}
	switch {
	case n == 3:
		return &server.TLSFiles{CAFile: f.caFile, CertFile: f.certFile, KeyFile: f.keyFile}, nil
	case n > 0:
		return nil, fmt.Errorf("mTLS needs all of --xds-ca-file, --xds-cert-file and --xds-key-file")
	case !f.insecure:
		return nil, fmt.Errorf("no xDS TLS files given: pass --xds-ca-file, --xds-cert-file and --xds-key-file, or --insecure to serve plaintext")
	}
	return nil, nil
}

// serveFixtures feeds the loop from a watched folder.
func serveFixtures(ctx context.Context, f serveFlags, loop *live.Loop, log *slog.Logger) error {
	folder := &live.Folder{Dir: f.fixtures,
		Load: func(dir string) (*source.Index, []source.Problem) {
			return source.Load(source.LoadOptions{Trim: true}, dir)
		},
		OnProblems: func(ps []source.Problem) {
			for _, p := range ps {
				log.Warn("fixture problem", "error", p.Error())
			}
		}}
	if err := folder.Start(ctx); err != nil {
		return exitWith(exitBadInput, err)
	}
	loop.Source = folder
	log.Info("serving fixtures", "dir", f.fixtures)
	return nil
}

// buildMetrics records every build of the live loop in the metrics. Its
// methods run on the loop's goroutine, one at a time.
type buildMetrics struct {
	m *server.Metrics
	// contour are Contour's metrics, under its names.
	contour *contourMetrics
	log     *slog.Logger
	// objectFindings counts, by code and severity, the findings the
	// statuses of the last compile hold (an endpoint build keeps them).
	objectFindings map[[2]string]float64
}

// record counts b, and sets the findings and objects gauges to what its
// result holds.
func (bm *buildMetrics) record(b live.Build) {
	kind, result := "endpoints", "ok"
	switch {
	case b.Full:
		kind = "full"
	case b.Proxies > 0:
		kind = "proxies"
	}
	if b.Err != nil {
		result = "error"
		bm.log.Error("build failed", "kind", kind, "error", b.Err)
	}
	bm.m.Builds.WithLabelValues(kind, result).Inc()
	bm.m.BuildSeconds.WithLabelValues(kind).Observe(b.Duration.Seconds())
	if b.Result == nil {
		return
	}
	bm.m.LastBuild.SetToCurrentTime()
	if kind != "endpoints" {
		bm.contour.rebuilt(b.Duration.Seconds())
	}
	if kind != "endpoints" || bm.objectFindings == nil {
		bm.countObjects(b.Result.Statuses)
	}
	bm.countFindings(b.Result.Findings)
}

// countObjects sets the objects gauge from statuses and remembers the
// findings their conditions hold.
func (bm *buildMetrics) countObjects(statuses []status.Object) {
	objects := map[[3]string]float64{}
	for _, o := range statuses {
		objects[[3]string{string(o.Kind), o.Namespace, string(o.CurrentStatus)}]++
	}
	bm.m.Objects.Reset()
	for k, n := range objects {
		bm.m.Objects.WithLabelValues(k[0], k[1], k[2]).Set(n)
	}
	bm.objectFindings = map[[2]string]float64{}
	for _, f := range status.ObjectFindings(statuses) {
		bm.objectFindings[[2]string{f.Code, string(f.Severity)}]++
	}
}

// countFindings sets the findings gauge to what `isobar check` would say
// of the latest result (its statuses' findings and findings), by code and
// severity; codes no longer found are dropped.
func (bm *buildMetrics) countFindings(findings []status.Finding) {
	counts := maps.Clone(bm.objectFindings)
	for _, f := range findings {
		counts[[2]string{f.Code, string(f.Severity)}]++
	}
	bm.m.Findings.Reset()
	for k, n := range counts {
		bm.m.Findings.WithLabelValues(k[0], k[1]).Set(n)
	}
}

// healthState tracks what /healthz reports.
type healthState struct {
	// check, when set, says whether the Kubernetes API answers.
	check atomic.Pointer[func(context.Context) error]
}

// setCheck sets the check of the Kubernetes API /healthz reports on.
func (h *healthState) setCheck(check func(context.Context) error) { h.check.Store(&check) }

// healthz is a liveness answer: 200 while the API server is unreachable
// too (the process keeps serving the last configuration, and a restart
// could not sync anyway), saying so in its body.
func (h *healthState) healthz(w http.ResponseWriter, r *http.Request) {
	if check := h.check.Load(); check != nil {
		if err := (*check)(r.Context()); err != nil {
			fmt.Fprintf(w, "ok: serving the last configuration; Kubernetes API unreachable: %v\n", err)
			return
		}
	}
	fmt.Fprintln(w, "ok")
}

// serveOperations serves /healthz, /metrics and /readyz (and Contour's
// separate health endpoint, when asked for) from the start: while the
// informers sync, which on a large cluster takes a while, a liveness probe
// never kills a replica that is still starting. It returns the function
// that stops them.
func serveOperations(f serveFlags, metrics prometheus.Gatherer, health *healthState, srv *server.Server, log *slog.Logger, stop func()) func() {
	httpSrv := serveHTTP(net.JoinHostPort(f.httpAddress, strconv.Itoa(f.httpPort)), httpMux(metrics, health, srv), log, stop)
	var healthSrv *http.Server
	if addr := f.contour.healthEndpoint(f.httpAddress, f.httpPort); addr != "" {
		healthSrv = serveHTTP(addr, healthMux(health), log, stop)
	}
	return func() {
		if healthSrv != nil {
			healthSrv.Close()
		}
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(shutdownCtx)
	}
}

// serveHTTP serves handler on addr until it is closed; a failure to serve
// is logged and stops serve.
func serveHTTP(addr string, handler http.Handler, log *slog.Logger, stop func()) *http.Server {
	s := &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := s.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "address", addr, "error", err)
			stop()
		}
	}()
	return s
}

// healthMux serves /healthz alone (Contour's --health-address and
// --health-port, when apart from the HTTP endpoint).
func healthMux(h *healthState) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", h.healthz)
	mux.HandleFunc("/health", h.healthz)
	return mux
}

// httpMux serves /metrics, /healthz and /readyz. /healthz is a liveness
// answer: it stays 200 while the API server is unreachable (the process keeps
// serving the last configuration, and a restart could not sync anyway) and
// says so in its body; /readyz is 503 until the first build is served.
func httpMux(metrics prometheus.Gatherer, h *healthState, srv *server.Server) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(metrics, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", h.healthz)
	mux.HandleFunc("/health", h.healthz)
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if srv.Addr() == nil {
			http.Error(w, "waiting for the first build", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// routeLibraryLogs sends controller-runtime's and client-go's logs (informer
// retries, leader election) to the process's structured log. klog requires
// this before any Kubernetes client is used.
func routeLibraryLogs(log *slog.Logger) {
	ctrl.SetLogger(logr.FromSlogHandler(log.Handler()))
	klog.SetLogger(logr.FromSlogHandler(log.Handler()))
}

// contourNames maps Contour's names of serve's flags to Isobar's.
var contourNames = map[string]string{
	"contour-cafile":                     "xds-ca-file",
	"contour-cert-file":                  "xds-cert-file",
	"contour-key-file":                   "xds-key-file",
	"ingress-class-name":                 "ingress-class",
	"leader-election-resource-name":      "leader-election-name",
	"leader-election-resource-namespace": "leader-election-namespace",
}

// contourFlags makes cmd accept Contour's names for its flags
// (contourNames), and Contour's --incluster and --disable-leader-election,
// which are hidden: the help lists each setting once.
func contourFlags(cmd *cobra.Command, f *serveFlags) {
	fl := cmd.Flags()
	fl.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if ours, ok := contourNames[name]; ok {
			return pflag.NormalizedName(ours)
		}
		return pflag.NormalizedName(name)
	})
	var inCluster, disableElection bool
	fl.BoolVar(&inCluster, "incluster", false, "Contour's: the in-cluster configuration (the default)")
	fl.BoolVar(&disableElection, "disable-leader-election", false, "Contour's --leader-election=false")
	_ = fl.MarkHidden("incluster")
	_ = fl.MarkHidden("disable-leader-election")
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		kubeconfig := cmd.Flags().Changed("kubeconfig") // on the command line
		if err := prev(cmd, args); err != nil {         // the configuration file is read there
			return err
		}
		if disableElection {
			f.leaderElection = false
		}
		if inCluster && (kubeconfig || f.fixtures != "") {
			return exitWith(exitBadInput, fmt.Errorf("--incluster with --kubeconfig or --fixtures: choose one source"))
		}
		if inCluster {
			f.kubeconfig = "" // over a configuration file's
		}
		return nil
	}
}
