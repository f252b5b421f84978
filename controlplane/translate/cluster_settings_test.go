package translate

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// TestClusterUpstreamSettings: a cluster's connect timeout and DNS lookup
// family (Contour's timeouts.connect-timeout and cluster.dns-lookup-family)
// reach its resource; all makes an ExternalName cluster LOGICAL_DNS.
func TestClusterUpstreamSettings(t *testing.T) {
	t.Parallel()
	dnsCluster := func(kind clusterv3.Cluster_DiscoveryType, family clusterv3.Cluster_DnsLookupFamily, connect time.Duration) *clusterv3.Cluster {
		return &clusterv3.Cluster{
			Name: "ns/ext/80/da39a3ee5e", AltStatName: "ns_ext_80",
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: kind},
			DnsLookupFamily:      family,
			ConnectTimeout:       durationpb.New(connect),
			CommonLbConfig:       &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
			LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: "ns/ext/80/da39a3ee5e", Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
						Address: "api.example.com", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 80}}}}}}}},
			}}},
		}
	}
	ext := graph.Cluster{Namespace: "ns", Service: "ext", Port: corev1.ServicePort{Name: "http", Port: 80}, ExternalName: "api.example.com"}
	for _, tc := range []struct {
		name   string
		family string
		conn   time.Duration
		want   *clusterv3.Cluster
	}{
		{"defaults", "", 0, dnsCluster(clusterv3.Cluster_STRICT_DNS, clusterv3.Cluster_AUTO, 2*time.Second)},
		{"v4, 10s", "v4", 10 * time.Second, dnsCluster(clusterv3.Cluster_STRICT_DNS, clusterv3.Cluster_V4_ONLY, 10*time.Second)},
		{"v6", "v6", 0, dnsCluster(clusterv3.Cluster_STRICT_DNS, clusterv3.Cluster_V6_ONLY, 2*time.Second)},
		{"all", "all", 0, dnsCluster(clusterv3.Cluster_LOGICAL_DNS, clusterv3.Cluster_ALL, 2*time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ext
			c.DNSLookupFamily, c.ConnectTimeout = tc.family, tc.conn
			got, err := ClusterResource(ClusterName(&c), &c)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got, protocmp.Transform()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestClusterConnectionLimits: Contour's cluster.max-requests-per-connection
// and cluster.per-connection-buffer-limit-bytes reach a Service's cluster;
// a request limit alone writes HTTP/1.1 explicitly (as Contour), and joins
// an h2 cluster's HTTP/2 options; unset, neither appears.
func TestClusterConnectionLimits(t *testing.T) {
	t.Parallel()
	ninety, never := 90*time.Second, time.Duration(0)
	options := func(h2 bool, maxRequests uint32, idle ...time.Duration) map[string]*anypb.Any {
		explicit := &httpv3.HttpProtocolOptions_ExplicitHttpConfig{ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{
			HttpProtocolOptions: &corev3.Http1ProtocolOptions{}}}
		if h2 {
			explicit.ProtocolConfig = &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}}
		}
		o := &httpv3.HttpProtocolOptions{UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: explicit}}
		if maxRequests > 0 {
			o.CommonHttpProtocolOptions = &corev3.HttpProtocolOptions{MaxRequestsPerConnection: wrapperspb.UInt32(maxRequests)}
		}
		if len(idle) > 0 {
			if o.CommonHttpProtocolOptions == nil {
				o.CommonHttpProtocolOptions = &corev3.HttpProtocolOptions{}
			}
			o.CommonHttpProtocolOptions.IdleTimeout = durationpb.New(idle[0])
		}
		a, err := anypb.New(o)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": a}
	}
	for _, tc := range []struct {
		name                string
		protocol            string
		maxRequests, buffer uint32
		idle                *time.Duration
		wantOptions         map[string]*anypb.Any
		wantBuffer          *wrapperspb.UInt32Value
	}{
		{name: "unset"},
		{name: "a request limit", maxRequests: 1, wantOptions: options(false, 1)},
		{name: "a request limit on h2c", protocol: "h2c", maxRequests: 7, wantOptions: options(true, 7)},
		{name: "h2c alone", protocol: "h2c", wantOptions: options(true, 0)},
		{name: "a buffer limit", buffer: 65536, wantBuffer: wrapperspb.UInt32(65536)},
		// A route's timeoutPolicy.idleConnection (0: never), beside a limit.
		{name: "an idle connection timeout", idle: &ninety, wantOptions: options(false, 0, 90*time.Second)},
		{name: "connections never idle out, h2c", protocol: "h2c", idle: &never, wantOptions: options(true, 0, 0)},
		{name: "both on one connection", maxRequests: 3, idle: &ninety, wantOptions: options(false, 3, 90*time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Port: 80}, Protocol: tc.protocol,
				MaxRequestsPerConnection: tc.maxRequests, BufferLimit: tc.buffer, IdleConnection: tc.idle}
			got, err := ClusterResource(ClusterName(&c), &c)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.wantOptions, got.GetTypedExtensionProtocolOptions(), protocmp.Transform()); d != "" {
				t.Errorf("protocol options (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantBuffer, got.GetPerConnectionBufferLimitBytes(), protocmp.Transform()); d != "" {
				t.Errorf("buffer limit (-want +got):\n%s", d)
			}
		})
	}
}

// TestClusterCircuitBreakersLargest: thresholds whose sum wraps around a
// uint32 are all kept (global circuit breakers make such values easy).
func TestClusterCircuitBreakersLargest(t *testing.T) {
	t.Parallel()
	c := graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Port: 80},
		CircuitBreakers: graph.CircuitBreakers{MaxConnections: 4294967295, MaxRetries: 1}}
	got, err := ClusterResource(ClusterName(&c), &c)
	if err != nil {
		t.Fatal(err)
	}
	want := &clusterv3.CircuitBreakers{
		Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			MaxConnections: wrapperspb.UInt32(4294967295), MaxRetries: wrapperspb.UInt32(1), TrackRemaining: true}},
		PerHostThresholds: []*clusterv3.CircuitBreakers_Thresholds{{TrackRemaining: true}},
	}
	if d := cmp.Diff(want, got.GetCircuitBreakers(), protocmp.Transform()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestClusterUpstreamTLSParams: Contour's cluster.upstream-tls reaches the
// TLS context of a cluster that originates TLS; unset, the context has
// Contour's defaults (TLS 1.2 to 1.3, its cipher suites).
func TestClusterUpstreamTLSParams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		min, max, cip string
		want          *tlsv3.TlsParameters
	}{
		{name: "unset", want: wantUpstreamTLS()},
		{name: "1.3 only, two suites", min: "1.3", max: "1.3", cip: "ECDHE-RSA-AES256-GCM-SHA384\n[AES128-SHA|AES256-SHA]",
			want: &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
				CipherSuites: []string{"ECDHE-RSA-AES256-GCM-SHA384", "[AES128-SHA|AES256-SHA]"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Port: 443}, Protocol: "tls",
				UpstreamTLSMin: tc.min, UpstreamTLSMax: tc.max, UpstreamTLSCipherSuites: tc.cip}
			got, err := ClusterResource(ClusterName(&c), &c)
			if err != nil {
				t.Fatal(err)
			}
			var ctx tlsv3.UpstreamTlsContext
			if err := got.GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, ctx.GetCommonTlsContext().GetTlsParams(), protocmp.Transform()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestClusterNames checks the EDS and alt_stat names cut from one string,
// against ClusterEDSName and the names written out in full.
func TestClusterNames(t *testing.T) {
	for _, tc := range []struct {
		c         graph.Cluster
		eds, stat string
	}{
		{graph.Cluster{Namespace: "ns", Service: "svc", Port: corev1.ServicePort{Name: "http", Port: 8080}}, "ns/svc/http", "ns_svc_8080"},
		{graph.Cluster{Namespace: "team-1", Service: "s", Port: corev1.ServicePort{Port: 80}}, "team-1/s", "team-1_s_80"},
		{graph.Cluster{Namespace: "ns", Service: "svc", Port: corev1.ServicePort{Port: 443}, DNSNameScheme: "https"}, "ns/svc", ""},
		{graph.Cluster{Namespace: "ns", Service: "svc", Port: corev1.ServicePort{Port: 8080},
			HealthPort: &corev1.ServicePort{Name: "health", Port: 9000}}, "ns/svc/health/health", "ns_svc_8080"},
	} {
		eds, stat := clusterNames(&tc.c)
		if eds != tc.eds || stat != tc.stat || eds != ClusterEDSName(&tc.c) {
			t.Errorf("clusterNames(%+v) = %q, %q; want %q, %q", tc.c, eds, stat, tc.eds, tc.stat)
		}
	}
}

// TestClusterHealthCheckDefaults: unset health-check numbers get the
// defaults Contour's code applies (a 10 s interval, a 2 s timeout, 3 and 2
// checks), an HTTP check the Host contour-envoy-healthcheck, and a
// health-checked cluster drops an endpoint as soon as it leaves the
// assignment.
func TestClusterHealthCheckDefaults(t *testing.T) {
	t.Parallel()
	check := func(http *corev3.HealthCheck_HttpHealthCheck) []*corev3.HealthCheck {
		hc := &corev3.HealthCheck{Timeout: durationpb.New(2 * time.Second), Interval: durationpb.New(10 * time.Second),
			UnhealthyThreshold: wrapperspb.UInt32(3), HealthyThreshold: wrapperspb.UInt32(2),
			HealthChecker: &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}}
		if http != nil {
			hc.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: http}
		}
		return []*corev3.HealthCheck{hc}
	}
	for _, tc := range []struct {
		name string
		hc   *graph.HealthCheck
		want []*corev3.HealthCheck
	}{
		{"none", nil, nil},
		{"HTTP", &graph.HealthCheck{Path: "/hc"}, check(&corev3.HealthCheck_HttpHealthCheck{Path: "/hc", Host: "contour-envoy-healthcheck"})},
		{"TCP", &graph.HealthCheck{}, check(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Port: 80}, HealthCheck: tc.hc}
			got, err := ClusterResource(ClusterName(&c), &c)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got.GetHealthChecks(), protocmp.Transform()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if got.GetIgnoreHealthOnHostRemoval() != (tc.hc != nil) {
				t.Errorf("ignore_health_on_host_removal = %v, want %v", got.GetIgnoreHealthOnHostRemoval(), tc.hc != nil)
			}
		})
	}
}

// TestClusterSNI: a TLS cluster sends the SNI its graph cluster carries,
// and none without one, even when it validates the upstream's subject
// names (as Contour: validation does not imply a server name).
func TestClusterSNI(t *testing.T) {
	t.Parallel()
	ca := &graph.Secret{Namespace: "ns", Name: "ca", CA: []byte("CA PEM")}
	for _, tc := range []struct {
		name, protocol, sni string
		validation          *graph.UpstreamValidation
		wantTLS             bool
		wantSNI             string
	}{
		{name: "validated, no SNI", protocol: "tls", validation: &graph.UpstreamValidation{CA: ca, SubjectNames: []string{"subjname"}}, wantTLS: true},
		{name: "validated, with SNI", protocol: "h2", sni: "backend.internal", validation: &graph.UpstreamValidation{CA: ca, SubjectNames: []string{"subjname"}},
			wantTLS: true, wantSNI: "backend.internal"},
		{name: "an ExternalName's", protocol: "tls", sni: "api.example.com", wantTLS: true, wantSNI: "api.example.com"},
		{name: "cleartext", protocol: "h2c", sni: "api.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Port: 443}, Protocol: tc.protocol,
				SNI: tc.sni, Validation: tc.validation}
			got, err := ClusterResource(ClusterName(&c), &c)
			if err != nil {
				t.Fatal(err)
			}
			if (got.GetTransportSocket() != nil) != tc.wantTLS {
				t.Fatalf("transport socket %v, want TLS %v", got.GetTransportSocket(), tc.wantTLS)
			}
			if !tc.wantTLS {
				return
			}
			var ctx tlsv3.UpstreamTlsContext
			if err := got.GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx); err != nil {
				t.Fatal(err)
			}
			if ctx.GetSni() != tc.wantSNI {
				t.Errorf("sni = %q, want %q", ctx.GetSni(), tc.wantSNI)
			}
		})
	}
}
