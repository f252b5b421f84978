package envoy

import (
	_ "embed" // the cookie rewrite script
	"slices"
	"strings"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	grpcstatsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_stats/v3"
	grpcwebv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_web/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	proxyprotocolv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/proxy_protocol/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Listener is a TCP listener on address:port with the options o: a
// PROXY protocol listener filter first when o asks for it, then filters;
// on "::" it takes IPv4 connections too, as Contour's.
func Listener(name, address string, port uint32, o ListenerOptions, chains []*listenerv3.FilterChain, filters ...*listenerv3.ListenerFilter) *listenerv3.Listener {
	if o.ProxyProtocol {
		filters = append([]*listenerv3.ListenerFilter{proxyProtocolFilter}, filters...)
	}
	addr := SocketAddress(address, port)
	if address == "::" {
		addr.GetSocketAddress().Ipv4Compat = true
	}
	l := &listenerv3.Listener{
		Name:            name,
		Address:         addr,
		FilterChains:    chains,
		ListenerFilters: filters,
	}
	if o.BufferLimit > 0 {
		l.PerConnectionBufferLimitBytes = wrapperspb.UInt32(o.BufferLimit)
	}
	l.SocketOptions = tcpKeepalive
	if o.TOS > 0 {
		l.SocketOptions = append(tcpKeepalive[:len(tcpKeepalive):len(tcpKeepalive)], &corev3.SocketOption{
			Description: "IPv4 type of service", Level: ipProtoIP, Name: ipTOS,
			Value: &corev3.SocketOption_IntValue{IntValue: int64(o.TOS)}, State: corev3.SocketOption_STATE_LISTENING})
	}
	if o.ExactBalance {
		l.ConnectionBalanceConfig = &listenerv3.Listener_ConnectionBalanceConfig{
			BalanceType: &listenerv3.Listener_ConnectionBalanceConfig_ExactBalance_{ExactBalance: &listenerv3.Listener_ConnectionBalanceConfig_ExactBalance{}}}
	}
	if o.AcceptPerEvent > 0 {
		l.MaxConnectionsToAcceptPerSocketEvent = wrapperspb.UInt32(o.AcceptPerEvent)
	}
	return l
}

// tcpKeepalive are Contour's socket options of every listener (Linux
// numbers): TCP keepalive on accepted connections, first probe after 45 s
// idle, then every 5 s, the connection dropped after 9 unanswered probes,
// so that Envoy notices clients gone without a FIN (a NAT or a load
// balancer that forgot them) in under two minutes instead of hours.
// Shared, never modified.
var tcpKeepalive = []*corev3.SocketOption{
	keepaliveOption("TCP keep-alive", solSocket, soKeepalive, 1),
	keepaliveOption("TCP keep-alive idle time before probes (s)", ipProtoTCP, tcpKeepIdle, 45),
	keepaliveOption("TCP keep-alive time between probes (s)", ipProtoTCP, tcpKeepIntvl, 5),
	keepaliveOption("TCP keep-alive probes before the connection is dropped", ipProtoTCP, tcpKeepCnt, 9),
}

// TCPKeepalive returns the socket options of TCP keepalive every listener
// has (see tcpKeepalive): a new slice of shared, never modified options.
func TCPKeepalive() []*corev3.SocketOption { return slices.Clone(tcpKeepalive) }

func keepaliveOption(description string, level, name, value int64) *corev3.SocketOption {
	return &corev3.SocketOption{Description: description, Level: level, Name: name,
		Value: &corev3.SocketOption_IntValue{IntValue: value}, State: corev3.SocketOption_STATE_LISTENING}
}

// ListenerOptions are settings of the listeners themselves (the zero value:
// Envoy's defaults), Contour's listener.per-connection-buffer-limit-bytes,
// listener.socket-options.tos and listener.connection-balancer.
type ListenerOptions struct {
	// BufferLimit is the soft limit, in bytes, of each downstream
	// connection's read and write buffers (0: Envoy's 1 MiB).
	BufferLimit uint32
	// TOS is the IPv4 type of service (DSCP and ECN bits) of the packets
	// of accepted connections (0: left to the system).
	TOS uint8
	// ExactBalance spreads connections evenly over Envoy's worker threads
	// instead of leaving it to the kernel.
	ExactBalance bool
	// JA3 and JA4 make the TLS inspector fingerprint client hellos (JA3 and
	// JA4 hashes, for access logs and filters).
	JA3, JA4 bool
	// AcceptPerEvent bounds the connections accepted per socket event (0:
	// Envoy's default).
	AcceptPerEvent uint32
	// ProxyProtocol makes each listener read a PROXY protocol header first.
	ProxyProtocol bool
	// HTTPAddress and HTTPSAddress are where ingress_http and
	// ingress_https listen (callers pass them to Listener).
	HTTPAddress, HTTPSAddress string
}

// proxyProtocolFilter reads the PROXY protocol header (v1 or v2) a load
// balancer sends before the connection's bytes: Envoy then takes the
// client address it names. Shared, never modified.
var proxyProtocolFilter = &listenerv3.ListenerFilter{Name: "envoy.filters.listener.proxy_protocol",
	ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: Any(&proxyprotocolv3.ProxyProtocol{})}}

// Socket option levels and names of Linux, where Envoy runs.
const (
	solSocket    = 1 // SOL_SOCKET
	soKeepalive  = 9 // SO_KEEPALIVE
	ipProtoTCP   = 6 // IPPROTO_TCP
	tcpKeepIdle  = 4 // TCP_KEEPIDLE
	tcpKeepIntvl = 5 // TCP_KEEPINTVL
	tcpKeepCnt   = 6 // TCP_KEEPCNT
	ipProtoIP    = 0 // IPPROTO_IP
	ipTOS        = 1 // IP_TOS
)

// TLSInspector is the listener filter that reads the SNI.
func TLSInspector(o ListenerOptions) *listenerv3.ListenerFilter {
	inspector := &tlsinspectorv3.TlsInspector{}
	if o.JA3 {
		inspector.EnableJa3Fingerprinting = wrapperspb.Bool(true)
	}
	if o.JA4 {
		inspector.EnableJa4Fingerprinting = wrapperspb.Bool(true)
	}
	return &listenerv3.ListenerFilter{
		Name:       wellknown.TLSInspector,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: Any(inspector)},
	}
}

// HTTPConnectionManager is a network filter routing HTTP with the route
// configuration routeConfig fetched over ADS, logging requests to logs,
// keeping connections as s says (nil: DefaultConnections). It behaves as
// Contour's: the HTTP filters of httpFilters; HTTP/1.0 requests accepted
// (Envoy answers them 426 otherwise); an HTTP/1 request with both
// Content-Length and chunked encoding taken as chunked (unless s says
// otherwise); a client's x-request-id kept; the path normalised (dot
// segments) and its repeated slashes merged before routing (unless s says
// otherwise); the Host's port ignored.
//
// h.CookieRewrite adds the Lua filter holding CookieRewriteScript (between
// local_ratelimit and rbac, as Contour places it), for a connection manager
// whose routes rewrite cookies: Contour puts it in every one, but the
// script is 2.3 KB and every TLS host has a connection manager of its own.
// h.CheckServerName puts the misdirected request check (MisdirectedFilter)
// first.
// extra filters, when given, go between those of httpFilters and the router
// (where Contour adds a virtual host's jwt_authn filter).
// ConnectionManagers builds the same managers faster, for many hosts.
func HTTPConnectionManager(statPrefix, routeConfig string, logs []*accesslogv3.AccessLog, s *ConnectionSettings, h HostSettings, extra ...*hcmv3.HttpFilter) *listenerv3.Filter {
	if s == nil {
		s = defaultSettings
	}
	return managerFilter(Any(connectionManager(statPrefix, routeConfig, logs, s, h, extra)))
}

// managerFilter is the network filter of a connection manager encoded in a.
func managerFilter(a *anypb.Any) *listenerv3.Filter {
	return &listenerv3.Filter{Name: wellknown.HTTPConnectionManager, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}
}

// connectionManager is the message of HTTPConnectionManager (s not nil).
func connectionManager(statPrefix, routeConfig string, logs []*accesslogv3.AccessLog, s *ConnectionSettings, h HostSettings, extra []*hcmv3.HttpFilter) *hcmv3.HttpConnectionManager {
	hcm := managerHead(statPrefix, routeConfig, s)
	hcm.HttpFilters = managerFilters(s, h, extra)
	setManagerTail(hcm, logs, s, h.ForwardClientCert)
	return hcm
}

// managerHead is a connection manager with only its fields numbered below
// http_filters (5): its codec, stat prefix and route configuration.
func managerHead(statPrefix, routeConfig string, s *ConnectionSettings) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{
		CodecType:  s.codec,
		StatPrefix: statPrefix,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource: adsSource, RouteConfigName: routeConfig,
		}},
	}
}

// managerFilters are the HTTP filters of a connection manager with
// settings s for hosts h.
func managerFilters(s *ConnectionSettings, h HostSettings, extra []*hcmv3.HttpFilter) []*hcmv3.HttpFilter {
	filters := s.filters[h.filterSet()]
	if len(extra) > 0 {
		last := len(filters) - 1
		filters = append(append(append(make([]*hcmv3.HttpFilter, 0, len(filters)+len(extra)), filters[:last]...), extra...), filters[last])
	}
	return filters
}

// setManagerTail sets the fields of hcm numbered above http_filters (5):
// the access logs, the connection settings and the client certificate
// details forwarded (f, nil for none).
func setManagerTail(hcm *hcmv3.HttpConnectionManager, logs []*accesslogv3.AccessLog, s *ConnectionSettings, f *ForwardClientCert) {
	hcm.CommonHttpProtocolOptions = s.common
	hcm.HttpProtocolOptions = s.http1
	hcm.Http2ProtocolOptions = s.http2
	hcm.ServerHeaderTransformation = s.serverHeader
	hcm.UseRemoteAddress = wrapBool(true)
	hcm.XffNumTrustedHops = s.trustedHops
	hcm.NormalizePath = wrapBool(true)
	hcm.MergeSlashes = !s.keepSlashes
	hcm.StripTrailingHostDot = s.stripHostDot
	hcm.PreserveExternalRequestId = true
	hcm.RequestTimeout = s.request
	hcm.StreamIdleTimeout = s.streamIdle
	hcm.DrainTimeout = s.drain
	hcm.DelayedCloseTimeout = s.delayedClose
	hcm.AccessLog = logs
	hcm.Tracing = s.tracing
	if f != nil {
		hcm.ForwardClientCertDetails = hcmv3.HttpConnectionManager_SANITIZE_SET
		hcm.SetCurrentClientCertDetails = &hcmv3.HttpConnectionManager_SetCurrentClientCertDetails{
			Subject: wrapperspb.Bool(f.Subject), Cert: f.Cert, Chain: f.Chain, Dns: f.DNS, Uri: f.URI}
	}
}

// HostSettings are what one connection manager needs of the hosts it
// serves: the cookie rewrite script (CookieRewrite), the misdirected
// request check (CheckServerName: a wildcard host's, whose filter chain
// and virtual host take every name under the wildcard, so that a request
// whose Host is not the connection's TLS server name gets 421 as on other
// TLS hosts), and which details of a verified client certificate go
// upstream in x-forwarded-client-cert (ForwardClientCert, nil: Envoy's
// default, the header is removed).
type HostSettings struct {
	CookieRewrite     bool
	CheckServerName   bool
	ForwardClientCert *ForwardClientCert
}

// filterSets is how many HTTP filter lists the HostSettings select from:
// with or without the cookie rewrite script, times with or without the
// misdirected request check.
const filterSets = 4

// filterSet is the index of h's HTTP filter list (below filterSets):
// bit 0 for the cookie rewrite script, bit 1 for the misdirected request
// check.
func (h HostSettings) filterSet() int {
	i := 0
	if h.CookieRewrite {
		i |= 1
	}
	if h.CheckServerName {
		i |= 2
	}
	return i
}

// ForwardClientCert selects the client certificate details Envoy sets in
// x-forwarded-client-cert, replacing what the client sent (SANITIZE_SET).
type ForwardClientCert struct {
	Subject, Cert, Chain, DNS, URI bool
}

// ConnectionIdleTimeout is how long a downstream connection without
// requests stays open by default: Contour's default connection-idle-timeout
// (Envoy's is an hour).
const ConnectionIdleTimeout = 60 * time.Second

// Timeout is one of Contour's timeout settings: unset (Envoy's default),
// off ("infinity"), or a duration.
type Timeout struct {
	Set, Off bool
	Duration time.Duration
}

// proto is t as Envoy's field: nil when unset, 0 when off.
func (t Timeout) proto() *durationpb.Duration {
	switch {
	case !t.Set:
		return nil
	case t.Off:
		return durationpb.New(0)
	}
	return durationpb.New(t.Duration)
}

// Connections are how connection managers keep downstream connections:
// Contour's timeouts (request-timeout, connection-idle-timeout,
// stream-idle-timeout, max-connection-duration, delayed-close-timeout,
// connection-shutdown-grace-period, Envoy's drain_timeout) and
// num-trusted-hops (how many proxies in front of Envoy append to
// X-Forwarded-For).
type Connections struct {
	Request, Idle, StreamIdle, MaxDuration, DelayedClose, Drain Timeout
	TrustedHops                                                 uint32
	// KeepSlashes leaves repeated slashes in paths (Contour's
	// disableMergeSlashes); RejectChunkedLength makes Envoy refuse HTTP/1
	// requests with both Content-Length and chunked encoding instead of
	// dropping the length (Contour's disableAllowChunkedLength).
	KeepSlashes, RejectChunkedLength bool
	// StripHostDot removes a trailing dot from the Host before routing
	// (Contour's network.strip-trailing-host-dot).
	StripHostDot bool
	// Codec is the HTTP version connection managers speak (CodecAuto:
	// whichever the client does).
	Codec Codec
	// MaxRequests closes a downstream connection after that many requests
	// (0: no limit); MaxStreams is the HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS
	// advertised and enforced (0: Envoy's default). Contour's
	// listener.max-requests-per-connection and
	// listener.http2-max-concurrent-streams.
	MaxRequests, MaxStreams uint32
	// ServerHeader is what Envoy does with a response's Server header
	// (ServerOverwrite, the zero value: Envoy's and Contour's default).
	ServerHeader ServerHeaderTransformation
	// Compression is how responses are compressed (Contour's
	// compression.algorithm; the zero value is gzip).
	Compression Compression
	// Tracing, when set, is every connection manager's tracing (shared,
	// never modified).
	Tracing *hcmv3.HttpConnectionManager_Tracing
}

// ServerHeaderTransformation is what a connection manager does with the
// Server header of responses.
type ServerHeaderTransformation = hcmv3.HttpConnectionManager_ServerHeaderTransformation

// Server header transformations (Contour's overwrite, append_if_absent and
// pass_through).
const (
	ServerOverwrite      = hcmv3.HttpConnectionManager_OVERWRITE
	ServerAppendIfAbsent = hcmv3.HttpConnectionManager_APPEND_IF_ABSENT
	ServerPassThrough    = hcmv3.HttpConnectionManager_PASS_THROUGH
)

// Codec is a connection manager's HTTP codec.
type Codec = hcmv3.HttpConnectionManager_CodecType

// Codecs of Connections.Codec.
const (
	CodecAuto  = hcmv3.HttpConnectionManager_AUTO
	CodecHTTP1 = hcmv3.HttpConnectionManager_HTTP1
	CodecHTTP2 = hcmv3.HttpConnectionManager_HTTP2
)

// ConnectionSettings are Connections as the messages every connection
// manager shares (never modified once built).
type ConnectionSettings struct {
	common                                   *corev3.HttpProtocolOptions
	http1                                    *corev3.Http1ProtocolOptions
	http2                                    *corev3.Http2ProtocolOptions
	serverHeader                             ServerHeaderTransformation
	keepSlashes, stripHostDot                bool
	codec                                    Codec
	request, streamIdle, drain, delayedClose *durationpb.Duration
	trustedHops                              uint32
	tracing                                  *hcmv3.HttpConnectionManager_Tracing
	// filters are the HTTP filters of each HostSettings.filterSet, with
	// the compressor of the settings' Compression.
	filters [filterSets][]*hcmv3.HttpFilter
}

// NewConnectionSettings builds the shared messages of c. A max connection
// duration that is off or unset is left out (Envoy has none by default;
// 0 would not mean "none" there).
func NewConnectionSettings(c Connections) *ConnectionSettings {
	common := &corev3.HttpProtocolOptions{IdleTimeout: c.Idle.proto()}
	if c.MaxDuration.Set && !c.MaxDuration.Off {
		common.MaxConnectionDuration = durationpb.New(c.MaxDuration.Duration)
	}
	if c.MaxRequests > 0 {
		common.MaxRequestsPerConnection = wrapperspb.UInt32(c.MaxRequests)
	}
	if proto.Equal(common, &corev3.HttpProtocolOptions{}) {
		common = nil
	}
	var http2 *corev3.Http2ProtocolOptions
	if c.MaxStreams > 0 {
		http2 = &corev3.Http2ProtocolOptions{MaxConcurrentStreams: wrapperspb.UInt32(c.MaxStreams)}
	}
	http1 := &corev3.Http1ProtocolOptions{AcceptHttp_10: true, AllowChunkedLength: !c.RejectChunkedLength}
	plain, lua := compressedWith(httpFilters, c.Compression), compressedWith(httpFiltersLua, c.Compression)
	return &ConnectionSettings{common: common, http1: http1, http2: http2, serverHeader: c.ServerHeader, keepSlashes: c.KeepSlashes, stripHostDot: c.StripHostDot, codec: c.Codec,
		request: c.Request.proto(), streamIdle: c.StreamIdle.proto(), drain: c.Drain.proto(), delayedClose: c.DelayedClose.proto(), trustedHops: c.TrustedHops, tracing: c.Tracing,
		filters: [filterSets][]*hcmv3.HttpFilter{plain, lua, withMisdirected(plain), withMisdirected(lua)}}
}

// DefaultConnections are Contour's defaults: connections idle for 60 s are
// closed, every other timeout is Envoy's.
var DefaultConnections = Connections{Idle: Timeout{Set: true, Duration: ConnectionIdleTimeout}}

var defaultSettings = NewConnectionSettings(DefaultConnections)

// TCPIdleTimeout is how long a TCP proxy keeps a connection without traffic
// (Contour's 9,001 s: longer than the two hours of common TCP keepalives).
const TCPIdleTimeout = 9001 * time.Second

// Names of the HTTP filters that virtual hosts and routes configure in
// their typed_per_filter_config (the keys must equal the filters' names).
const (
	CORSFilter           = "envoy.filters.http.cors"
	LocalRateLimitFilter = "envoy.filters.http.local_ratelimit"
	RBACFilter           = "envoy.filters.http.rbac"
	LuaFilter            = "envoy.filters.http.lua"
	// JWTAuthnFilter is not in every connection manager: only in those of
	// secure virtual hosts with JWT providers (HTTPConnectionManager's
	// extra filters).
	JWTAuthnFilter = "envoy.filters.http.jwt_authn"
	// ExtAuthzFilter, likewise, is only in those of secure virtual hosts
	// with an authorization server, after jwt_authn (Contour's order).
	ExtAuthzFilter = "envoy.filters.http.ext_authz"
	// RateLimitFilter, the global rate limit filter, is in every
	// connection manager when a rate limit service is configured, after
	// ext_authz.
	RateLimitFilter = "envoy.filters.http.ratelimit"
)

// CookieRewriteScript is the name under which the Lua filter of every
// connection manager holds the cookie rewrite script (Contour's name); a
// route's LuaPerRoute names it, with the rules as filter context.
const CookieRewriteScript = "cookie_rewrite.lua"

// cookieRewriteFile is the commented script: cookie_rewrite.lua says what
// it does and which Envoy API it needs.
//
//go:embed cookie_rewrite.lua
var cookieRewriteFile string

// CookieRewriteSource is the Lua source of CookieRewriteScript as every
// connection manager carries it: cookieRewriteFile without its comment
// lines, blank lines and indentation (every HTTPS filter chain holds a
// copy).
var CookieRewriteSource = compactLua(cookieRewriteFile)

// compactLua drops the lines of src that are blank or whole-line comments
// and the indentation of the others. It suits scripts without multi-line
// strings or comments (cookie_rewrite.lua has none).
func compactLua(src string) string {
	var b strings.Builder
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// Shared, never modified: every connection manager refers to them.
var (
	// httpFilters are Contour's default HTTP filters that act without
	// per-route configuration: gzip compression of text, JSON, XML and
	// gRPC-Web responses (when the client accepts it), gRPC-Web to gRPC
	// translation, gRPC statistics, then, as Contour's, CORS, local rate
	// limit and RBAC filters that do nothing until a virtual host or route
	// configures them (CORSFilter, LocalRateLimitFilter, RBACFilter), then
	// the router.
	httpFilters = withoutFilter(httpFiltersLua, LuaFilter)
	// httpFiltersLua adds, before the RBAC filter, the Lua filter holding
	// CookieRewriteScript. It has no default script: only a route or
	// weighted cluster naming CookieRewriteScript runs it.
	httpFiltersLua = []*hcmv3.HttpFilter{
		compressorFilter(CompressionGzip),
		httpFilter(wellknown.GRPCWeb, &grpcwebv3.GrpcWeb{}),
		httpFilter(wellknown.HTTPGRPCStats, &grpcstatsv3.FilterConfig{EmitFilterState: true, EnableUpstreamStats: true}),
		httpFilter(CORSFilter, &corsv3.Cors{}),
		// No token bucket: no limit until a virtual host or route sets one.
		httpFilter(LocalRateLimitFilter, &localratelimitv3.LocalRateLimit{StatPrefix: "http"}),
		httpFilter(LuaFilter, &luav3.Lua{SourceCodes: map[string]*corev3.DataSource{
			CookieRewriteScript: {Specifier: &corev3.DataSource_InlineString{InlineString: CookieRewriteSource}},
		}}),
		// No rules: every request passes until a route sets some.
		httpFilter(RBACFilter, &rbacv3.RBAC{}),
		httpFilter(wellknown.Router, &routerv3.Router{}),
	}
)

// withoutFilter returns filters without the one called name.
func withoutFilter(filters []*hcmv3.HttpFilter, name string) []*hcmv3.HttpFilter {
	out := make([]*hcmv3.HttpFilter, 0, len(filters))
	for _, f := range filters {
		if f.GetName() != name {
			out = append(out, f)
		}
	}
	return out
}

// compressedTypes are the response content types compressed: Envoy's
// defaults and gRPC-Web's, as Contour lists them.
var compressedTypes = []string{
	"text/html", "text/plain", "text/css", "application/javascript", "application/x-javascript",
	"text/javascript", "text/x-javascript", "text/ecmascript", "text/js", "text/jscript",
	"text/x-js", "application/ecmascript", "application/x-json", "application/xml",
	"application/json", "image/svg+xml", "text/xml", "application/xhtml+xml",
	"application/grpc-web", "application/grpc-web+proto", "application/grpc-web+json", "application/grpc-web+thrift",
	"application/grpc-web-text", "application/grpc-web-text+proto", "application/grpc-web-text+thrift",
}

func httpFilter(name string, config proto.Message) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: Any(config)}}
}

// TCPProxy is a network filter forwarding to one cluster, or to weighted
// clusters when there are several, logging connections to logs.
func TCPProxy(statPrefix string, clusters []WeightedCluster, logs []*accesslogv3.AccessLog) *listenerv3.Filter {
	tp := &tcpproxyv3.TcpProxy{StatPrefix: statPrefix, AccessLog: logs, IdleTimeout: durationpb.New(TCPIdleTimeout)}
	if len(clusters) == 1 {
		tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_Cluster{Cluster: clusters[0].Name}
	} else {
		wc := &tcpproxyv3.TcpProxy_WeightedCluster{}
		for _, c := range clusters {
			wc.Clusters = append(wc.Clusters, &tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{Name: c.Name, Weight: c.Weight})
		}
		tp.ClusterSpecifier = &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: wc}
	}
	return &listenerv3.Filter{Name: wellknown.TCPProxy, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: Any(tp)}}
}

// WeightedCluster is a cluster name and its weight.
type WeightedCluster struct {
	Name   string
	Weight uint32
}

// FilterChain is a chain matching serverNames (none: any), terminating TLS
// with tls when it is not nil.
func FilterChain(serverNames []string, tls *tlsv3.DownstreamTlsContext, filters ...*listenerv3.Filter) *listenerv3.FilterChain {
	fc := &listenerv3.FilterChain{Filters: filters}
	if len(serverNames) > 0 {
		fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: serverNames}
	}
	if tls != nil {
		fc.TransportSocket = &corev3.TransportSocket{
			Name:       wellknown.TransportSocketTLS,
			ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: Any(tls)},
		}
	}
	return fc
}
