package bootstrap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/internal/typedconfig"
)

// Options describe the bootstrap.
type Options struct {
	// XDSAddress and XDSPort locate the Isobar xDS server.
	XDSAddress string
	XDSPort    uint32
	// AdminAddress is an IP address or a unix socket path (starting with
	// "/"); AdminPort is used with an address.
	AdminAddress string
	AdminPort    uint32
	// NodeID and Cluster identify this Envoy.
	NodeID, Cluster string
	// CAFile, CertFile and KeyFile enable TLS to the xDS server: all three
	// or none.
	CAFile, CertFile, KeyFile string
	// ResourcesDir, with TLS, writes SDS files there (sds/*.json) that Envoy
	// watches, instead of naming the files inline.
	ResourcesDir string
	// Protocol is the ADS variant (default ProtocolDelta).
	Protocol Protocol
	// StatsAddress and StatsPort, when the port is not 0 (the default),
	// add a static stats listener serving StatsPaths (readiness and
	// statistics) from the admin endpoint: for an xDS server that does not
	// serve one. Isobar's serves it over LDS, as Contour's does
	// (StatsListenerAt), so the bootstrap needs none.
	StatsAddress string
	StatsPort    uint32
	// DNSLookupFamily is how the xDS server's name resolves: auto (or
	// empty), v4, v6 or all (Contour's --dns-lookup-family).
	DNSLookupFamily string
	// MaxHeapBytes and MaxDownstreamConnections, when set, are limits of
	// Envoy's overload manager (Contour's --overload-max-heap and
	// --overload-downstream-max-conn).
	MaxHeapBytes             uint64
	MaxDownstreamConnections int64
	// ResourceVersion is the xDS API version, v3 (or empty): Contour's
	// --xds-resource-version, which offers no other.
	ResourceVersion string
}

// Protocol is an ADS variant.
type Protocol string

// ADS variants: incremental, where only changed resources travel, and state
// of the world, as Contour's bootstrap.
const (
	ProtocolDelta Protocol = "delta"
	ProtocolSotW  Protocol = "sotw"
)

// Defaults returns the defaults of `isobar bootstrap`.
func Defaults() Options {
	return Options{XDSAddress: "127.0.0.1", XDSPort: 8001, AdminAddress: "127.0.0.1", AdminPort: 9001,
		NodeID: "envoy", Cluster: "isobar", Protocol: ProtocolDelta, StatsAddress: "0.0.0.0"}
}

// XDSCluster is the name of the static cluster of the xDS server.
const XDSCluster = "contour"

// SDS secret names of the xDS client certificate and validation context.
const (
	sdsCertificate       = "isobar_xds_tls_certificate"
	sdsValidationContext = "isobar_xds_tls_validation_context"
)

// Build returns the bootstrap o describes, checked as Envoy checks it on
// loading (Validate, and that of every typed configuration it holds).
func Build(o Options) (*bootstrapv3.Bootstrap, error) {
	tlsFiles := 0
	for _, f := range []string{o.CAFile, o.CertFile, o.KeyFile} {
		if f != "" {
			tlsFiles++
		}
	}
	if tlsFiles != 0 && tlsFiles != 3 {
		return nil, fmt.Errorf("TLS to the xDS server needs all of --xds-ca-file, --xds-cert-file and --xds-key-file")
	}
	apiType := corev3.ApiConfigSource_DELTA_GRPC
	switch o.Protocol {
	case ProtocolDelta, "":
	case ProtocolSotW:
		apiType = corev3.ApiConfigSource_GRPC
	default:
		return nil, fmt.Errorf("unknown xDS protocol %q: use %s or %s", o.Protocol, ProtocolDelta, ProtocolSotW)
	}
	if err := checkStats(o); err != nil {
		return nil, err
	}
	if err := checkContourOptions(o); err != nil {
		return nil, err
	}
	b := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: o.NodeID, Cluster: o.Cluster},
		Admin: &bootstrapv3.Admin{
			Address: adminAddress(o),
			AccessLog: []*accesslogv3.AccessLog{{Name: "envoy.access_loggers.file",
				ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: mustAny(&filev3.FileAccessLog{Path: "/dev/null"})}}},
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{xdsCluster(o, tlsFiles == 3)}},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:             apiType,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: XDSCluster, Authority: XDSCluster},
				}}},
			},
			LdsConfig: ads(),
			CdsConfig: ads(),
		},
		LayeredRuntime: layeredRuntime(),
	}
	b.OverloadManager = overloadManager(o)
	b.StaticResources.Clusters = append(b.StaticResources.Clusters, adminCluster(o)) // the stats listener's, static or served
	if o.StatsPort != 0 {
		b.StaticResources.Listeners = append(b.StaticResources.Listeners, StatsListenerAt(o.StatsAddress, o.StatsPort))
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("bootstrap is not valid: %w", err)
	}
	if err := typedconfig.Validate(b); err != nil {
		return nil, fmt.Errorf("bootstrap is not valid: %w", err)
	}
	return b, nil
}

// layeredRuntime is Contour's: the layer the xDS server serves over RTDS
// (envoy.RuntimeLayerName: RE2's program size limits, the listener limits,
// the operator's runtime settings), then the admin layer, last so that a
// value set through Envoy's admin endpoint wins.
func layeredRuntime() *bootstrapv3.LayeredRuntime {
	return &bootstrapv3.LayeredRuntime{Layers: []*bootstrapv3.RuntimeLayer{
		{Name: envoy.RuntimeLayerName, LayerSpecifier: &bootstrapv3.RuntimeLayer_RtdsLayer_{
			RtdsLayer: &bootstrapv3.RuntimeLayer_RtdsLayer{Name: envoy.RuntimeLayerName, RtdsConfig: ads()}}},
		{Name: "admin", LayerSpecifier: &bootstrapv3.RuntimeLayer_AdminLayer_{AdminLayer: &bootstrapv3.RuntimeLayer_AdminLayer{}}},
	}}
}

func ads() *corev3.ConfigSource {
	return &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
}

func adminAddress(o Options) *corev3.Address {
	if isPipe(o.AdminAddress) {
		return &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: o.AdminAddress, Mode: 0o644}}}
	}
	return listenSocket(o.AdminAddress, o.AdminPort)
}

// isPipe reports whether an admin address is a unix socket path.
func isPipe(addr string) bool { return filepath.IsAbs(addr) }

func socket(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

// listenSocket is the address Envoy binds host:port on: on "::" with IPv4
// compatibility, as Contour binds it, so that IPv4 clients (a kubelet's
// probes in an IPv4 cluster) reach a listener told to take every address.
func listenSocket(host string, port uint32) *corev3.Address {
	a := socket(host, port)
	if host == "::" {
		a.GetSocketAddress().Ipv4Compat = true
	}
	return a
}

// xdsCluster is the static cluster of the xDS server: STATIC for an IP,
// STRICT_DNS for a name; HTTP/2 with keepalives.
func xdsCluster(o Options, withTLS bool) *clusterv3.Cluster {
	typ := clusterv3.Cluster_STRICT_DNS
	if net.ParseIP(o.XDSAddress) != nil {
		typ = clusterv3.Cluster_STATIC
	}
	c := &clusterv3.Cluster{
		Name:                 XDSCluster,
		AltStatName:          "isobar_xds_" + fmt.Sprint(o.XDSPort),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: typ},
		DnsLookupFamily:      dnsLookupFamilies[o.DNSLookupFamily],
		ConnectTimeout:       durationpb.New(5 * time.Second),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: XDSCluster, Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: socket(o.XDSAddress, o.XDSPort)}}}},
		}}},
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": mustAny(&httpv3.HttpProtocolOptions{
				UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
					ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
						ConnectionKeepalive: &corev3.KeepaliveSettings{Interval: durationpb.New(30 * time.Second), Timeout: durationpb.New(5 * time.Second)},
					}},
				}},
			}),
		},
		UpstreamConnectionOptions: &clusterv3.UpstreamConnectionOptions{TcpKeepalive: &corev3.TcpKeepalive{
			KeepaliveProbes: wrapperspb.UInt32(3), KeepaliveTime: wrapperspb.UInt32(30), KeepaliveInterval: wrapperspb.UInt32(5)}},
		CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{
			{Priority: corev3.RoutingPriority_HIGH, MaxConnections: wrapperspb.UInt32(100000), MaxPendingRequests: wrapperspb.UInt32(100000), MaxRequests: wrapperspb.UInt32(60000000), MaxRetries: wrapperspb.UInt32(50)},
			{Priority: corev3.RoutingPriority_DEFAULT, MaxConnections: wrapperspb.UInt32(100000), MaxPendingRequests: wrapperspb.UInt32(100000), MaxRequests: wrapperspb.UInt32(60000000), MaxRetries: wrapperspb.UInt32(50)},
		}},
	}
	if withTLS {
		c.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
			ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(upstreamTLS(o))}}
	}
	return c
}

// upstreamTLS names the certificate files inline, or the SDS files in
// ResourcesDir that Envoy watches for rotation.
func upstreamTLS(o Options) *tlsv3.UpstreamTlsContext {
	ctx := &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{}}
	if o.ResourcesDir == "" {
		ctx.CommonTlsContext.TlsCertificates = []*tlsv3.TlsCertificate{{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: o.CertFile}},
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: o.KeyFile}},
		}}
		ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: o.CAFile}},
		}}
		return ctx
	}
	ctx.CommonTlsContext.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{{Name: sdsCertificate, SdsConfig: pathSource(o, "xds-tls-certificate.json")}}
	ctx.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{
		ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: sdsValidationContext, SdsConfig: pathSource(o, "xds-validation-context.json")}}
	return ctx
}

func pathSource(o Options, file string) *corev3.ConfigSource {
	return &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3, ConfigSourceSpecifier: &corev3.ConfigSource_PathConfigSource{
		PathConfigSource: &corev3.PathConfigSource{Path: filepath.Join(o.ResourcesDir, "sds", file)}}}
}

// SDSFiles returns the SDS files (name → content) to write under
// ResourcesDir when it is set with TLS; nil otherwise.
func SDSFiles(o Options) (map[string][]byte, error) {
	if o.ResourcesDir == "" || o.CAFile == "" {
		return nil, nil
	}
	cert := &tlsv3.Secret{Name: sdsCertificate, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: o.CertFile}},
		PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: o.KeyFile}},
	}}}
	vc := &tlsv3.Secret{Name: sdsValidationContext, Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
		TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: o.CAFile}},
	}}}
	out := map[string][]byte{}
	for file, s := range map[string]*tlsv3.Secret{"xds-tls-certificate.json": cert, "xds-validation-context.json": vc} {
		b, err := marshalDiscovery(s)
		if err != nil {
			return nil, err
		}
		out[filepath.Join("sds", file)] = b
	}
	return out, nil
}

// marshalDiscovery wraps a secret in the DiscoveryResponse JSON shape Envoy
// expects in a path config source.
func marshalDiscovery(s *tlsv3.Secret) ([]byte, error) {
	inner, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(mustAny(s))
	if err != nil {
		return nil, err
	}
	return []byte(`{"resources":[` + string(inner) + "]}\n"), nil
}

// JSON renders the bootstrap as indented JSON (proto field names).
func JSON(b *bootstrapv3.Bootstrap) ([]byte, error) {
	out, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
	if err != nil {
		return nil, err
	}
	// protojson varies its whitespace; indent it ourselves so the file is
	// byte-for-byte reproducible.
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// Write builds the bootstrap, writes it to path ("-" is handled by the
// caller) and writes the SDS files; directories are created.
func Write(path string, o Options) error {
	b, err := Build(o)
	if err != nil {
		return err
	}
	data, err := JSON(b)
	if err != nil {
		return err
	}
	files, err := SDSFiles(o)
	if err != nil {
		return err
	}
	for name, content := range files {
		p := filepath.Join(o.ResourcesDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}
