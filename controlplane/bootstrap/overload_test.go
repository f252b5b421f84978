package bootstrap

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	downstreamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestContourOptions: the overload manager and DNS family of Contour's
// bootstrap flags, written out by hand, and their refusals.
func TestContourOptions(t *testing.T) {
	t.Parallel()
	o := Defaults()
	o.XDSAddress, o.DNSLookupFamily, o.MaxHeapBytes, o.MaxDownstreamConnections, o.ResourceVersion = "contour", "v4", 1<<31, 50000, "v3"
	b, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	trigger := func(at float64) []*overloadv3.Trigger {
		return []*overloadv3.Trigger{{Name: "envoy.resource_monitors.fixed_heap",
			TriggerOneof: &overloadv3.Trigger_Threshold{Threshold: &overloadv3.ThresholdTrigger{Value: at}}}}
	}
	want := &overloadv3.OverloadManager{
		RefreshInterval: durationpb.New(250e6),
		ResourceMonitors: []*overloadv3.ResourceMonitor{
			{Name: "envoy.resource_monitors.fixed_heap", ConfigType: &overloadv3.ResourceMonitor_TypedConfig{
				TypedConfig: pack(&fixedheapv3.FixedHeapConfig{MaxHeapSizeBytes: 1 << 31})}},
			{Name: "envoy.resource_monitors.global_downstream_max_connections", ConfigType: &overloadv3.ResourceMonitor_TypedConfig{
				TypedConfig: pack(&downstreamv3.DownstreamConnectionsConfig{MaxActiveDownstreamConnections: 50000})}},
		},
		Actions: []*overloadv3.OverloadAction{
			{Name: "envoy.overload_actions.shrink_heap", Triggers: trigger(0.95)},
			{Name: "envoy.overload_actions.stop_accepting_requests", Triggers: trigger(0.98)},
		},
	}
	if d := cmp.Diff(want, b.GetOverloadManager(), protocmp.Transform()); d != "" {
		t.Errorf("overload manager (-want +got):\n%s", d)
	}
	if f := b.GetStaticResources().GetClusters()[0].GetDnsLookupFamily(); f != clusterv3.Cluster_V4_ONLY {
		t.Errorf("xDS cluster DNS family %v, want V4_ONLY", f)
	}
	if b, _ := Build(Defaults()); b.GetOverloadManager() != nil {
		t.Errorf("no limit: an overload manager %v", b.GetOverloadManager())
	}
	for field, bad := range map[string]func(*Options){
		"dns-lookup-family":            func(o *Options) { o.DNSLookupFamily = "v5" },
		"overload-downstream-max-conn": func(o *Options) { o.MaxDownstreamConnections = -1 },
		"xds-resource-version":         func(o *Options) { o.ResourceVersion = "v2" },
	} {
		o := Defaults()
		bad(&o)
		if _, err := Build(o); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v", field, err)
		}
	}
}
