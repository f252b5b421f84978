package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/isobar-dev/isobar/internal/goldentest"
)

// TestServeFixturesFallback: serve with --fallback-certificate sends
// ingress_fallbackcert with the hosts that enabled it, and editing one of
// them out (an update that reaches such a host) sends it again without.
func TestServeFixturesFallback(t *testing.T) {
	src, err := os.ReadFile(goldentest.Path("fixtures/httpproxy-fallback-certificate/input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := startFixtureServe(t, map[string]string{"app.yaml": string(src)}, serveFlags{compile: compileFlags{fallbackCertificate: "certs/fallback"}})
	file, ctx, conn := filepath.Join(srv.dir, "app.yaml"), srv.ctx, srv.conn
	var ads discoverygrpc.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	untilServed(t, func() (err error) {
		ads, err = discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
		if err == nil {
			err = ads.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNamesSubscribe: []string{"ingress_fallbackcert"}})
		}
		return err
	})
	hosts := func(what string) []string {
		r, err := ads.Recv()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if err := ads.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
		if len(r.GetResources()) != 1 || r.GetResources()[0].GetName() != "ingress_fallbackcert" {
			t.Fatalf("%s: got %d resources, want ingress_fallbackcert", what, len(r.GetResources()))
		}
		var rc routev3.RouteConfiguration
		if err := r.GetResources()[0].GetResource().UnmarshalTo(&rc); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, vh := range rc.GetVirtualHosts() {
			out = append(out, vh.GetName())
		}
		return out
	}
	if got := hosts("first answer"); !slices.Equal(got, []string{"blog.example.com", "shop.example.com"}) {
		t.Fatalf("first answer: hosts %v", got)
	}
	edited := strings.Replace(string(src), "tls: {secretName: app-cert, enableFallbackCertificate: true}\n  routes:\n  - conditions: [{prefix: /posts}]",
		"tls: {secretName: app-cert}\n  routes:\n  - conditions: [{prefix: /posts}]", 1)
	if edited == string(src) {
		t.Fatal("the fixture changed: blog's tls block was not found")
	}
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := hosts("after blog dropped it"); !slices.Equal(got, []string{"shop.example.com"}) {
		t.Fatalf("after the edit: hosts %v", got)
	}
}
