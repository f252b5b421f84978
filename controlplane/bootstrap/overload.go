package bootstrap

import (
	"fmt"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	downstreamv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Resource monitors of Envoy's overload manager, Contour's.
const (
	fixedHeapMonitor   = "envoy.resource_monitors.fixed_heap"
	connectionsMonitor = "envoy.resource_monitors.global_downstream_max_connections"
)

// overloadManager is Envoy's overload manager for o, as Contour's bootstrap
// writes it (nil when neither limit is set): with a heap limit, Envoy
// shrinks its heap at 95 % of it and stops accepting requests at 98 %;
// with a connection limit, it refuses downstream connections beyond it.
func overloadManager(o Options) *overloadv3.OverloadManager {
	if o.MaxHeapBytes == 0 && o.MaxDownstreamConnections == 0 {
		return nil
	}
	m := &overloadv3.OverloadManager{RefreshInterval: durationpb.New(250 * time.Millisecond)}
	if o.MaxHeapBytes > 0 {
		m.ResourceMonitors = append(m.ResourceMonitors, &overloadv3.ResourceMonitor{Name: fixedHeapMonitor,
			ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: mustAny(&fixedheapv3.FixedHeapConfig{MaxHeapSizeBytes: o.MaxHeapBytes})}})
		m.Actions = append(m.Actions, heapAction("envoy.overload_actions.shrink_heap", 0.95),
			heapAction("envoy.overload_actions.stop_accepting_requests", 0.98))
	}
	if o.MaxDownstreamConnections > 0 {
		m.ResourceMonitors = append(m.ResourceMonitors, &overloadv3.ResourceMonitor{Name: connectionsMonitor,
			ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: mustAny(&downstreamv3.DownstreamConnectionsConfig{
				MaxActiveDownstreamConnections: o.MaxDownstreamConnections})}})
	}
	return m
}

// heapAction is an overload action triggered at the given share of the
// heap limit.
func heapAction(name string, at float64) *overloadv3.OverloadAction {
	return &overloadv3.OverloadAction{Name: name, Triggers: []*overloadv3.Trigger{{Name: fixedHeapMonitor,
		TriggerOneof: &overloadv3.Trigger_Threshold{Threshold: &overloadv3.ThresholdTrigger{Value: at}}}}}
}

// dnsLookupFamilies are the values of Options.DNSLookupFamily, Contour's
// names.
var dnsLookupFamilies = map[string]clusterv3.Cluster_DnsLookupFamily{
	"": clusterv3.Cluster_AUTO, "auto": clusterv3.Cluster_AUTO, "v4": clusterv3.Cluster_V4_ONLY,
	"v6": clusterv3.Cluster_V6_ONLY, "all": clusterv3.Cluster_ALL,
}

// checkContourOptions refuses the settings of Contour's bootstrap that
// are not valid: the DNS lookup family, the connection limit and the xDS
// resource version (only v3 exists).
func checkContourOptions(o Options) error {
	if _, ok := dnsLookupFamilies[o.DNSLookupFamily]; !ok {
		return fmt.Errorf("dns-lookup-family %q: must be auto, v4, v6 or all", o.DNSLookupFamily)
	}
	if o.MaxDownstreamConnections < 0 {
		return fmt.Errorf("overload-downstream-max-conn %d: must not be negative", o.MaxDownstreamConnections)
	}
	if o.ResourceVersion != "" && o.ResourceVersion != "v3" {
		return fmt.Errorf("xds-resource-version %q: only v3 is served", o.ResourceVersion)
	}
	return nil
}
