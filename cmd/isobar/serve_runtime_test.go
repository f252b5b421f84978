package main

import (
	"os"
	"strings"
	"testing"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	runtimev3 "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/isobar-dev/isobar/internal/goldentest"
)

// TestServeRuntimeLayer: an Envoy started from Contour's bootstrap asks,
// on its state-of-the-world ADS stream, for the runtime layer "dynamic"
// and gets RE2's limits as Contour sets them, the listener limits and the
// operator's settings (not those over a managed key); then the rest of
// its configuration on the same stream.
func TestServeRuntimeLayer(t *testing.T) {
	src, err := os.ReadFile(goldentest.Path("fixtures/seeds/talk-canary/input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := startFixtureServe(t, map[string]string{"app.yaml": string(src)}, serveFlags{runtime: runtimeFlags{
		maxRequestsPerIOCycle: 10, maxConnectionsPerListener: 50,
		settings: []string{"envoy.reloadable_features.strict_thing=false", "re2.max_program_size.error_level=5"}}})
	var ads discoverygrpc.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	untilServed(t, func() (err error) {
		ads, err = discoverygrpc.NewAggregatedDiscoveryServiceClient(srv.conn).StreamAggregatedResources(srv.ctx)
		if err == nil {
			err = ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.RuntimeType, ResourceNames: []string{"dynamic"}})
		}
		if err == nil {
			_, err = ads.Header() // the port is open
		}
		return err
	})
	r, err := ads.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if r.GetTypeUrl() != resourcev3.RuntimeType || len(r.GetResources()) != 1 {
		t.Fatalf("got %d resources of %s, want the runtime layer", len(r.GetResources()), r.GetTypeUrl())
	}
	var got runtimev3.Runtime
	if err := r.GetResources()[0].UnmarshalTo(&got); err != nil {
		t.Fatal(err)
	}
	num := structpb.NewNumberValue
	want := &runtimev3.Runtime{Name: "dynamic", Layer: &structpb.Struct{Fields: map[string]*structpb.Value{
		"re2.max_program_size.error_level":                              num(1 << 20),
		"re2.max_program_size.warn_level":                               num(1000),
		"http.max_requests_per_io_cycle":                                num(10),
		"envoy.resource_limits.listener.ingress_http.connection_limit":  num(50),
		"envoy.resource_limits.listener.ingress_https.connection_limit": num(50),
		"envoy.reloadable_features.strict_thing":                        structpb.NewStringValue("false"),
	}}}
	if d := cmp.Diff(want, &got, protocmp.Transform()); d != "" {
		t.Fatalf("runtime layer (-want +got):\n%s", d)
	}
	if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ListenerType}); err != nil {
		t.Fatal(err)
	}
	if r, err = ads.Recv(); err != nil || r.GetTypeUrl() != resourcev3.ListenerType || len(r.GetResources()) == 0 {
		t.Fatalf("listeners after the runtime layer: %v, %d of %s", err, len(r.GetResources()), r.GetTypeUrl())
	}
}

// TestServeRuntimeSettingRefused: a setting that is not KEY=VALUE stops
// serve before anything starts, naming the flag.
func TestServeRuntimeSettingRefused(t *testing.T) {
	_, stderr, code := run(t, "", "serve", "--fixtures", t.TempDir(), "--insecure", "--runtime-setting", "no-value")
	if code != exitBadInput || !strings.Contains(stderr, `--runtime-setting "no-value": want KEY=VALUE`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
