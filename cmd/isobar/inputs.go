package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/translate"
)

// inputFlags are the flags of every command that reads objects from files.
type inputFlags struct {
	files     []string
	namespace string
	compile   compileFlags
	// wantOrigins asks the load to record where each object was read
	// (source.LoadOptions.Origins); origins is that record after the load.
	wantOrigins bool
	origins     map[status.Ref]source.Origin
}

// compileFlags are the options of the core shared by translate, check,
// route, diff, sim and serve.
type compileFlags struct {
	rootNamespaces        []string
	ingressClass          string
	disablePermitInsecure bool
	httpPort, httpsPort   uint32
	// httpLog and httpsLog are Contour's per-listener access log paths
	// (--envoy-http-access-log, --envoy-https-access-log).
	httpLog, httpsLog  string
	enableExternalName bool
	includeGrants      bool
	accessLog          graph.AccessLog
	connections        graph.Connections
	upstream           graph.Upstream
	jsonFields         []string
	// cipherSuites and httpVersions are the repeatable flags joined into
	// connections.
	cipherSuites, httpVersions, curves []string
	// upstreamCipherSuites and upstreamCurves are the repeatable flags
	// joined into upstream.
	upstreamCipherSuites, upstreamCurves []string
	headerFlags                          headerFlags
	headers                              graph.GlobalHeaders
	rateLimitFlags                       rateLimitFlags
	rateLimit                            graph.RateLimitService
	// fallbackCertificate is --fallback-certificate and clientCertificate
	// --envoy-client-certificate (namespace/name).
	fallbackCertificate, clientCertificate string
	// tracingJSON is --tracing as given; tracing the setting it holds.
	tracingJSON string
	tracing     *graph.Tracing
	// globalAuthJSON is --global-ext-auth as given; globalAuth the
	// setting it holds.
	globalAuthJSON string
	globalAuth     *graph.GlobalAuthorization
	// now is --now as given; at the time certificates are checked against.
	now string
	at  time.Time
	// configPath is Contour's configuration file (--config-path), and
	// configIgnored the keys of it this command does not apply; logIgnored
	// leaves reporting them to the command (serve logs them as JSON).
	configPath    string
	configIgnored []string
	logIgnored    bool
}

func (f *inputFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&f.files, "filename", "f", nil,
		"file or folder of Kubernetes YAML/JSON (repeatable; folders are read recursively; - for stdin)")
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "default", "namespace of objects that name none")
	f.compile.register(cmd)
}

func (f *compileFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&f.rootNamespaces, "root-namespaces", nil,
		"namespaces where root HTTPProxies and IngressRoutes may live (default: all)")
	cmd.Flags().StringVar(&f.ingressClass, "ingress-class", "",
		"the ingress class processed, or a comma-separated list of them, as Contour's --ingress-class-name (default: objects with no class or class \"contour\")")
	cmd.Flags().BoolVar(&f.disablePermitInsecure, "disable-permit-insecure", false,
		"ignore permitInsecure on every route")
	cmd.Flags().Uint32Var(&f.httpPort, "envoy-service-http-port", 8080, "port of Envoy's HTTP listener (ingress_http)")
	cmd.Flags().Uint32Var(&f.httpsPort, "envoy-service-https-port", 8443, "port of Envoy's HTTPS listener (ingress_https)")
	cmd.Flags().BoolVar(&f.enableExternalName, "enable-external-name", false,
		"allow routing to ExternalName Services (off by default: they can reach anything DNS resolves)")
	cmd.Flags().BoolVar(&f.includeGrants, "include-grants", false,
		"includes across namespaces need the included namespace's consent: its Namespace's annotation "+graph.IncludeFromAnnotation+" lists the includer's namespace (or *)")
	log := graph.AccessLog{}.Defaults()
	cmd.Flags().StringVar(&f.accessLog.Format, "accesslog-format", log.Format,
		"Envoy's request log: envoy (its text line) or json (one object per request, naming the object that routed it)")
	cmd.Flags().StringVar(&f.accessLog.Level, "accesslog-level", log.Level,
		"requests Envoy logs: info (all), error (status >= 400), critical (>= 500) or disabled")
	cmd.Flags().StringVar(&f.accessLog.Path, "accesslog-path", log.Path, "file Envoy writes its request log to")
	cmd.Flags().StringVar(&f.accessLog.Text, "accesslog-format-string", "",
		"the line of the envoy format, with Envoy's command operators, ending with \\n (Contour's accesslog-format-string; default: Envoy's line)")
	cmd.Flags().StringVar(&f.accessLog.RouteMetadata, "route-source-metadata", log.RouteMetadata,
		"when routes carry Contour's metadata naming their object (io.projectcontour.kind, .namespace, .name under "+translate.MetadataFilter+"): auto (only when the access log reads it with %METADATA(ROUTE:...)%, as the json format's kind, namespace and name fields do) or always (as Contour); routes are named after their object either way (%ROUTE_NAME%: httpproxy/<namespace>/<name>)")
	cmd.Flags().StringArrayVar(&f.jsonFields, "accesslog-json-field", nil,
		"a field of JSON log lines, as Contour's json-fields: a name (@timestamp, grpc_status...) or name=format with Envoy's command operators; repeatable (default: Isobar's set)")
	for _, t := range []struct {
		name string
		to   *string
		what string
	}{
		{"request-timeout", &f.connections.RequestTimeout, "how long a whole request may take (default: none)"},
		{"connection-idle-timeout", &f.connections.ConnectionIdleTimeout, "how long a downstream connection may stay without requests (default: 60s)"},
		{"stream-idle-timeout", &f.connections.StreamIdleTimeout, "how long a request may go without activity (default: Envoy's 5m)"},
		{"max-connection-duration", &f.connections.MaxConnectionDuration, "how long a downstream connection may last (default: no limit)"},
		{"delayed-close-timeout", &f.connections.DelayedCloseTimeout, "how long Envoy waits for the client to close after its response (default: Envoy's 1s)"},
		{"connection-shutdown-grace-period", &f.connections.ConnectionShutdownGracePeriod, "the time between HTTP/2 GOAWAY frames when draining (default: Envoy's 5s)"},
	} {
		cmd.Flags().StringVar(t.to, t.name, "", t.what+"; a duration such as 30s, or infinity (Contour's timeouts."+t.name+")")
	}
	cmd.Flags().Uint32Var(&f.connections.NumTrustedHops, "num-trusted-hops", 0,
		"proxies in front of Envoy that append to X-Forwarded-For (Contour's network.num-trusted-hops)")
	cmd.Flags().BoolVar(&f.connections.StripTrailingHostDot, "strip-trailing-host-dot", false,
		"route a Host with a trailing dot (a.com.) as the name without it (Contour's network.strip-trailing-host-dot)")
	cmd.Flags().BoolVar(&f.connections.DisableMergeSlashes, "disable-merge-slashes", false,
		"keep repeated slashes in request paths instead of merging them before routing (Contour's disableMergeSlashes)")
	cmd.Flags().BoolVar(&f.connections.DisableAllowChunkedLength, "disable-allow-chunked-length", false,
		"refuse HTTP/1 requests with both Content-Length and chunked encoding (Contour's disableAllowChunkedLength)")
	f.registerListener(cmd)
	f.registerUpstream(cmd)
	f.registerTLS(cmd)
	f.headerFlags.register(cmd)
	f.rateLimitFlags.register(cmd)
	cmd.Flags().StringVar(&f.now, "now", "",
		"time serving certificates are checked against (RFC 3339, e.g. 2026-12-01T00:00:00Z; default: the clock; off: no check)")
	cmd.Flags().StringVar(&f.configPath, "config-path", "", "Contour's configuration file (contour.yaml): its access log, "+
		"permitInsecure, ExternalName, timeouts, network, listener, TLS, HTTP version, cluster, header policy and rate limit service settings apply (and for serve its Envoy Service "+
		"and kubeconfig), others are reported as ignored; flags take precedence")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if f.configPath != "" { // before the flags are checked: the file sets some
			var err error
			if f.configIgnored, err = applyConfigFile(cmd, f.configPath); err != nil {
				return exitWith(exitBadInput, err)
			}
			if len(f.configIgnored) > 0 && !f.logIgnored {
				fmt.Fprintf(cmd.ErrOrStderr(), "isobar: %s: settings that Isobar does not implement or this command does not use are ignored: %s\n",
					f.configPath, strings.Join(f.configIgnored, ", "))
			}
		}
		return f.validate(cmd)
	}
}

// registerTLS defines the flags of ingress_https's TLS parameters and of
// the HTTP versions offered.
func (f *compileFlags) registerTLS(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.connections.MinimumTLSVersion, "tls-minimum-protocol-version", "",
		"lowest TLS version of ingress_https, 1.2 or 1.3; a host may only raise it (Contour's tls.minimum-protocol-version; default: 1.2)")
	cmd.Flags().StringVar(&f.connections.MaximumTLSVersion, "tls-maximum-protocol-version", "",
		"highest TLS version of ingress_https, 1.2 or 1.3; a host may only lower it (Contour's tls.maximum-protocol-version; default: 1.3)")
	cmd.Flags().StringArrayVar(&f.cipherSuites, "tls-cipher-suite", nil,
		"a TLS 1.2 cipher suite of ingress_https, such as ECDHE-RSA-AES256-GCM-SHA384 or [A|B] (equal preference); repeatable, in order of preference (Contour's tls.cipher-suites; default: Contour's list)")
	cmd.Flags().StringVar(&f.clientCertificate, "envoy-client-certificate", "",
		"namespace/name of the TLS Secret Envoy presents to the upstreams it reaches over TLS (Contour's tls.envoy-client-certificate; default: none)")
	cmd.Flags().StringVar(&f.fallbackCertificate, "fallback-certificate", "",
		"namespace/name of the TLS Secret served to clients that send no server name, for the HTTPProxies that set tls.enableFallbackCertificate (Contour's tls.fallback-certificate; default: none, and those HTTPProxies are invalid)")
	cmd.Flags().BoolVar(&f.connections.JA3Fingerprinting, "tls-fingerprint-ja3", false,
		"ingress_https's TLS inspector computes the JA3 fingerprint of client hellos (Contour's tls.fingerprint.ja3)")
	cmd.Flags().BoolVar(&f.connections.JA4Fingerprinting, "tls-fingerprint-ja4", false,
		"ingress_https's TLS inspector computes the JA4 fingerprint of client hellos (Contour's tls.fingerprint.ja4)")
	cmd.Flags().StringArrayVar(&f.curves, "tls-ecdh-curve", nil,
		"an ECDH curve ingress_https offers: X25519, P-256, P-384, P-521, X25519MLKEM768 or MLKEM1024; repeatable, in order of preference (Contour's tls.ecdh-curves; default: Envoy's)")
	cmd.Flags().StringArrayVar(&f.httpVersions, "default-http-version", nil,
		"an HTTP version offered, HTTP/1.1 or HTTP/2; repeatable (Contour's default-http-versions; default: both)")
}

// registerUpstream defines the flags of Contour's cluster settings.
func (f *compileFlags) registerUpstream(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.upstream.ConnectTimeout, "connect-timeout", "",
		"how long Envoy tries to connect to an upstream, a duration such as 5s (Contour's timeouts.connect-timeout; default: 2s)")
	cmd.Flags().Uint32Var(&f.upstream.MaxRequestsPerConnection, "cluster-max-requests-per-connection", 0,
		"close an upstream connection after that many requests (Contour's cluster.max-requests-per-connection; default: 0, no limit)")
	cmd.Flags().Uint32Var(&f.upstream.PerConnectionBufferLimitBytes, "cluster-per-connection-buffer-limit-bytes", 0,
		"soft limit of each upstream connection's buffers, in bytes (Contour's cluster.per-connection-buffer-limit-bytes; default: 0, Envoy's 1 MiB)")
	cb := &f.upstream.CircuitBreakers
	for _, t := range []struct {
		name string
		to   *uint32
	}{{"max-connections", &cb.MaxConnections}, {"max-pending-requests", &cb.MaxPendingRequests}, {"max-requests", &cb.MaxRequests},
		{"max-retries", &cb.MaxRetries}, {"per-host-max-connections", &cb.PerHostMaxConnections}} {
		cmd.Flags().Uint32Var(t.to, "cluster-circuit-breakers-"+t.name, 0, "circuit-breaker threshold of the clusters of Services whose annotations set none "+
			"(Contour's cluster.circuit-breakers."+t.name+"; default: 0, Envoy's)")
	}
	cmd.Flags().StringVar(&f.upstream.TLSMinimumVersion, "cluster-upstream-tls-minimum-protocol-version", "",
		"lowest TLS version Envoy offers upstreams it reaches over TLS, 1.2 or 1.3 (Contour's cluster.upstream-tls.minimum-protocol-version; default: Envoy's)")
	cmd.Flags().StringVar(&f.upstream.TLSMaximumVersion, "cluster-upstream-tls-maximum-protocol-version", "",
		"highest TLS version Envoy offers upstreams, 1.2 or 1.3 (Contour's cluster.upstream-tls.maximum-protocol-version; default: Envoy's)")
	cmd.Flags().StringArrayVar(&f.upstreamCipherSuites, "cluster-upstream-tls-cipher-suite", nil,
		"a TLS 1.2 cipher suite Envoy offers upstreams, as --tls-cipher-suite; repeatable (Contour's cluster.upstream-tls.cipher-suites; default: Envoy's)")
	cmd.Flags().StringArrayVar(&f.upstreamCurves, "cluster-upstream-tls-ecdh-curve", nil,
		"an ECDH curve Envoy offers upstreams, as --tls-ecdh-curve; repeatable (Contour's cluster.upstream-tls.ecdh-curves; default: Envoy's)")
	cmd.Flags().StringVar(&f.upstream.DNSLookupFamily, "dns-lookup-family", "",
		"addresses Envoy looks up for ExternalName Services: auto (IPv6, else IPv4), v4, v6 or all (Contour's cluster.dns-lookup-family; default: auto)")
}

// registerListener defines the flags of Contour's listener settings.
func (f *compileFlags) registerListener(cmd *cobra.Command) {
	cmd.Flags().Uint32Var(&f.connections.MaxRequestsPerConnection, "listener-max-requests-per-connection", 0,
		"close a downstream connection after that many requests (Contour's listener.max-requests-per-connection; default: 0, no limit)")
	cmd.Flags().Uint32Var(&f.connections.HTTP2MaxConcurrentStreams, "listener-http2-max-concurrent-streams", 0,
		"concurrent streams a downstream HTTP/2 connection may open, at most 2147483647 (Contour's listener.http2-max-concurrent-streams; default: 0, Envoy's)")
	cmd.Flags().StringVar(&f.tracingJSON, "tracing", "",
		"trace requests with OpenTelemetry, Contour's tracing setting as JSON ({\"extensionService\": \"namespace/name\", \"serviceName\": ..., "+
			"\"overallSampling\": \"10\", \"customTags\": [{\"tagName\": ..., \"literal\" or \"requestHeaderName\": ...}]}): "+
			"every connection manager sends spans to that ExtensionService")
	cmd.Flags().StringVar(&f.globalAuthJSON, "global-ext-auth", "",
		"check requests with an authorization server, Contour's globalExtAuth setting as JSON ({\"extensionService\": \"namespace/name\", "+
			"\"serviceType\": \"grpc\" (the default) or \"http\", \"httpSettings\": {...}, "+
			"\"failOpen\": ..., \"responseTimeout\": ..., \"authPolicy\": {\"disabled\": ..., \"context\": {...}}, \"withRequestBody\": {...}}): "+
			"every HTTPProxy virtual host without a server of its own, and ingress_http")
	cmd.Flags().StringVar(&f.connections.Compression, "compression", "",
		"how responses are compressed when the client accepts it: gzip, brotli, zstd or disabled (Contour's compression.algorithm; default: gzip)")
	cmd.Flags().StringVar(&f.connections.ServerHeaderTransformation, "server-header-transformation", "",
		"the Server header of responses: overwrite (with envoy), append_if_absent or pass_through (Contour's serverHeaderTransformation; default: overwrite)")
	cmd.Flags().Uint32Var(&f.connections.PerConnectionBufferLimitBytes, "listener-per-connection-buffer-limit-bytes", 0,
		"soft limit of each downstream connection's buffers, in bytes (Contour's listener.per-connection-buffer-limit-bytes; default: 0, Envoy's 1 MiB)")
	cmd.Flags().Uint32Var(&f.connections.SocketTOS, "listener-socket-tos", 0,
		"IPv4 TOS byte (DSCP and ECN) of the listeners' packets, 0 to 255 (Contour's listener.socket-options.tos; default: 0, not set)")
	cmd.Flags().Uint32Var(&f.connections.MaxConnectionsToAcceptPerSocketEvent, "listener-max-connections-to-accept-per-socket-event", 0,
		"connections each listener accepts per socket event (Contour's listener.max-connections-to-accept-per-socket-event; default: 0, Envoy's)")
	cmd.Flags().StringVar(&f.connections.ConnectionBalancer, "listener-connection-balancer", "",
		"exact: spread connections evenly over Envoy's worker threads (Contour's listener.connection-balancer; default: the kernel's balance)")
	cmd.Flags().BoolVar(&f.connections.UseProxyProtocol, "use-proxy-protocol", false,
		"both listeners read a PROXY protocol header (v1 or v2) first, as a load balancer in front of Envoy sends it, and take the client address it names (Contour's)")
	cmd.Flags().StringVar(&f.connections.HTTPAddress, "envoy-service-http-address", "0.0.0.0", "IP address of Envoy's HTTP listener (ingress_http; :: takes IPv4 too)")
	cmd.Flags().StringVar(&f.connections.HTTPSAddress, "envoy-service-https-address", "0.0.0.0", "IP address of Envoy's HTTPS listener (ingress_https)")
	cmd.Flags().StringVar(&f.httpLog, "envoy-http-access-log", "", "Contour's access log path of ingress_http: Isobar has one for both listeners (--accesslog-path), so it must equal --envoy-https-access-log when both are given")
	cmd.Flags().StringVar(&f.httpsLog, "envoy-https-access-log", "", "Contour's access log path of ingress_https (see --envoy-http-access-log)")
}

// accessLogPaths applies Contour's per-listener access log paths to the
// one Isobar writes, refusing two different ones.
func (f *compileFlags) accessLogPaths() error {
	switch {
	case f.httpLog != "" && f.httpsLog != "" && f.httpLog != f.httpsLog:
		return fmt.Errorf("--envoy-http-access-log %q and --envoy-https-access-log %q: Isobar writes one access log for both listeners (--accesslog-path)",
			f.httpLog, f.httpsLog)
	case f.httpLog != "":
		f.accessLog.Path = f.httpLog
	case f.httpsLog != "":
		f.accessLog.Path = f.httpsLog
	}
	return nil
}

// validate refuses listener ports Envoy could not use, before anything is
// read or served.
func (f *compileFlags) validate(cmd *cobra.Command) error {
	for _, p := range []struct {
		flag string
		port uint32
	}{{"--envoy-service-http-port", f.httpPort}, {"--envoy-service-https-port", f.httpsPort}} {
		if p.port < 1 || p.port > 65535 {
			return exitWith(exitBadInput, fmt.Errorf("%s %d: not a port number (1-65535)", p.flag, p.port))
		}
	}
	if f.httpPort == f.httpsPort {
		return exitWith(exitBadInput, fmt.Errorf("--envoy-service-http-port and --envoy-service-https-port are both %d: Envoy's two listeners need two ports", f.httpPort))
	}
	for _, e := range f.jsonFields {
		if strings.Contains(e, "\n") {
			return exitWith(exitBadInput, fmt.Errorf("--accesslog-json-field %q: a field cannot hold a line break", e))
		}
	}
	f.accessLog.JSONFields = strings.Join(f.jsonFields, "\n")
	if err := f.accessLogPaths(); err != nil {
		return exitWith(exitBadInput, err)
	}
	if err := f.accessLog.Check(); err != nil {
		return exitWith(exitBadInput, fmt.Errorf("--accesslog-*: %w", err))
	}
	f.connections.CipherSuites = strings.Join(f.cipherSuites, "\n")
	f.connections.ECDHCurves = strings.Join(f.curves, "\n")
	f.connections.HTTPVersions = strings.Join(f.httpVersions, "\n")
	if err := f.connections.Check(); err != nil {
		return exitWith(exitBadInput, fmt.Errorf("--%w", err))
	}
	for _, p := range [][2]string{{"fallback-certificate", f.fallbackCertificate}, {"envoy-client-certificate", f.clientCertificate}} {
		if ns, name, ok := strings.Cut(p[1], "/"); p[1] != "" && (!ok || ns == "" || name == "" || strings.Contains(name, "/")) {
			return exitWith(exitBadInput, fmt.Errorf("--%s %q: must be namespace/name", p[0], p[1]))
		}
	}
	f.upstream.TLSCipherSuites = strings.Join(f.upstreamCipherSuites, "\n")
	f.upstream.TLSECDHCurves = strings.Join(f.upstreamCurves, "\n")
	if err := f.upstream.Check(); err != nil {
		return exitWith(exitBadInput, fmt.Errorf("--%w", err))
	}
	var err error
	if f.tracingJSON != "" {
		if f.tracing, err = graph.ParseTracing(f.tracingJSON); err != nil {
			return exitWith(exitBadInput, fmt.Errorf("--tracing: %w", err))
		}
	}
	if f.globalAuthJSON != "" {
		if f.globalAuth, err = graph.ParseGlobalAuthorization(f.globalAuthJSON); err != nil {
			return exitWith(exitBadInput, fmt.Errorf("--global-ext-auth: %w", err))
		}
	}
	if f.headers, err = f.headerFlags.headers(); err != nil {
		return exitWith(exitBadInput, err)
	}
	if f.rateLimit, err = f.rateLimitFlags.resolve(cmd); err != nil {
		return exitWith(exitBadInput, err)
	}
	switch f.now {
	case "":
		f.at = time.Now().Truncate(time.Second)
	case "off":
		f.at = time.Time{}
	default:
		at, err := time.Parse(time.RFC3339, f.now)
		if err != nil {
			return exitWith(exitBadInput, fmt.Errorf("--now %q: not an RFC 3339 time (2026-12-01T00:00:00Z) nor off", f.now))
		}
		f.at = at
	}
	return nil
}

// options returns the core options the flags describe.
func (f *compileFlags) options() controlplane.Options {
	return controlplane.Options{Options: graph.Options{
		RootNamespaces:        f.rootNamespaces,
		IngressClass:          f.ingressClass,
		DisablePermitInsecure: f.disablePermitInsecure,
		HTTPPort:              f.httpPort,
		HTTPSPort:             f.httpsPort,
		EnableExternalName:    f.enableExternalName,
		IncludeGrants:         f.includeGrants,
		AccessLog:             f.accessLog,
		Connections:           f.connections,
		Upstream:              f.upstream,
		Headers:               f.headers,
		RateLimitService:      f.rateLimit,
		FallbackCertificate:   f.fallbackCertificate,
		ClientCertificate:     f.clientCertificate,
		Tracing:               f.tracing,
		GlobalAuthorization:   f.globalAuth,
		Now:                   f.at,
	}}
}

// load reads the files; problems are printed to stderr and returned so the
// command can exit 2 after printing what it could.
func (f *inputFlags) load(stdin io.Reader, stderr io.Writer) (*source.Index, []source.Problem, error) {
	if len(f.files) == 0 {
		return nil, nil, exitWith(exitBadInput, fmt.Errorf("no input: give -f FILE or -f FOLDER (- reads stdin)"))
	}
	tuneBatchGC(batchLimit(inputSize(f.files)))
	// What the core reads of Services and endpoints, as serve holds them:
	// these commands never show objects (diff, which does, loads its own).
	idx, problems := source.Load(source.LoadOptions{DefaultNamespace: f.namespace, Stdin: stdin, Origins: f.wantOrigins, Trim: true}, f.files...)
	f.origins = idx.Origins
	for _, p := range problems {
		fmt.Fprintln(stderr, "error:", p.Error())
	}
	return idx, problems, nil
}

// compile loads and compiles in one step.
func (f *inputFlags) compileInputs(cmd *cobra.Command) (*controlplane.Result, []source.Problem, error) {
	idx, problems, err := f.load(cmd.InOrStdin(), cmd.ErrOrStderr())
	if err != nil {
		return nil, nil, err
	}
	timings.mark("read")
	if collectLoadGarbage() {
		timings.mark("collected")
	}
	res, err := controlplane.Compile(idx, f.compile.options())
	if err != nil {
		return nil, problems, fmt.Errorf("internal error (please report it): %w", err)
	}
	timings.mark("compiled")
	return res, problems, nil
}

// unreadable is the summary of problems after each was printed: how many
// paths could not be read and how many documents could not be used (a
// document with several bad fields counts once).
func unreadable(problems []source.Problem) error {
	type doc struct {
		file string
		n    int
	}
	paths, docs := map[string]bool{}, map[doc]bool{}
	for _, p := range problems {
		if p.Doc == 0 {
			paths[p.File] = true
		} else {
			docs[doc{p.File, p.Doc}] = true
		}
	}
	var parts []string
	if n := len(paths); n > 0 {
		parts = append(parts, plural(n, "path")+" could not be read")
	}
	if n := len(docs); n > 0 {
		parts = append(parts, plural(n, "document")+" could not be used")
	}
	return fmt.Errorf("%s", strings.Join(parts, "; "))
}

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
