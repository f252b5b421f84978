package envoy

import (
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
)

// Listener is a TCP listener on 0.0.0.0:port.
func Listener(name string, port uint32, chains []*listenerv3.FilterChain, filters ...*listenerv3.ListenerFilter) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name:            name,
		Address:         SocketAddress("0.0.0.0", port),
		FilterChains:    chains,
		ListenerFilters: filters,
	}
}

// TLSInspector is the listener filter that reads the SNI.
func TLSInspector() *listenerv3.ListenerFilter {
	return &listenerv3.ListenerFilter{
		Name:       wellknown.TLSInspector,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: Any(&tlsinspectorv3.TlsInspector{})},
	}
}

// HTTPConnectionManager is a network filter routing HTTP with the route
// configuration routeConfig fetched over ADS, logging requests to logs.
func HTTPConnectionManager(statPrefix, routeConfig string, logs []*accesslogv3.AccessLog) *listenerv3.Filter {
	hcm := &hcmv3.HttpConnectionManager{
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		StatPrefix: statPrefix,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource: ADS(), RouteConfigName: routeConfig,
		}},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       wellknown.Router,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: Any(&routerv3.Router{})},
		}},
		UseRemoteAddress: wrapBool(true),
		StripPortMode:    &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true},
		NormalizePath:    wrapBool(true),
		AccessLog:        logs,
	}
	return &listenerv3.Filter{Name: wellknown.HTTPConnectionManager,
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: Any(hcm)}}
}

// TCPProxy is a network filter forwarding to one cluster, or to weighted
// clusters when there are several, logging connections to logs.
func TCPProxy(statPrefix string, clusters []WeightedCluster, logs []*accesslogv3.AccessLog) *listenerv3.Filter {
	tp := &tcpproxyv3.TcpProxy{StatPrefix: statPrefix, AccessLog: logs}
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
