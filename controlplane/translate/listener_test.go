package translate

import (
	"strings"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	grpcstatsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_stats/v3"
	grpcwebv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_web/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
}

// stdoutLog is the default access log: Envoy's text line, every request,
// on Envoy's standard output.
func stdoutLog(t *testing.T) []*accesslogv3.AccessLog {
	return []*accesslogv3.AccessLog{{Name: "envoy.access_loggers.file",
		ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: mustAny(t, &filev3.FileAccessLog{Path: "/dev/stdout"})}}}
}

// wantHCM is a connection manager with the default settings; lua says
// whether it holds the cookie rewrite script.
func wantHCM(t *testing.T, statPrefix, rds string, lua bool) *listenerv3.Filter {
	return &listenerv3.Filter{Name: "envoy.filters.network.http_connection_manager",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &hcmv3.HttpConnectionManager{
			StatPrefix:                statPrefix,
			RouteSpecifier:            &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: adsSource(), RouteConfigName: rds}},
			HttpFilters:               wantHTTPFilters(t, lua),
			CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{IdleTimeout: durationpb.New(60 * time.Second)},
			HttpProtocolOptions:       &corev3.Http1ProtocolOptions{AcceptHttp_10: true, AllowChunkedLength: true},
			UseRemoteAddress:          wrapperspb.Bool(true),
			NormalizePath:             wrapperspb.Bool(true),
			MergeSlashes:              true,
			PreserveExternalRequestId: true,
			AccessLog:                 stdoutLog(t),
		})}}
}

// wantHTTPFilters are Contour's HTTP filters: gzip, gRPC-Web, gRPC
// statistics, CORS, local rate limit, with lua the Lua filter holding the
// cookie rewrite script, RBAC, the router.
func wantHTTPFilters(t *testing.T, lua bool) []*hcmv3.HttpFilter {
	typed := func(m proto.Message) *hcmv3.HttpFilter_TypedConfig {
		return &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, m)}
	}
	gzip := &compressorv3.Compressor{
		CompressorLibrary: &corev3.TypedExtensionConfig{Name: "gzip", TypedConfig: mustAny(t, &gzipv3.Gzip{})},
		ResponseDirectionConfig: &compressorv3.Compressor_ResponseDirectionConfig{CommonConfig: &compressorv3.Compressor_CommonDirectionConfig{
			ContentType: strings.Fields(`text/html text/plain text/css application/javascript application/x-javascript
				text/javascript text/x-javascript text/ecmascript text/js text/jscript text/x-js application/ecmascript
				application/x-json application/xml application/json image/svg+xml text/xml application/xhtml+xml
				application/grpc-web application/grpc-web+proto application/grpc-web+json application/grpc-web+thrift
				application/grpc-web-text application/grpc-web-text+proto application/grpc-web-text+thrift`)}}}
	filters := []*hcmv3.HttpFilter{
		{Name: "envoy.filters.http.compressor", ConfigType: typed(gzip)},
		{Name: "envoy.filters.http.grpc_web", ConfigType: typed(&grpcwebv3.GrpcWeb{})},
		{Name: "envoy.filters.http.grpc_stats", ConfigType: typed(&grpcstatsv3.FilterConfig{EmitFilterState: true, EnableUpstreamStats: true})},
		{Name: "envoy.filters.http.cors", ConfigType: typed(&corsv3.Cors{})},
		{Name: "envoy.filters.http.local_ratelimit", ConfigType: typed(&localratelimitv3.LocalRateLimit{StatPrefix: "http"})},
		{Name: "envoy.filters.http.lua", ConfigType: typed(&luav3.Lua{SourceCodes: map[string]*corev3.DataSource{
			"cookie_rewrite.lua": {Specifier: &corev3.DataSource_InlineString{InlineString: envoy.CookieRewriteSource}}}})},
		{Name: "envoy.filters.http.rbac", ConfigType: typed(&rbacv3.RBAC{})},
		{Name: "envoy.filters.http.router", ConfigType: typed(&routerv3.Router{})},
	}
	if !lua {
		filters = append(filters[:5], filters[6:]...)
	}
	return filters
}

// wantKeepalive are Contour's TCP keepalive socket options, on every
// listener (Linux numbers: SOL_SOCKET 1, SO_KEEPALIVE 9, IPPROTO_TCP 6,
// TCP_KEEPIDLE 4, TCP_KEEPINTVL 5, TCP_KEEPCNT 6).
func wantKeepalive() []*corev3.SocketOption {
	option := func(description string, level, name, value int64) *corev3.SocketOption {
		return &corev3.SocketOption{Description: description, Level: level, Name: name,
			Value: &corev3.SocketOption_IntValue{IntValue: value}, State: corev3.SocketOption_STATE_LISTENING}
	}
	return []*corev3.SocketOption{
		option("TCP keep-alive", 1, 9, 1),
		option("TCP keep-alive idle time before probes (s)", 6, 4, 45),
		option("TCP keep-alive time between probes (s)", 6, 5, 5),
		option("TCP keep-alive probes before the connection is dropped", 6, 6, 9),
	}
}

func address(port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

func TestListenersEmpty(t *testing.T) {
	t.Parallel()
	res, _, err := Translate(graph.New(80, 443, graph.AccessLog{}), source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	want := []*listenerv3.Listener{{Name: "ingress_http", Address: address(80), SocketOptions: wantKeepalive(),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{wantHCM(t, "ingress_http", "ingress_http", true)}}}}}
	if d := cmp.Diff(want, res.Listeners, protocmp.Transform()); d != "" {
		t.Errorf("listeners (-want +got):\n%s", d)
	}
	wantRoutes := []*routev3.RouteConfiguration{{Name: "ingress_http", RequestHeadersToAdd: wantRequestStart(), IgnorePortInHostMatching: true}}
	if d := cmp.Diff(wantRoutes, res.Routes, protocmp.Transform()); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
}

func TestListenersSecure(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "https", Port: 443}}
	b := g.SecureVirtualHost("b.com")
	b.Secret = &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("CERT"), Key: []byte("KEY")}
	b.MinTLS = "1.3"
	b.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}}})
	a := g.SecureVirtualHost("a.com")
	a.Passthrough = true
	a.TCPProxy = &graph.TCPProxy{Backends: []graph.Backend{{Cluster: web}}}
	// Only the connection manager of a host whose routes rewrite cookies
	// holds the Lua filter (ingress_http's always does).
	c := g.SecureVirtualHost("c.com")
	c.Secret = b.Secret
	c.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"},
		Backends: []graph.Backend{{Cluster: web, CookieRewrites: []graph.CookieRewrite{{Name: "session", SameSite: "Lax"}}}}})
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	tls := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsParams: &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
			CipherSuites: contourCiphers},
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "ns/cert/971a925b3d", SdsConfig: adsSource()}},
		AlpnProtocols:                  []string{"h2", "http/1.1"},
	}}
	tlsC := proto.Clone(tls).(*tlsv3.DownstreamTlsContext)
	tlsC.CommonTlsContext.TlsParams.TlsMinimumProtocolVersion = tlsv3.TlsParameters_TLSv1_2
	want := &listenerv3.Listener{Name: "ingress_https", Address: address(8443), SocketOptions: wantKeepalive(),
		ListenerFilters: []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.tls_inspector",
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(t, &tlsinspectorv3.TlsInspector{})}}},
		FilterChains: []*listenerv3.FilterChain{
			{
				FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"a.com"}},
				Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.tcp_proxy",
					ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &tcpproxyv3.TcpProxy{StatPrefix: "ingress_https", IdleTimeout: durationpb.New(9001 * time.Second),
						ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "ns/web/443/da39a3ee5e"}, AccessLog: stdoutLog(t)})}}},
			},
			{
				FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"b.com"}},
				TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
					ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, tls)}},
				Filters: []*listenerv3.Filter{wantHCM(t, "ingress_https", "https/b.com", false)},
			},
			{
				FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"c.com"}},
				TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
					ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, tlsC)}},
				Filters: []*listenerv3.Filter{wantHCM(t, "ingress_https", "https/c.com", true)},
			},
		},
	}
	if d := cmp.Diff(want, res.Listener("ingress_https"), protocmp.Transform()); d != "" {
		t.Errorf("ingress_https (-want +got):\n%s", d)
	}
	var names []string
	for _, r := range res.Routes {
		names = append(names, r.GetName())
	}
	if d := cmp.Diff([]string{"https/b.com", "https/c.com", "ingress_http"}, names); d != "" {
		t.Errorf("route configurations (-want +got):\n%s", d)
	}
	if len(res.Secrets) != 1 || res.Secrets[0].GetName() != "ns/cert/971a925b3d" {
		t.Errorf("secrets: %v", res.Secrets)
	}
}

// TestListenersAccessLog: the access log options reach every connection
// manager, as Contour's accesslog-format and accesslog-level.
func TestListenersAccessLog(t *testing.T) {
	t.Parallel()
	errors := &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_StatusCodeFilter{
		StatusCodeFilter: &accesslogv3.StatusCodeFilter{Comparison: &accesslogv3.ComparisonFilter{Op: accesslogv3.ComparisonFilter_GE,
			Value: &corev3.RuntimeUInt32{DefaultValue: 500, RuntimeKey: "isobar.accesslog.min_status"}}}}}
	for name, c := range map[string]struct {
		log  graph.AccessLog
		want func(*filev3.FileAccessLog) []*accesslogv3.AccessLog
	}{
		"disabled": {graph.AccessLog{Level: "disabled"}, func(*filev3.FileAccessLog) []*accesslogv3.AccessLog { return nil }},
		"json critical to a file": {graph.AccessLog{Format: "json", Level: "critical", Path: "/var/log/envoy.json"},
			func(fl *filev3.FileAccessLog) []*accesslogv3.AccessLog {
				return []*accesslogv3.AccessLog{{Name: "envoy.access_loggers.file", Filter: errors,
					ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: mustAny(t, fl)}}}
			}},
	} {
		res, _, err := Translate(graph.New(8080, 8443, c.log), source.NewIndex())
		if err != nil {
			t.Fatal(err)
		}
		var hcm hcmv3.HttpConnectionManager
		if err := res.Listeners[0].GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
			t.Fatal(err)
		}
		var fl *filev3.FileAccessLog
		if len(hcm.GetAccessLog()) == 1 {
			fl = &filev3.FileAccessLog{}
			if err := hcm.GetAccessLog()[0].GetTypedConfig().UnmarshalTo(fl); err != nil {
				t.Fatal(err)
			}
			fields := fl.GetLogFormat().GetJsonFormat().GetFields()
			for k, want := range map[string]string{"response_code": "%RESPONSE_CODE%", "user_agent": "%REQ(USER-AGENT)%",
				"name": "%METADATA(ROUTE:envoy.access_loggers.file:io.projectcontour.name)%"} {
				if got := fields[k].GetStringValue(); got != want {
					t.Errorf("%s: JSON field %s = %q, want %q", name, k, got, want)
				}
			}
			if fl.GetPath() != c.log.Path {
				t.Errorf("%s: path %q", name, fl.GetPath())
			}
			fl = &filev3.FileAccessLog{Path: c.log.Path, AccessLogFormat: &filev3.FileAccessLog_LogFormat{LogFormat: &corev3.SubstitutionFormatString{
				Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{Fields: fields}}}}}
		}
		if d := cmp.Diff(c.want(fl), hcm.GetAccessLog(), protocmp.Transform()); d != "" {
			t.Errorf("%s: access log (-want +got):\n%s", name, d)
		}
	}
	for _, bad := range []graph.AccessLog{{Format: "text"}, {Level: "debug"}, {Path: "/tmp/a\nb"}} {
		if bad.Check() == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
}
