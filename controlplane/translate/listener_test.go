package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

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

func wantHCM(t *testing.T, statPrefix, rds string) *listenerv3.Filter {
	return &listenerv3.Filter{Name: "envoy.filters.network.http_connection_manager",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &hcmv3.HttpConnectionManager{
			StatPrefix:     statPrefix,
			RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: adsSource(), RouteConfigName: rds}},
			HttpFilters: []*hcmv3.HttpFilter{{Name: "envoy.filters.http.router",
				ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})}}},
			UseRemoteAddress: wrapperspb.Bool(true),
			StripPortMode:    &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true},
			NormalizePath:    wrapperspb.Bool(true),
		})}}
}

func address(port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

func TestListenersEmpty(t *testing.T) {
	t.Parallel()
	res, _, err := Translate(graph.New(80, 443), source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	want := []*listenerv3.Listener{{Name: "ingress_http", Address: address(80),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{wantHCM(t, "ingress_http", "ingress_http")}}}}}
	if d := cmp.Diff(want, res.Listeners, protocmp.Transform()); d != "" {
		t.Errorf("listeners (-want +got):\n%s", d)
	}
	wantRoutes := []*routev3.RouteConfiguration{{Name: "ingress_http"}}
	if d := cmp.Diff(wantRoutes, res.Routes, protocmp.Transform()); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
}

func TestListenersSecure(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443)
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "https", Port: 443}}
	b := g.SecureVirtualHost("b.com")
	b.Secret = &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("CERT"), Key: []byte("KEY")}
	b.MinTLS = "1.3"
	b.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}}})
	a := g.SecureVirtualHost("a.com")
	a.Passthrough = true
	a.TCPProxy = &graph.TCPProxy{Backends: []graph.Backend{{Cluster: web}}}
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	tls := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsParams:                      &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3},
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "ns/cert/971a925b3d", SdsConfig: adsSource()}},
		AlpnProtocols:                  []string{"h2", "http/1.1"},
	}}
	want := &listenerv3.Listener{Name: "ingress_https", Address: address(8443),
		ListenerFilters: []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.tls_inspector",
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: mustAny(t, &tlsinspectorv3.TlsInspector{})}}},
		FilterChains: []*listenerv3.FilterChain{
			{
				FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"a.com"}},
				Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.tcp_proxy",
					ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &tcpproxyv3.TcpProxy{StatPrefix: "ingress_https",
						ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "ns/web/443/da39a3ee5e"}})}}},
			},
			{
				FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"b.com"}},
				TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
					ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, tls)}},
				Filters: []*listenerv3.Filter{wantHCM(t, "ingress_https", "https/b.com")},
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
	if d := cmp.Diff([]string{"https/b.com", "ingress_http"}, names); d != "" {
		t.Errorf("route configurations (-want +got):\n%s", d)
	}
	if len(res.Secrets) != 1 || res.Secrets[0].GetName() != "ns/cert/971a925b3d" {
		t.Errorf("secrets: %v", res.Secrets)
	}
}
