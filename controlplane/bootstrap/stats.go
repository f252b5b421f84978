package bootstrap

import (
	"fmt"
	"net/netip"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
)

// Names of the static stats listener, of the read-only admin listener and
// of the cluster they forward to.
const (
	StatsListener      = "stats-health"
	AdminCluster       = "envoy-admin"
	EnvoyAdminListener = "envoy-admin"
)

// StatsPaths are the only admin paths the stats listener forwards, for GET
// requests alone: Envoy's readiness (503 until its first configuration is
// loaded and while it drains) and its statistics. Everything else,
// traversals such as /stats/../config_dump included (paths are normalised
// first), answers 404, so the admin interface itself can stay on a local
// address.
var StatsPaths = []string{"/ready", "/stats", "/stats/prometheus"}

// AdminReadPaths are the admin paths EnvoyAdminListenerAt forwards, for GET
// requests alone: Contour's read-only view of Envoy's admin interface
// (configuration dump, clusters, listeners, certificates, memory, runtime,
// readiness, server information and statistics), without the paths that
// change Envoy (/quitquitquit, /healthcheck/fail, /drain_listeners,
// /logging, /runtime_modify, /reset_counters...).
var AdminReadPaths = []string{
	"/certs", "/clusters", "/config_dump", "/listeners", "/memory", "/ready", "/runtime",
	"/server_info", "/stats", "/stats/prometheus", "/stats/recentlookups",
}

// checkStats refuses a stats listener that would collide with the admin
// endpoint.
func checkStats(o Options) error {
	if o.StatsPort == 0 {
		return nil
	}
	if _, err := netip.ParseAddr(o.StatsAddress); err != nil {
		return fmt.Errorf("--stats-address %q is not an IP address", o.StatsAddress)
	}
	if !isPipe(o.AdminAddress) && o.StatsPort == o.AdminPort {
		return fmt.Errorf("--stats-port and --admin-port are both %d: the stats listener needs its own port", o.StatsPort)
	}
	return nil
}

// StatsListenerAt is the stats listener, StatsListener, on address:port:
// StatsPaths forwarded to the admin endpoint (see AdminPathsListener).
func StatsListenerAt(address string, port uint32) *listenerv3.Listener {
	return AdminPathsListener(StatsListener, address, port, StatsPaths)
}

// OverloadHealthListenerAt is Contour's health-om-enforced listener on
// address:port: GET /ready like the stats listener, but counted against
// the overload manager's global connection limit, so that a load balancer
// probing it takes an Envoy that reached the limit out of rotation.
func OverloadHealthListenerAt(address string, port uint32) *listenerv3.Listener {
	l := AdminPathsListener("health-om-enforced", address, port, []string{"/ready"})
	l.IgnoreGlobalConnLimit = false
	return l
}

// AdminPathsListener is a listener called name on address:port that
// forwards GET requests for paths (exact, after normalisation) to the
// admin endpoint through AdminCluster, which every bootstrap has (Isobar's
// and Contour's, whose Envoys get such listeners over LDS), and answers
// 404 to anything else. As Contour's, it keeps TCP connections alive and
// is not counted against the overload manager's global connection limit,
// so that readiness probes are answered under load.
func AdminPathsListener(name, address string, port uint32, paths []string) *listenerv3.Listener {
	return adminPathsListener(name, "stats", address, port, paths)
}

// EnvoyAdminListenerAt is Contour's envoy-admin listener on
// 127.0.0.1:port: AdminReadPaths forwarded to the admin endpoint, with
// the statistics prefix envoy-admin. It is for an Envoy whose admin
// endpoint is a unix socket (Contour's bootstrap, or isobar bootstrap
// --admin-address /admin/admin.sock): one listening on 127.0.0.1:port
// itself would make Envoy refuse the listener.
func EnvoyAdminListenerAt(port uint32) *listenerv3.Listener {
	return adminPathsListener(EnvoyAdminListener, "envoy-admin", "127.0.0.1", port, AdminReadPaths)
}

// adminPathsListener is AdminPathsListener with the connection manager's
// statistics prefix.
func adminPathsListener(name, statPrefix, address string, port uint32, paths []string) *listenerv3.Listener {
	routes := make([]*routev3.Route, 0, len(paths))
	for _, p := range paths {
		routes = append(routes, &routev3.Route{
			Match: &routev3.RouteMatch{
				PathSpecifier: &routev3.RouteMatch_Path{Path: p},
				Headers: []*routev3.HeaderMatcher{{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
					StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "GET"}}}}},
			},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: AdminCluster}}},
		})
	}
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix: statPrefix,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name:         name,
			VirtualHosts: []*routev3.VirtualHost{{Name: name, Domains: []string{"*"}, Routes: routes}},
		}},
		HttpFilters: []*hcmv3.HttpFilter{{Name: "envoy.filters.http.router",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&routerv3.Router{})}}},
		NormalizePath: wrapperspb.Bool(true),
		MergeSlashes:  true,
	}
	return &listenerv3.Listener{
		Name:    name,
		Address: listenSocket(address, port),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name:       "envoy.filters.network.http_connection_manager",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(hcm)},
		}}}},
		SocketOptions:         envoy.TCPKeepalive(),
		IgnoreGlobalConnLimit: true,
	}
}

// adminCluster reaches the admin endpoint: its unix socket, or its address
// (a wildcard address is reached on the loopback of the same family).
func adminCluster(o Options) *clusterv3.Cluster {
	addr := adminAddress(o)
	if !isPipe(o.AdminAddress) {
		host := o.AdminAddress
		if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
			host = "127.0.0.1"
			if ip.Is6() {
				host = "::1"
			}
		}
		addr = socket(host, o.AdminPort)
	}
	return &clusterv3.Cluster{
		Name:                 AdminCluster,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		ConnectTimeout:       durationpb.New(250 * time.Millisecond),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: AdminCluster, Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: addr}}}},
		}}},
	}
}
