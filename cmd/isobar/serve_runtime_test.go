package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	runtimev3 "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/isobar-dev/isobar/controlplane/bootstrap"
	"github.com/isobar-dev/isobar/internal/goldentest"
)

// TestServeRuntimeLayer: an Envoy started from Contour's bootstrap asks,
// on its state-of-the-world ADS stream, for the runtime layer "dynamic"
// and gets RE2's limits as Contour sets them, the listener limits and the
// operator's settings (not those over a managed key); then its listeners
// on the same stream, the stats listener included.
func TestServeRuntimeLayer(t *testing.T) {
	src, err := os.ReadFile(goldentest.Path("fixtures/seeds/talk-canary/input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := startFixtureServe(t, map[string]string{"app.yaml": string(src)}, serveFlags{runtime: runtimeFlags{
		maxRequestsPerIOCycle: 10, maxConnectionsPerListener: 50,
		settings: []string{"envoy.reloadable_features.strict_thing=false", "re2.max_program_size.error_level=5"}},
		stats: statsFlags{address: "0.0.0.0", port: 8002}})
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
	// Contour's bootstrap has no stats listener: it comes over LDS, on
	// --stats-address:--stats-port, to the bootstrap's envoy-admin cluster.
	var stats *listenerv3.Listener
	for _, a := range r.GetResources() {
		var l listenerv3.Listener
		if err := a.UnmarshalTo(&l); err != nil {
			t.Fatal(err)
		}
		if l.GetName() == "stats-health" {
			stats = &l
		}
	}
	if a := stats.GetAddress().GetSocketAddress(); a.GetAddress() != "0.0.0.0" || a.GetPortValue() != 8002 {
		t.Fatalf("stats listener %v, want stats-health on 0.0.0.0:8002", stats)
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

// TestStatsListeners: one stats-health listener, or, when the statistics
// listen elsewhere (Contour's metrics.envoy), "stats" for them and
// "health" for readiness on --stats-address:--stats-port; none with port
// 0; an address that is not an IP is refused.
func TestStatsListeners(t *testing.T) {
	for _, c := range []struct {
		f    statsFlags
		want []string // name@address:port
		err  string
	}{
		{f: statsFlags{address: "0.0.0.0", port: 8002}, want: []string{"stats-health@0.0.0.0:8002"}},
		{f: statsFlags{address: "0.0.0.0", port: 8002, metricsPort: 8002}, want: []string{"stats-health@0.0.0.0:8002"}},
		{f: statsFlags{address: "0.0.0.0", port: 8002, metricsAddress: "::", metricsPort: 9102},
			want: []string{"stats@:::9102", "health@0.0.0.0:8002"}},
		{f: statsFlags{address: "0.0.0.0"}},
		{f: statsFlags{address: "0.0.0.0", port: 8002, omAddress: "0.0.0.0", omPort: 8003},
			want: []string{"stats-health@0.0.0.0:8002", "health-om-enforced@0.0.0.0:8003"}},
		{f: statsFlags{omAddress: "0.0.0.0", omPort: 8003}, want: []string{"health-om-enforced@0.0.0.0:8003"}},
		{f: statsFlags{address: "0.0.0.0", port: 8002, omAddress: "0.0.0.0", omPort: 8002}, err: "address"},
		{f: statsFlags{address: "envoy", port: 8002}, err: `--stats-address "envoy" is not an IP address`},
		{f: statsFlags{address: "0.0.0.0", port: 8002, adminPort: 9001}, want: []string{"stats-health@0.0.0.0:8002", "envoy-admin@127.0.0.1:9001"}},
		{f: statsFlags{address: "127.0.0.1", port: 9001, adminPort: 9001}, err: "address"},
		{f: statsFlags{address: "0.0.0.0", port: 8002, metricsPort: 8003, metricsTLS: bootstrap.StatsTLS{CertFile: "/c/tls.crt", KeyFile: "/c/tls.key"}},
			want: []string{"stats@0.0.0.0:8003", "health@0.0.0.0:8002"}},
		{f: statsFlags{address: "0.0.0.0", port: 8002, metricsTLS: bootstrap.StatsTLS{CertFile: "/c/tls.crt", KeyFile: "/c/tls.key"}}, err: "own port"},
		{f: statsFlags{address: "0.0.0.0", port: 8002, metricsPort: 8003, metricsTLS: bootstrap.StatsTLS{CertFile: "/c/tls.crt"}}, err: "both a certificate and a key"},
	} {
		ls, err := c.f.listeners()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: error %v, want %q", c.f, err, c.err)
			}
			continue
		}
		var got []string
		for _, l := range ls {
			a := l.GetAddress().GetSocketAddress()
			got = append(got, fmt.Sprintf("%s@%s:%d", l.GetName(), a.GetAddress(), a.GetPortValue()))
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%+v: %v, %v; want %v", c.f, got, err, c.want)
		}
		for _, l := range ls {
			if tls := l.GetFilterChains()[0].GetTransportSocket() != nil; tls != (c.f.metricsTLS.Enabled() && l.GetName() == "stats") {
				t.Errorf("%+v: listener %s over TLS: %v", c.f, l.GetName(), tls)
			}
		}
	}
}
