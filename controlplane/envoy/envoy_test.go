package envoy

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	grpcstatsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_stats/v3"
	grpcwebv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_web/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// ads is the ADS config source, written out by hand.
func ads() *corev3.ConfigSource {
	return &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type validator interface{ Validate() error }

func TestConstructors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		got  proto.Message
		want func(t *testing.T) proto.Message
	}{
		{
			name: "http connection manager",
			got:  HTTPConnectionManager("ingress_http", "ingress_http", nil, nil, HostSettings{CookieRewrite: true}),
			want: func(t *testing.T) proto.Message {
				return &listenerv3.Filter{Name: "envoy.filters.network.http_connection_manager",
					ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &hcmv3.HttpConnectionManager{
						StatPrefix: "ingress_http",
						RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
							ConfigSource: ads(), RouteConfigName: "ingress_http"}},
						HttpFilters: []*hcmv3.HttpFilter{
							{Name: "envoy.filters.http.compressor", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &compressorv3.Compressor{
								CompressorLibrary: &corev3.TypedExtensionConfig{Name: "gzip", TypedConfig: mustAny(t, &gzipv3.Gzip{})},
								ResponseDirectionConfig: &compressorv3.Compressor_ResponseDirectionConfig{CommonConfig: &compressorv3.Compressor_CommonDirectionConfig{
									ContentType: wantCompressedTypes}},
							})}},
							{Name: "envoy.filters.http.grpc_web", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &grpcwebv3.GrpcWeb{})}},
							{Name: "envoy.filters.http.grpc_stats", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t,
								&grpcstatsv3.FilterConfig{EmitFilterState: true, EnableUpstreamStats: true})}},
							{Name: "envoy.filters.http.cors", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &corsv3.Cors{})}},
							{Name: "envoy.filters.http.local_ratelimit", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t,
								&localratelimitv3.LocalRateLimit{StatPrefix: "http"})}},
							{Name: "envoy.filters.http.lua", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t,
								&luav3.Lua{SourceCodes: map[string]*corev3.DataSource{"cookie_rewrite.lua": {
									Specifier: &corev3.DataSource_InlineString{InlineString: CookieRewriteSource}}}})}},
							{Name: "envoy.filters.http.rbac", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &rbacv3.RBAC{})}},
							{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})}},
						},
						CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{IdleTimeout: durationpb.New(60 * time.Second)},
						HttpProtocolOptions:       &corev3.Http1ProtocolOptions{AcceptHttp_10: true, AllowChunkedLength: true},
						UseRemoteAddress:          wrapperspb.Bool(true),
						NormalizePath:             wrapperspb.Bool(true),
						MergeSlashes:              true,
						PreserveExternalRequestId: true,
					})}}
			},
		},
		{
			name: "tcp proxy to weighted clusters",
			got:  TCPProxy("ingress_https", []WeightedCluster{{Name: "a", Weight: 1}, {Name: "b", Weight: 3}}, nil),
			want: func(t *testing.T) proto.Message {
				return &listenerv3.Filter{Name: "envoy.filters.network.tcp_proxy",
					ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &tcpproxyv3.TcpProxy{
						StatPrefix: "ingress_https", IdleTimeout: durationpb.New(9001 * time.Second),
						ClusterSpecifier: &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: &tcpproxyv3.TcpProxy_WeightedCluster{
							Clusters: []*tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{{Name: "a", Weight: 1}, {Name: "b", Weight: 3}}}},
					})}}
			},
		},
		{
			name: "downstream TLS with SDS, versions, cipher suites and ALPN",
			got: DownstreamTLSContext("ns/cert/0123456789", TLSParams{Min: tlsv3.TlsParameters_TLSv1_2, Max: tlsv3.TlsParameters_TLSv1_3,
				CipherSuites: []string{"[A|B]", "C"}}, []string{"h2", "http/1.1"}, nil),
			want: func(t *testing.T) proto.Message {
				return &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
					TlsParams: &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2,
						TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, CipherSuites: []string{"[A|B]", "C"}},
					TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "ns/cert/0123456789", SdsConfig: ads()}},
					AlpnProtocols:                  []string{"h2", "http/1.1"},
				}}
			},
		},
		{
			name: "downstream TLS requiring client certificates checked against the leaf's CRL",
			got: DownstreamTLSContext("ns/cert/0123456789", TLSParams{Min: tlsv3.TlsParameters_TLSv1_2, Max: tlsv3.TlsParameters_TLSv1_3}, nil,
				&ClientValidation{CA: []byte("CA PEM"), CRL: []byte("CRL PEM"), OnlyLeafCRL: true}),
			want: func(t *testing.T) proto.Message {
				return &tlsv3.DownstreamTlsContext{
					CommonTlsContext: &tlsv3.CommonTlsContext{
						TlsParams: &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2,
							TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3},
						TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "ns/cert/0123456789", SdsConfig: ads()}},
						ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
							TrustedCa:             &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("CA PEM")}},
							Crl:                   &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("CRL PEM")}},
							OnlyVerifyLeafCertCrl: true,
						}},
					},
					RequireClientCertificate: wrapperspb.Bool(true),
				}
			},
		},
		{
			name: "EDS cluster speaking h2 over TLS with circuit breakers",
			got: Cluster(ClusterOptions{Name: "ns/s/443/abc", AltStatName: "ns_s_443", EDSName: "ns/s/https",
				LB: clusterv3.Cluster_RING_HASH, HTTP2: true, TLS: &UpstreamTLS{SNI: "s.ns", CA: []byte("CA"), SubjectNames: []string{"s.ns"}},
				MaxConnections: 10, PerHostMaxConnections: 2}),
			want: func(t *testing.T) proto.Message {
				return &clusterv3.Cluster{
					Name: "ns/s/443/abc", AltStatName: "ns_s_443",
					ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
					EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads(), ServiceName: "ns/s/https"},
					ConnectTimeout:       durationpb.New(2 * time.Second),
					CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
					LbPolicy:             clusterv3.Cluster_RING_HASH,
					TypedExtensionProtocolOptions: map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(t, &httpv3.HttpProtocolOptions{
						UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
							ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}}}}})},
					TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
						ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, &tlsv3.UpstreamTlsContext{
							Sni: "s.ns",
							CommonTlsContext: &tlsv3.CommonTlsContext{AlpnProtocols: []string{"h2"},
								ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
									TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("CA")}},
									MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{SanType: tlsv3.SubjectAltNameMatcher_DNS,
										Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "s.ns"}}}},
								}}},
						})}},
					CircuitBreakers: &clusterv3.CircuitBreakers{
						Thresholds:        []*clusterv3.CircuitBreakers_Thresholds{{MaxConnections: wrapperspb.UInt32(10), TrackRemaining: true}},
						PerHostThresholds: []*clusterv3.CircuitBreakers_Thresholds{{MaxConnections: wrapperspb.UInt32(2), TrackRemaining: true}},
					},
				}
			},
		},
		{
			name: "circuit breakers without a per-host limit still have a per-host entry tracking what remains",
			got: Cluster(ClusterOptions{Name: "ns/s/80/abc", AltStatName: "ns_s_80", EDSName: "ns/s/http",
				MaxConnections: 9000, MaxPendingRequests: 4096, MaxRequests: 404, MaxRetries: 7}),
			want: func(t *testing.T) proto.Message {
				return &clusterv3.Cluster{
					Name: "ns/s/80/abc", AltStatName: "ns_s_80",
					ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
					EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads(), ServiceName: "ns/s/http"},
					ConnectTimeout:       durationpb.New(2 * time.Second),
					CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
					CircuitBreakers: &clusterv3.CircuitBreakers{
						Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{MaxConnections: wrapperspb.UInt32(9000),
							MaxPendingRequests: wrapperspb.UInt32(4096), MaxRequests: wrapperspb.UInt32(404), MaxRetries: wrapperspb.UInt32(7),
							TrackRemaining: true}},
						PerHostThresholds: []*clusterv3.CircuitBreakers_Thresholds{{TrackRemaining: true}},
					},
				}
			},
		},
		{
			name: "a per-host limit alone still gives a cluster-wide entry tracking what remains",
			got:  Cluster(ClusterOptions{Name: "ns/s/80/abc", AltStatName: "ns_s_80", EDSName: "ns/s/http", PerHostMaxConnections: 45}),
			want: func(t *testing.T) proto.Message {
				return &clusterv3.Cluster{
					Name: "ns/s/80/abc", AltStatName: "ns_s_80",
					ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
					EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads(), ServiceName: "ns/s/http"},
					ConnectTimeout:       durationpb.New(2 * time.Second),
					CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
					CircuitBreakers: &clusterv3.CircuitBreakers{
						Thresholds:        []*clusterv3.CircuitBreakers_Thresholds{{TrackRemaining: true}},
						PerHostThresholds: []*clusterv3.CircuitBreakers_Thresholds{{MaxConnections: wrapperspb.UInt32(45), TrackRemaining: true}},
					},
				}
			},
		},
		{
			name: "LOGICAL_DNS cluster resolving all families, with its own connect timeout",
			got: Cluster(ClusterOptions{Name: "ns/ext/80/abc", AltStatName: "ns_ext_80", DNSName: "example.com", Port: 80,
				DNSFamily: clusterv3.Cluster_ALL, ConnectTimeout: 250 * time.Millisecond}),
			want: func(t *testing.T) proto.Message {
				return &clusterv3.Cluster{
					Name: "ns/ext/80/abc", AltStatName: "ns_ext_80",
					ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_LOGICAL_DNS},
					DnsLookupFamily:      clusterv3.Cluster_ALL,
					ConnectTimeout:       durationpb.New(250 * time.Millisecond),
					CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
					LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: "ns/ext/80/abc", Endpoints: []*endpointv3.LocalityLbEndpoints{{
						LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
							Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
								Address: "example.com", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 80}}}}}}}},
					}}},
				}
			},
		},
		{
			name: "STRICT_DNS cluster resolving IPv6 only",
			got: Cluster(ClusterOptions{Name: "ns/ext/80/abc", AltStatName: "ns_ext_80", DNSName: "example.com", Port: 80,
				DNSFamily: clusterv3.Cluster_V6_ONLY}),
			want: func(t *testing.T) proto.Message {
				return &clusterv3.Cluster{
					Name: "ns/ext/80/abc", AltStatName: "ns_ext_80",
					ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
					DnsLookupFamily:      clusterv3.Cluster_V6_ONLY,
					ConnectTimeout:       durationpb.New(2 * time.Second),
					CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
					LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: "ns/ext/80/abc", Endpoints: []*endpointv3.LocalityLbEndpoints{{
						LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
							Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
								Address: "example.com", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 80}}}}}}}},
					}}},
				}
			},
		},
		{
			name: "STRICT_DNS cluster with an HTTP health check",
			got: Cluster(ClusterOptions{Name: "ns/ext/80/abc", AltStatName: "ns_ext_80", DNSName: "example.com", Port: 80,
				HealthCheck: &HealthCheck{Path: "/healthz", Host: "h", Interval: 5 * time.Second, Timeout: 2 * time.Second,
					UnhealthyThreshold: 3, HealthyThreshold: 2, ExpectedStatuses: [][2]int64{{200, 300}}}}),
			want: func(t *testing.T) proto.Message {
				return &clusterv3.Cluster{
					Name: "ns/ext/80/abc", AltStatName: "ns_ext_80",
					ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS},
					ConnectTimeout:       durationpb.New(2 * time.Second),
					CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
					LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: "ns/ext/80/abc", Endpoints: []*endpointv3.LocalityLbEndpoints{{
						LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
							Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
								Address: "example.com", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 80}}}}}}}},
					}}},
					HealthChecks: []*corev3.HealthCheck{{
						Timeout: durationpb.New(2 * time.Second), Interval: durationpb.New(5 * time.Second),
						UnhealthyThreshold: wrapperspb.UInt32(3), HealthyThreshold: wrapperspb.UInt32(2),
						HealthChecker: &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: &corev3.HealthCheck_HttpHealthCheck{
							Path: "/healthz", Host: "h", ExpectedStatuses: []*typev3.Int64Range{{Start: 200, End: 300}}}},
					}},
					IgnoreHealthOnHostRemoval: true,
				}
			},
		},
		{
			name: "EDS cluster with a TCP health check",
			got: Cluster(ClusterOptions{Name: "ns/s/443/abc", AltStatName: "ns_s_443", EDSName: "ns/s/https",
				HealthCheck: &HealthCheck{Interval: 10 * time.Second, Timeout: 2 * time.Second, UnhealthyThreshold: 3, HealthyThreshold: 2}}),
			want: func(t *testing.T) proto.Message {
				return &clusterv3.Cluster{
					Name: "ns/s/443/abc", AltStatName: "ns_s_443",
					ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
					EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads(), ServiceName: "ns/s/https"},
					ConnectTimeout:       durationpb.New(2 * time.Second),
					CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
					HealthChecks: []*corev3.HealthCheck{{
						Timeout: durationpb.New(2 * time.Second), Interval: durationpb.New(10 * time.Second),
						UnhealthyThreshold: wrapperspb.UInt32(3), HealthyThreshold: wrapperspb.UInt32(2),
						HealthChecker: &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}},
					}},
					IgnoreHealthOnHostRemoval: true,
				}
			},
		},
		{
			name: "round-robin cluster with a slow start",
			got: Cluster(ClusterOptions{Name: "ns/s/80/abc", AltStatName: "ns_s_80", EDSName: "ns/s/http", LB: clusterv3.Cluster_ROUND_ROBIN,
				SlowStart: &SlowStart{Window: 30 * time.Second, Aggression: 1.5, MinWeightPercent: 10}}),
			want: func(t *testing.T) proto.Message {
				return &clusterv3.Cluster{
					Name: "ns/s/80/abc", AltStatName: "ns_s_80",
					ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
					EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads(), ServiceName: "ns/s/http"},
					ConnectTimeout:       durationpb.New(2 * time.Second),
					CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
					LbConfig: &clusterv3.Cluster_RoundRobinLbConfig_{RoundRobinLbConfig: &clusterv3.Cluster_RoundRobinLbConfig{
						SlowStartConfig: &clusterv3.Cluster_SlowStartConfig{
							SlowStartWindow:  durationpb.New(30 * time.Second),
							Aggression:       &corev3.RuntimeDouble{DefaultValue: 1.5, RuntimeKey: "contour.slowstart.aggression"},
							MinWeightPercent: &typev3.Percent{Value: 10},
						}}},
				}
			},
		},
		{
			name: "least-request cluster with a slow start",
			got: Cluster(ClusterOptions{Name: "ns/s/80/abc", AltStatName: "ns_s_80", EDSName: "ns/s/http", LB: clusterv3.Cluster_LEAST_REQUEST,
				SlowStart: &SlowStart{Window: time.Minute, Aggression: 1, MinWeightPercent: 0}}),
			want: func(t *testing.T) proto.Message {
				return &clusterv3.Cluster{
					Name: "ns/s/80/abc", AltStatName: "ns_s_80", LbPolicy: clusterv3.Cluster_LEAST_REQUEST,
					ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
					EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads(), ServiceName: "ns/s/http"},
					ConnectTimeout:       durationpb.New(2 * time.Second),
					CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
					LbConfig: &clusterv3.Cluster_LeastRequestLbConfig_{LeastRequestLbConfig: &clusterv3.Cluster_LeastRequestLbConfig{
						SlowStartConfig: &clusterv3.Cluster_SlowStartConfig{
							SlowStartWindow:  durationpb.New(time.Minute),
							Aggression:       &corev3.RuntimeDouble{DefaultValue: 1, RuntimeKey: "contour.slowstart.aggression"},
							MinWeightPercent: &typev3.Percent{},
						}}},
				}
			},
		},
		{
			name: "a slow start is not set on a random cluster",
			got: Cluster(ClusterOptions{Name: "ns/s/80/abc", AltStatName: "ns_s_80", EDSName: "ns/s/http", LB: clusterv3.Cluster_RANDOM,
				SlowStart: &SlowStart{Window: time.Minute, Aggression: 1}}),
			want: func(t *testing.T) proto.Message {
				return &clusterv3.Cluster{
					Name: "ns/s/80/abc", AltStatName: "ns_s_80", LbPolicy: clusterv3.Cluster_RANDOM,
					ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
					EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads(), ServiceName: "ns/s/http"},
					ConnectTimeout:       durationpb.New(2 * time.Second),
					CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
				}
			},
		},
		{
			name: "empty load assignment",
			got:  ClusterLoadAssignment("ns/s/http", nil),
			want: func(t *testing.T) proto.Message { return &endpointv3.ClusterLoadAssignment{ClusterName: "ns/s/http"} },
		},
		{
			name: "certificate secret",
			got:  TLSCertificateSecret("ns/c/abc", []byte("CERT"), []byte("KEY")),
			want: func(t *testing.T) proto.Message {
				return &tlsv3.Secret{Name: "ns/c/abc", Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
					CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("CERT")}},
					PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("KEY")}},
				}}}
			},
		},
		{
			name: "CA secret",
			got:  ValidationContextSecret("ns/ca/abc", []byte("CA")),
			want: func(t *testing.T) proto.Message {
				return &tlsv3.Secret{Name: "ns/ca/abc", Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
					TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: []byte("CA")}},
				}}}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if d := cmp.Diff(tc.want(t), tc.got, protocmp.Transform()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if v, ok := tc.got.(validator); ok {
				if err := v.Validate(); err != nil {
					t.Errorf("Validate: %v", err)
				}
			}
		})
	}
}

// LbEndpoints builds the same messages as LbEndpoint, one per address, and
// they do not share parts.
func TestLbEndpoints(t *testing.T) {
	addrs := []HostPort{{"10.0.0.1", 80}, {"10.0.0.2", 8080}, {"10.0.0.2", 9090}}
	got := LbEndpoints(addrs)
	if len(got) != len(addrs) {
		t.Fatalf("%d endpoints for %d addresses", len(got), len(addrs))
	}
	for i, a := range addrs {
		if d := cmp.Diff(LbEndpoint(a.Host, a.Port), got[i], protocmp.Transform()); d != "" {
			t.Errorf("endpoint %d (-LbEndpoint +LbEndpoints):\n%s", i, d)
		}
		if err := got[i].Validate(); err != nil {
			t.Errorf("endpoint %d: %v", i, err)
		}
	}
	got[0].GetEndpoint().GetAddress().GetSocketAddress().Address = "changed"
	if got[1].GetEndpoint().GetAddress().GetSocketAddress().GetAddress() != "10.0.0.2" {
		t.Error("endpoints share their addresses")
	}
	if len(LbEndpoints(nil)) != 0 {
		t.Error("endpoints out of no addresses")
	}
}

// TestConnectionSettings: Contour's timeouts, trusted hops and path and
// chunked-length settings reach the connection manager's fields; off is 0
// (max connection duration: absent), unset is absent.
func TestConnectionSettings(t *testing.T) {
	t.Parallel()
	hcmOf := func(c Connections) *hcmv3.HttpConnectionManager {
		var hcm hcmv3.HttpConnectionManager
		f := HTTPConnectionManager("ingress_https", "https/a.com", nil, NewConnectionSettings(c), HostSettings{})
		if err := f.GetTypedConfig().UnmarshalTo(&hcm); err != nil {
			t.Fatal(err)
		}
		return &hcm
	}
	set := func(d time.Duration) Timeout { return Timeout{Set: true, Duration: d} }
	off := Timeout{Set: true, Off: true}
	for _, tc := range []struct {
		name string
		c    Connections
		want *hcmv3.HttpConnectionManager // only the connection fields
	}{{
		name: "every setting",
		c: Connections{Request: set(30 * time.Second), Idle: off, StreamIdle: set(5 * time.Minute), MaxDuration: set(time.Hour),
			DelayedClose: off, Drain: set(10 * time.Second), TrustedHops: 2},
		want: &hcmv3.HttpConnectionManager{
			HttpProtocolOptions: &corev3.Http1ProtocolOptions{AcceptHttp_10: true, AllowChunkedLength: true}, MergeSlashes: true,
			CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{IdleTimeout: durationpb.New(0), MaxConnectionDuration: durationpb.New(time.Hour)},
			RequestTimeout:            durationpb.New(30 * time.Second), StreamIdleTimeout: durationpb.New(5 * time.Minute),
			DelayedCloseTimeout: durationpb.New(0), DrainTimeout: durationpb.New(10 * time.Second), XffNumTrustedHops: 2,
		},
	}, {
		name: "none set: Envoy's defaults",
		c:    Connections{MaxDuration: off},
		want: &hcmv3.HttpConnectionManager{HttpProtocolOptions: &corev3.Http1ProtocolOptions{AcceptHttp_10: true, AllowChunkedLength: true},
			MergeSlashes: true},
	}, {
		name: "slashes kept, chunked requests with a length refused",
		c:    Connections{KeepSlashes: true, RejectChunkedLength: true},
		want: &hcmv3.HttpConnectionManager{HttpProtocolOptions: &corev3.Http1ProtocolOptions{AcceptHttp_10: true}},
	}, {
		name: "HTTP/2 only",
		c:    Connections{Codec: CodecHTTP2},
		want: &hcmv3.HttpConnectionManager{HttpProtocolOptions: &corev3.Http1ProtocolOptions{AcceptHttp_10: true, AllowChunkedLength: true},
			MergeSlashes: true, CodecType: hcmv3.HttpConnectionManager_HTTP2},
	}, {
		name: "listener limits and the Server header passed through",
		c:    Connections{MaxRequests: 1, MaxStreams: 100, ServerHeader: ServerPassThrough},
		want: &hcmv3.HttpConnectionManager{HttpProtocolOptions: &corev3.Http1ProtocolOptions{AcceptHttp_10: true, AllowChunkedLength: true},
			MergeSlashes: true, CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{MaxRequestsPerConnection: wrapperspb.UInt32(1)},
			Http2ProtocolOptions:       &corev3.Http2ProtocolOptions{MaxConcurrentStreams: wrapperspb.UInt32(100)},
			ServerHeaderTransformation: hcmv3.HttpConnectionManager_PASS_THROUGH},
	}, {
		name: "Server header appended if absent",
		c:    Connections{ServerHeader: ServerAppendIfAbsent},
		want: &hcmv3.HttpConnectionManager{HttpProtocolOptions: &corev3.Http1ProtocolOptions{AcceptHttp_10: true, AllowChunkedLength: true},
			MergeSlashes: true, ServerHeaderTransformation: hcmv3.HttpConnectionManager_APPEND_IF_ABSENT},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := hcmOf(tc.c)
			fields := &hcmv3.HttpConnectionManager{CommonHttpProtocolOptions: got.CommonHttpProtocolOptions, RequestTimeout: got.RequestTimeout,
				StreamIdleTimeout: got.StreamIdleTimeout, DelayedCloseTimeout: got.DelayedCloseTimeout, DrainTimeout: got.DrainTimeout,
				XffNumTrustedHops: got.XffNumTrustedHops, HttpProtocolOptions: got.HttpProtocolOptions, MergeSlashes: got.MergeSlashes,
				CodecType: got.CodecType, Http2ProtocolOptions: got.Http2ProtocolOptions, ServerHeaderTransformation: got.ServerHeaderTransformation}
			if d := cmp.Diff(tc.want, fields, protocmp.Transform()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestForwardClientCert: a host's forwardClientCertificate makes its
// connection manager replace x-forwarded-client-cert with the chosen
// details; without it the fields are unset (Envoy removes the header).
func TestForwardClientCert(t *testing.T) {
	t.Parallel()
	hcmOf := func(h HostSettings) *hcmv3.HttpConnectionManager {
		var m hcmv3.HttpConnectionManager
		if err := HTTPConnectionManager("ingress_https", "https/a.com", nil, nil, h).GetTypedConfig().UnmarshalTo(&m); err != nil {
			t.Fatal(err)
		}
		return &m
	}
	got := hcmOf(HostSettings{ForwardClientCert: &ForwardClientCert{Subject: true, Chain: true, URI: true}})
	want := &hcmv3.HttpConnectionManager{
		ForwardClientCertDetails: hcmv3.HttpConnectionManager_SANITIZE_SET,
		SetCurrentClientCertDetails: &hcmv3.HttpConnectionManager_SetCurrentClientCertDetails{
			Subject: wrapperspb.Bool(true), Chain: true, Uri: true},
	}
	if d := cmp.Diff(want, &hcmv3.HttpConnectionManager{ForwardClientCertDetails: got.GetForwardClientCertDetails(),
		SetCurrentClientCertDetails: got.GetSetCurrentClientCertDetails()}, protocmp.Transform()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if plain := hcmOf(HostSettings{}); plain.GetForwardClientCertDetails() != hcmv3.HttpConnectionManager_SANITIZE || plain.GetSetCurrentClientCertDetails() != nil {
		t.Errorf("without forwarding: %v, %v", plain.GetForwardClientCertDetails(), plain.GetSetCurrentClientCertDetails())
	}
}

// TestClusterConnectTimeout: the default connect timeout (unset or given)
// is 2 s, one message shared by the clusters; another is its own.
func TestClusterConnectTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		set  time.Duration
		want time.Duration
	}{{0, 2 * time.Second}, {ConnectTimeout, 2 * time.Second}, {3 * time.Second, 3 * time.Second}, {time.Millisecond, time.Millisecond}} {
		a, b := Cluster(ClusterOptions{Name: "a", ConnectTimeout: tc.set}), Cluster(ClusterOptions{Name: "b", ConnectTimeout: tc.set})
		if d := cmp.Diff(durationpb.New(tc.want), a.GetConnectTimeout(), protocmp.Transform()); d != "" {
			t.Errorf("connect timeout %v: (-want +got):\n%s", tc.set, d)
		}
		if shared := a.GetConnectTimeout() == b.GetConnectTimeout(); shared != (tc.want == ConnectTimeout) {
			t.Errorf("connect timeout %v: shared = %v", tc.set, shared)
		}
	}
}

// TestHealthCheckCodec: an HTTP health check speaks HTTP/2 to a cluster
// that does (h2, h2c: a server speaking only h2c answers no HTTP/1.1
// check), HTTP/1.1 otherwise; a TCP check has no codec.
func TestHealthCheckCodec(t *testing.T) {
	t.Parallel()
	hc := &HealthCheck{Path: "/healthz", Interval: 10 * time.Second, Timeout: 2 * time.Second, UnhealthyThreshold: 3, HealthyThreshold: 2}
	for _, c := range []struct {
		http2 bool
		check *HealthCheck
		want  typev3.CodecClientType
	}{
		{true, hc, typev3.CodecClientType_HTTP2},
		{false, hc, typev3.CodecClientType_HTTP1},
	} {
		cl := Cluster(ClusterOptions{Name: "ns/s/80/abc", EDSName: "ns/s/http", HTTP2: c.http2, HealthCheck: c.check})
		if err := cl.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := cl.GetHealthChecks()[0].GetHttpHealthCheck().GetCodecClientType(); got != c.want {
			t.Errorf("HTTP/2 cluster %v: health check codec %v, want %v", c.http2, got, c.want)
		}
	}
	tcp := Cluster(ClusterOptions{Name: "ns/s/80/abc", EDSName: "ns/s/http", HTTP2: true, HealthCheck: &HealthCheck{Interval: time.Second, Timeout: time.Second}})
	if tcp.GetHealthChecks()[0].GetTcpHealthCheck() == nil {
		t.Errorf("a check without a path is TCP: %v", tcp.GetHealthChecks())
	}
}

// TestDNSHealthPort: a DNS cluster's one endpoint names the port its
// active checks go to when the Service has a health port.
func TestDNSHealthPort(t *testing.T) {
	t.Parallel()
	c := Cluster(ClusterOptions{Name: "ns/ext/80/abc", DNSName: "foo.io", Port: 80, DNSHealthPort: 8998,
		HealthCheck: &HealthCheck{Path: "/hc", Interval: time.Second, Timeout: time.Second, UnhealthyThreshold: 3, HealthyThreshold: 2}})
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	ep := c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint()
	if ep.GetAddress().GetSocketAddress().GetPortValue() != 80 || ep.GetHealthCheckConfig().GetPortValue() != 8998 {
		t.Errorf("endpoint %v: want traffic to port 80, checks to 8998", ep)
	}
	if plain := Cluster(ClusterOptions{Name: "ns/ext/80/abc", DNSName: "foo.io", Port: 80}); plain.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetHealthCheckConfig() != nil {
		t.Error("no health port: no health_check_config")
	}
}
