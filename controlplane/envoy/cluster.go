package envoy

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// ClusterOptions describe an upstream cluster.
type ClusterOptions struct {
	Name, AltStatName string
	// EDSName is the ClusterLoadAssignment name for EDS clusters.
	EDSName string
	// DNSName and Port make a STRICT_DNS cluster instead (ExternalName),
	// resolved as DNSFamily says; with Cluster_ALL, a LOGICAL_DNS one (as
	// Contour: all addresses of one name, for Happy Eyeballs).
	DNSName   string
	Port      uint32
	DNSFamily clusterv3.Cluster_DnsLookupFamily
	// DNSHealthPort, when set, is the port a DNS cluster's active health
	// checks go to (the endpoint's health_check_config), as a Service's
	// healthPort.
	DNSHealthPort uint32
	// ConnectTimeout bounds connection attempts (0: ConnectTimeout).
	ConnectTimeout time.Duration
	// MaxRequestsPerConnection closes a connection after that many
	// requests (0: no limit); BufferLimit is the soft limit, in bytes, of
	// each connection's buffers (0: Envoy's default).
	MaxRequestsPerConnection, BufferLimit uint32
	// IdleTimeout, when set, closes upstream connections without requests
	// for that long (0: never; nil: Envoy's default, an hour).
	IdleTimeout *time.Duration
	// LB is the load-balancing policy.
	LB clusterv3.Cluster_LbPolicy
	// HTTP2 speaks HTTP/2 to the upstream.
	HTTP2 bool
	// TLS, when set, originates TLS.
	TLS *UpstreamTLS
	// HealthCheck, when set, enables active checks.
	HealthCheck *HealthCheck
	// Thresholds are circuit-breaker limits; zero fields are unset.
	MaxConnections, MaxPendingRequests, MaxRequests, MaxRetries, PerHostMaxConnections uint32
	// SlowStart, when set, ramps traffic to new endpoints (ROUND_ROBIN and
	// LEAST_REQUEST clusters only; ignored with other policies).
	SlowStart *SlowStart
}

// SlowStart is Envoy's slow start: new endpoints start at MinWeightPercent
// of their weight and reach it fully after Window, along a curve shaped by
// Aggression (1 is linear).
type SlowStart struct {
	Window           time.Duration
	Aggression       float64
	MinWeightPercent uint32
}

// SlowStartAggressionKey is the runtime key that overrides a slow start's
// aggression in Envoy, Contour's name.
const SlowStartAggressionKey = "contour.slowstart.aggression"

// UpstreamTLS configures TLS to the upstream.
type UpstreamTLS struct {
	SNI          string
	CA           []byte
	SubjectNames []string
	// Params, when set, are the versions and TLS 1.2 cipher suites the
	// context offers (nil: Envoy's defaults).
	Params *TLSParams
	// ClientCert, when set, is the SDS secret of the certificate Envoy
	// presents to the upstream.
	ClientCert string
}

// HealthCheck is an active check; an empty Path means TCP.
type HealthCheck struct {
	Path, Host                           string
	Interval, Timeout                    time.Duration
	UnhealthyThreshold, HealthyThreshold uint32
	ExpectedStatuses                     [][2]int64
}

// ConnectTimeout is the upstream connect timeout (Contour's default).
const ConnectTimeout = 2 * time.Second

// noPanicMode turns Envoy's panic mode off, as Contour does: when most of
// a cluster's hosts fail their health checks, requests still go to the
// healthy ones only (by default Envoy spreads them over all hosts below 50 %
// healthy). Shared by every cluster, never modified.
var noPanicMode = &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{Value: 0}}

// edsConfig and edsType are the config source and discovery type of every
// EDS cluster. Shared by every such cluster, never modified.
var (
	edsConfig = ADS()
	edsType   = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
)

// defaultConnectTimeout is the connect timeout of the clusters with the
// default one (ConnectTimeout): SHARED by all of them, so never modified
// (a cluster handed out is never mutated).
var defaultConnectTimeout = Duration(ConnectTimeout)

// clusterBlock is a cluster with its EDS config, allocated together.
type clusterBlock struct {
	cluster clusterv3.Cluster
	eds     clusterv3.Cluster_EdsClusterConfig
}

// Cluster builds a cluster from o.
func Cluster(o ClusterOptions) *clusterv3.Cluster {
	connect := defaultConnectTimeout
	if o.ConnectTimeout > 0 && o.ConnectTimeout != ConnectTimeout {
		connect = Duration(o.ConnectTimeout)
	}
	b := &clusterBlock{}
	c := &b.cluster
	c.Name, c.AltStatName, c.ConnectTimeout = o.Name, o.AltStatName, connect
	c.LbPolicy, c.CommonLbConfig = o.LB, noPanicMode
	if o.DNSName != "" {
		kind := clusterv3.Cluster_STRICT_DNS
		if o.DNSFamily == clusterv3.Cluster_ALL {
			kind = clusterv3.Cluster_LOGICAL_DNS
		}
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: kind}
		c.DnsLookupFamily = o.DNSFamily
		lb := LbEndpoint(o.DNSName, o.Port)
		if o.DNSHealthPort != 0 {
			lb.GetEndpoint().HealthCheckConfig = &endpointv3.Endpoint_HealthCheckConfig{PortValue: o.DNSHealthPort}
		}
		c.LoadAssignment = &endpointv3.ClusterLoadAssignment{ClusterName: o.Name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{lb},
		}}}
	} else {
		c.ClusterDiscoveryType = edsType
		b.eds.EdsConfig, b.eds.ServiceName = edsConfig, o.EDSName
		c.EdsClusterConfig = &b.eds
	}
	if o.BufferLimit > 0 {
		c.PerConnectionBufferLimitBytes = wrapperspb.UInt32(o.BufferLimit)
	}
	if o.HTTP2 || o.MaxRequestsPerConnection > 0 || o.IdleTimeout != nil {
		c.TypedExtensionProtocolOptions = map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": Any(upstreamHTTP(o))}
	}
	if o.TLS != nil {
		var alpn []string
		if o.HTTP2 {
			alpn = []string{"h2"}
		}
		c.TransportSocket = &corev3.TransportSocket{
			Name:       wellknown.TransportSocketTLS,
			ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: Any(upstreamTLSContext(o.TLS, alpn))},
		}
	}
	if o.HealthCheck != nil {
		c.HealthChecks = []*corev3.HealthCheck{healthCheck(o.HealthCheck, o.HTTP2)}
		// An endpoint gone from the assignment is dropped at once, even
		// while it still passes its checks (as Contour's clusters do).
		c.IgnoreHealthOnHostRemoval = true
	}
	c.CircuitBreakers = circuitBreakers(o)
	setSlowStart(c, o.SlowStart)
	return c
}

// upstreamTLSContext is the TLS context of t, with its parameters.
func upstreamTLSContext(t *UpstreamTLS, alpn []string) *tlsv3.UpstreamTlsContext {
	ctx := UpstreamTLSContext(t.SNI, t.CA, t.SubjectNames, alpn...)
	if t.ClientCert != "" {
		ctx.CommonTlsContext.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{{Name: t.ClientCert, SdsConfig: adsSource}}
	}
	if p := t.Params; p != nil {
		ctx.CommonTlsContext.TlsParams = &tlsv3.TlsParameters{TlsMinimumProtocolVersion: p.Min, TlsMaximumProtocolVersion: p.Max, CipherSuites: p.CipherSuites, EcdhCurves: p.Curves}
	}
	return ctx
}

// upstreamHTTP is a cluster's HTTP protocol options: HTTP/2 or, as
// Contour writes it when only a request limit asks for options, HTTP/1.1
// (Envoy's default) explicitly; the request limit, if any.
func upstreamHTTP(o ClusterOptions) *httpv3.HttpProtocolOptions {
	explicit := &httpv3.HttpProtocolOptions_ExplicitHttpConfig{ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{
		HttpProtocolOptions: &corev3.Http1ProtocolOptions{}}}
	if o.HTTP2 {
		explicit.ProtocolConfig = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}}
	}
	out := &httpv3.HttpProtocolOptions{UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: explicit}}
	if o.MaxRequestsPerConnection > 0 || o.IdleTimeout != nil {
		out.CommonHttpProtocolOptions = &corev3.HttpProtocolOptions{}
	}
	if o.MaxRequestsPerConnection > 0 {
		out.CommonHttpProtocolOptions.MaxRequestsPerConnection = wrapperspb.UInt32(o.MaxRequestsPerConnection)
	}
	if o.IdleTimeout != nil {
		out.CommonHttpProtocolOptions.IdleTimeout = durationpb.New(*o.IdleTimeout) // 0 stated: never
	}
	return out
}

// setSlowStart sets s on c's round-robin or least-request settings.
func setSlowStart(c *clusterv3.Cluster, s *SlowStart) {
	if s == nil {
		return
	}
	cfg := &clusterv3.Cluster_SlowStartConfig{
		SlowStartWindow:  Duration(s.Window),
		Aggression:       &corev3.RuntimeDouble{DefaultValue: s.Aggression, RuntimeKey: SlowStartAggressionKey},
		MinWeightPercent: &typev3.Percent{Value: float64(s.MinWeightPercent)},
	}
	switch c.LbPolicy {
	case clusterv3.Cluster_ROUND_ROBIN:
		c.LbConfig = &clusterv3.Cluster_RoundRobinLbConfig_{RoundRobinLbConfig: &clusterv3.Cluster_RoundRobinLbConfig{SlowStartConfig: cfg}}
	case clusterv3.Cluster_LEAST_REQUEST:
		c.LbConfig = &clusterv3.Cluster_LeastRequestLbConfig_{LeastRequestLbConfig: &clusterv3.Cluster_LeastRequestLbConfig{SlowStartConfig: cfg}}
	}
}

// healthCheck is h as Envoy's active check: TCP without a path, else
// HTTP, over HTTP/2 when the cluster speaks it (h2 and h2c upstreams, as
// Contour's checks: an h2c-only server answers no HTTP/1.1 request).
func healthCheck(h *HealthCheck, http2 bool) *corev3.HealthCheck {
	hc := &corev3.HealthCheck{
		Timeout:            Duration(h.Timeout),
		Interval:           Duration(h.Interval),
		UnhealthyThreshold: UInt32(h.UnhealthyThreshold),
		HealthyThreshold:   UInt32(h.HealthyThreshold),
	}
	if h.Path == "" {
		hc.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}
		return hc
	}
	http := &corev3.HealthCheck_HttpHealthCheck{Path: h.Path, Host: h.Host}
	if http2 {
		http.CodecClientType = typev3.CodecClientType_HTTP2
	}
	for _, r := range h.ExpectedStatuses {
		http.ExpectedStatuses = append(http.ExpectedStatuses, &typev3.Int64Range{Start: r[0], End: r[1]})
	}
	hc.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: http}
	return hc
}

// circuitBreakers are the thresholds of o, nil when it sets none. As
// Contour writes them, any limit gives both a default-priority entry and a
// per-host one (each with only the limits set, possibly none), and both
// track what remains, so that Envoy publishes the remaining_* gauges.
func circuitBreakers(o ClusterOptions) *clusterv3.CircuitBreakers {
	if o.MaxConnections == 0 && o.MaxPendingRequests == 0 && o.MaxRequests == 0 && o.MaxRetries == 0 && o.PerHostMaxConnections == 0 {
		return nil
	}
	return &clusterv3.CircuitBreakers{
		Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			Priority:           corev3.RoutingPriority_DEFAULT,
			MaxConnections:     UInt32(o.MaxConnections),
			MaxPendingRequests: UInt32(o.MaxPendingRequests),
			MaxRequests:        UInt32(o.MaxRequests),
			MaxRetries:         UInt32(o.MaxRetries),
			TrackRemaining:     true,
		}},
		PerHostThresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			Priority:       corev3.RoutingPriority_DEFAULT,
			MaxConnections: UInt32(o.PerHostMaxConnections),
			TrackRemaining: true,
		}},
	}
}

// LbEndpoint is one endpoint address:port.
func LbEndpoint(address string, port uint32) *endpointv3.LbEndpoint {
	return &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
		Address: SocketAddress(address, port),
	}}}
}

// HostPort is one endpoint address.
type HostPort struct {
	Host string
	Port uint32
}

// lbEndpointBlock holds the messages of one endpoint LbEndpoints builds.
type lbEndpointBlock struct {
	lb   endpointv3.LbEndpoint
	id   endpointv3.LbEndpoint_Endpoint
	ep   endpointv3.Endpoint
	addr corev3.Address
	sa   corev3.Address_SocketAddress
	sock corev3.SocketAddress
	port corev3.SocketAddress_PortValue
}

// LbEndpoints returns an endpoint per address, as LbEndpoint does, with the
// messages of all of them allocated together (two allocations per list
// instead of seven per endpoint: S10k has 60,000 endpoints). Nothing is
// shared between endpoints: each may be changed (as health-check ports are).
func LbEndpoints(addrs []HostPort) []*endpointv3.LbEndpoint {
	if len(addrs) == 0 {
		return nil
	}
	blocks := make([]lbEndpointBlock, len(addrs))
	out := make([]*endpointv3.LbEndpoint, len(addrs))
	for i, a := range addrs {
		b := &blocks[i]
		b.port.PortValue = a.Port
		b.sock.Protocol, b.sock.Address, b.sock.PortSpecifier = corev3.SocketAddress_TCP, a.Host, &b.port
		b.sa.SocketAddress = &b.sock
		b.addr.Address = &b.sa
		b.ep.Address = &b.addr
		b.id.Endpoint = &b.ep
		b.lb.HostIdentifier = &b.id
		out[i] = &b.lb
	}
	return out
}

// localityBlock holds a ClusterLoadAssignment's one locality and the list
// of it. It is not allocated with the assignment: once the xDS server has
// frozen the assignment (xds.FreezeClusterLoadAssignment), nothing holds
// the locality and its endpoints any more.
type localityBlock struct {
	loc  endpointv3.LocalityLbEndpoints
	locs [1]*endpointv3.LocalityLbEndpoints
}

// ClusterLoadAssignment lists endpoints for name (possibly none), in one
// locality.
func ClusterLoadAssignment(name string, endpoints []*endpointv3.LbEndpoint) *endpointv3.ClusterLoadAssignment {
	if len(endpoints) == 0 {
		return &endpointv3.ClusterLoadAssignment{ClusterName: name}
	}
	b := &localityBlock{}
	b.loc.LbEndpoints = endpoints
	b.locs[0] = &b.loc
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: b.locs[:]}
}
