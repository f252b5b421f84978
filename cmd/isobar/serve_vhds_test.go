package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/isobar-dev/isobar/internal/goldentest"
)

// TestServeFixturesVHDS runs `isobar serve --fixtures --vhds` on a folder
// with two insecure hosts: ingress_http arrives without virtual hosts and
// with a VHDS source naming the bootstrap's cluster; a VHDS stream gets
// both hosts; editing one HTTPProxy's weights sends that host alone; the
// metrics count the hosts and their revisions.
func TestServeFixturesVHDS(t *testing.T) {
	src, err := os.ReadFile(goldentest.Path("fixtures/seeds/talk-canary/input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(strings.Replace(strings.SplitN(string(src), "---", 2)[0],
		"name: demo", "name: other", 1), "fqdn: demo.projectcontour.io", "fqdn: other.projectcontour.io", 1)
	srv := startFixtureServe(t, map[string]string{"app.yaml": string(src), "other.yaml": other}, serveFlags{vhds: true, vhdsCluster: "contour"})
	file, ctx, conn, httpPort := filepath.Join(srv.dir, "app.yaml"), srv.ctx, srv.conn, srv.httpPort
	var vhds routeservice.VirtualHostDiscoveryService_DeltaVirtualHostsClient
	untilServed(t, func() (err error) {
		vhds, err = routeservice.NewVirtualHostDiscoveryServiceClient(conn).DeltaVirtualHosts(ctx)
		if err == nil {
			err = vhds.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.VirtualHostType, ResourceNamesSubscribe: []string{"ingress_http"}})
		}
		return err
	})
	// Each answer: the hosts it brings, by name, with their first cluster's weight.
	hosts := func(what string) map[string]uint32 {
		r, err := vhds.Recv()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := vhds.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
		out := map[string]uint32{}
		for _, res := range r.GetResources() {
			vh := &routev3.VirtualHost{}
			if err := res.GetResource().UnmarshalTo(vh); err != nil {
				t.Fatal(err)
			}
			if vh.GetName() != res.GetName() || !slices.Equal(vh.GetDomains(), []string{strings.TrimPrefix(res.GetName(), "ingress_http/")}) {
				t.Fatalf("%s: resource %s is host %s for %v", what, res.GetName(), vh.GetName(), vh.GetDomains())
			}
			out[res.GetName()] = vh.GetRoutes()[0].GetRoute().GetWeightedClusters().GetClusters()[0].GetWeight().GetValue()
		}
		return out
	}
	want := map[string]uint32{"ingress_http/demo.projectcontour.io": 90, "ingress_http/other.projectcontour.io": 90}
	if got := hosts("first answer"); !maps.Equal(got, want) {
		t.Fatalf("first answer %v, want %v", got, want)
	}

	ads, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ads.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNamesSubscribe: []string{"ingress_http"}}); err != nil {
		t.Fatal(err)
	}
	r, err := ads.Recv()
	if err != nil {
		t.Fatal(err)
	}
	rc := &routev3.RouteConfiguration{}
	if err := r.GetResources()[0].GetResource().UnmarshalTo(rc); err != nil {
		t.Fatal(err)
	}
	source := rc.GetVhds().GetConfigSource().GetApiConfigSource()
	if len(rc.GetVirtualHosts()) != 0 || source.GetApiType().String() != "DELTA_GRPC" ||
		source.GetGrpcServices()[0].GetEnvoyGrpc().GetClusterName() != "contour" {
		t.Fatalf("ingress_http: %d virtual hosts, vhds %v", len(rc.GetVirtualHosts()), rc.GetVhds())
	}

	edited := strings.Replace(strings.Replace(string(src), "weight: 90", "weight: 40", 1), "weight: 10", "weight: 60", 1)
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	want = map[string]uint32{"ingress_http/demo.projectcontour.io": 40}
	if got := hosts("after the edit"); !maps.Equal(got, want) {
		t.Fatalf("after the edit %v, want %v", got, want)
	}
	waitMetrics(t, httpPort, "two virtual hosts, the edit's acknowledged", func(m map[string]float64) bool {
		rev := m[`isobar_xds_revision{type="virtualhosts"}`]
		return m[`isobar_xds_resources{type="virtualhosts"}`] == 2 && rev >= 2 && m[`isobar_xds_acked_revision{type="virtualhosts"}`] == rev
	})
}
