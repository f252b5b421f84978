package snapshot

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Consistent reports the first dangling reference in res: a listener naming
// a missing route configuration or secret, a route or TCP proxy naming a
// missing cluster, an EDS cluster without a ClusterLoadAssignment.
func Consistent(res *xds.Resources) error {
	routes := names(res.Routes, (*routev3.RouteConfiguration).GetName)
	clusters := names(res.Clusters, (*clusterv3.Cluster).GetName)
	secrets := names(res.Secrets, (*tlsv3.Secret).GetName)
	claNames := map[string]bool{}
	for _, e := range res.Endpoints {
		claNames[e.GetClusterName()] = true
	}
	for _, l := range res.Listeners {
		if err := checkListener(l, routes, clusters, secrets); err != nil {
			return fmt.Errorf("listener %q: %w", l.GetName(), err)
		}
	}
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for i, r := range vh.GetRoutes() {
				for _, c := range routeClusters(r) {
					if !clusters[c] {
						return fmt.Errorf("route configuration %q, virtual host %q, route %d: cluster %q does not exist", rc.GetName(), vh.GetName(), i, c)
					}
				}
			}
		}
	}
	for _, c := range res.Clusters {
		if c.GetType() == clusterv3.Cluster_EDS {
			name := c.GetEdsClusterConfig().GetServiceName()
			if name == "" {
				name = c.GetName()
			}
			if !claNames[name] {
				return fmt.Errorf("cluster %q: ClusterLoadAssignment %q does not exist", c.GetName(), name)
			}
		}
	}
	return nil
}

func names[T any](list []T, name func(T) string) map[string]bool {
	out := make(map[string]bool, len(list))
	for _, x := range list {
		out[name(x)] = true
	}
	return out
}

// routeClusters lists the clusters a route forwards or mirrors to.
func routeClusters(r *routev3.Route) []string {
	a := r.GetRoute()
	if a == nil {
		return nil
	}
	var out []string
	if c := a.GetCluster(); c != "" {
		out = append(out, c)
	}
	for _, w := range a.GetWeightedClusters().GetClusters() {
		out = append(out, w.GetName())
	}
	for _, m := range a.GetRequestMirrorPolicies() {
		out = append(out, m.GetCluster())
	}
	return out
}

func checkListener(l *listenerv3.Listener, routes, clusters, secrets map[string]bool) error {
	for _, fc := range l.GetFilterChains() {
		if ts := fc.GetTransportSocket(); ts != nil {
			var ctx tlsv3.DownstreamTlsContext
			if err := ts.GetTypedConfig().UnmarshalTo(&ctx); err != nil {
				return err
			}
			for _, s := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
				if !secrets[s.GetName()] {
					return fmt.Errorf("secret %q does not exist", s.GetName())
				}
			}
		}
		for _, f := range fc.GetFilters() {
			if err := checkFilter(f, routes, clusters); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkFilter(f *listenerv3.Filter, routes, clusters map[string]bool) error {
	tc := f.GetTypedConfig()
	if tc == nil {
		return nil
	}
	var hcm hcmv3.HttpConnectionManager
	if tc.MessageIs(&hcm) {
		if err := tc.UnmarshalTo(&hcm); err != nil {
			return err
		}
		if name := hcm.GetRds().GetRouteConfigName(); name != "" && !routes[name] {
			return fmt.Errorf("route configuration %q does not exist", name)
		}
		return nil
	}
	var tp tcpproxyv3.TcpProxy
	if tc.MessageIs(&tp) {
		if err := tc.UnmarshalTo(&tp); err != nil {
			return err
		}
		names := []string{tp.GetCluster()}
		for _, w := range tp.GetWeightedClusters().GetClusters() {
			names = append(names, w.GetName())
		}
		for _, n := range names {
			if n != "" && !clusters[n] {
				return fmt.Errorf("cluster %q does not exist", n)
			}
		}
	}
	return nil
}
