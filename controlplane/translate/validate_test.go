package translate

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// TestValidateResourcesOrder checks that the route configurations checked
// in the background (startValidation) and the resources checked
// afterwards report the first invalid resource in resource order:
// listeners, then route configurations, then clusters, whichever check
// ends first.
func TestValidateResourcesOrder(t *testing.T) {
	t.Parallel()
	badListener := func() *listenerv3.Listener {
		return &listenerv3.Listener{Name: "l", FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{}}}}}
	}
	badHost := func() *routev3.RouteConfiguration {
		return &routev3.RouteConfiguration{Name: HTTPRoutes, VirtualHosts: []*routev3.VirtualHost{
			{Name: "a", Domains: []string{"a.com"}}, {Name: "b"}}}
	}
	badCluster := func() *clusterv3.Cluster {
		return &clusterv3.Cluster{Name: "c", ConnectTimeout: &durationpb.Duration{Seconds: -1}}
	}
	for _, tc := range []struct {
		name                          string
		listener, routes, cluster, ok bool
		want                          string
	}{
		{name: "all invalid", want: `listener "l"`},
		{name: "listener valid", listener: true, want: `route configuration ingress_http virtual host "b"`},
		{name: "only the cluster invalid", listener: true, routes: true, want: `cluster "c"`},
		{name: "all valid", listener: true, routes: true, cluster: true},
	} {
		res := &xds.Resources{Listeners: []*listenerv3.Listener{badListener()},
			Routes: []*routev3.RouteConfiguration{badHost()}, Clusters: []*clusterv3.Cluster{badCluster()}}
		if tc.listener {
			res.Listeners[0].FilterChains = nil
		}
		if tc.routes {
			res.Routes[0].VirtualHosts[1].Domains = []string{"b.com"}
		}
		if tc.cluster {
			res.Clusters[0].ConnectTimeout = durationpb.New(2e9)
		}
		err := validateResources(res, startValidation(routeValidationItems(res.Routes)))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want no error", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want+" is not valid")):
			t.Errorf("%s: error %v, want one about %s", tc.name, err, tc.want)
		}
	}
}
