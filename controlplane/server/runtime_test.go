package server

import (
	"context"
	"strings"
	"testing"
	"time"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	runtimev3 "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	envoyconf "github.com/isobar-dev/isobar/controlplane/envoy"
)

// testLayer is a runtime layer with one setting of a user's.
func testLayer(t *testing.T) *runtimev3.Runtime {
	t.Helper()
	layer, _ := envoyconf.RuntimeLayer(envoyconf.RuntimeOptions{MaxRequestsPerIOCycle: 7, Settings: map[string]string{"envoy.reloadable_features.x": "false"}})
	return layer
}

// TestRuntimeStateOfTheWorld: an Envoy started from Contour's bootstrap asks
// for the runtime layer "dynamic" on its ADS stream, with the other types.
// It gets the layer (and the stream goes on serving clusters); before, the
// request closed the whole stream with InvalidArgument.
func TestRuntimeStateOfTheWorld(t *testing.T) {
	res := compiled(t, "fixtures/seeds/tls-delegation-wildcard")
	want := testLayer(t)
	_, conn := startWith(t, Options{Runtime: want}, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ads, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := pump(ads.Recv)
	if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.RuntimeType, ResourceNames: []string{envoyconf.RuntimeLayerName}}); err != nil {
		t.Fatal(err)
	}
	r, ok := in.next(t, 5*time.Second)
	if !ok {
		t.Fatal("no runtime layer")
	}
	if r.GetTypeUrl() != resourcev3.RuntimeType || len(r.GetResources()) != 1 {
		t.Fatalf("got %d resources of %s, want the runtime layer", len(r.GetResources()), r.GetTypeUrl())
	}
	var got runtimev3.Runtime
	if err := r.GetResources()[0].UnmarshalTo(&got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, &got, protocmp.Transform()); d != "" {
		t.Fatalf("runtime layer (-want +got):\n%s", d)
	}
	if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.RuntimeType, ResourceNames: []string{envoyconf.RuntimeLayerName},
		VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()}); err != nil {
		t.Fatal(err)
	}
	if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	r, ok = in.next(t, 5*time.Second)
	if !ok || r.GetTypeUrl() != resourcev3.ClusterType || len(r.GetResources()) != len(res.Clusters) {
		t.Fatalf("after the runtime layer: %v %s with %d resources, want the %d clusters", ok, r.GetTypeUrl(), len(r.GetResources()), len(res.Clusters))
	}
}

// TestRuntimeDelta: incremental ADS (Isobar's bootstrap) and the RTDS
// service get the layer too; a server without one refuses the type.
func TestRuntimeDelta(t *testing.T) {
	res := compiled(t, "fixtures/seeds/tls-delegation-wildcard")
	want := testLayer(t)
	_, conn := startWith(t, Options{Runtime: want}, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ads, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := ads.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.RuntimeType, ResourceNamesSubscribe: []string{envoyconf.RuntimeLayerName}}); err != nil {
		t.Fatal(err)
	}
	r, err := ads.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.GetResources()) != 1 || r.GetResources()[0].GetName() != envoyconf.RuntimeLayerName {
		t.Fatalf("delta ADS: got %v, want the runtime layer", summary(r))
	}
	var got runtimev3.Runtime
	if err := r.GetResources()[0].GetResource().UnmarshalTo(&got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, &got, protocmp.Transform()); d != "" {
		t.Fatalf("runtime layer (-want +got):\n%s", d)
	}

	rtds, err := runtimev3.NewRuntimeDiscoveryServiceClient(conn).StreamRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rtds.Send(&discoverygrpc.DiscoveryRequest{ResourceNames: []string{envoyconf.RuntimeLayerName}}); err != nil {
		t.Fatal(err)
	}
	sr, err := rtds.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(sr.GetResources()) != 1 {
		t.Fatalf("RTDS: %d resources, want 1", len(sr.GetResources()))
	}

	_, bare := start(t, res)
	plain, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(bare).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.RuntimeType, ResourceNames: []string{envoyconf.RuntimeLayerName}}); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Recv(); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "Runtime") {
		t.Fatalf("a server without a runtime layer answered %v, want InvalidArgument naming the type", err)
	}
}

// TestCheckRuntime: a layer without a name, or with text that is not
// UTF-8, is refused before serving.
func TestCheckRuntime(t *testing.T) {
	if err := CheckRuntime(testLayer(t)); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*runtimev3.Runtime{
		"no name": {Layer: &structpb.Struct{}},
		"not UTF-8": {Name: "dynamic", Layer: &structpb.Struct{Fields: map[string]*structpb.Value{
			"k": structpb.NewStringValue("\xff")}}},
	} {
		if err := CheckRuntime(r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSotWTypesAreSelected: serve selects on each of sotwTypes' channels
// by hand; a type added to one and not the other is never answered.
func TestSotWTypesAreSelected(t *testing.T) {
	if len(sotwTypes) != maxTypes {
		t.Fatalf("%d state-of-the-world types, maxTypes %d", len(sotwTypes), maxTypes)
	}
}
