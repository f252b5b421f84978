package translate

import (
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// ClusterServices are the names of the Services (of c's namespace) whose
// endpoints EDS cluster c balances over: its Service, or an
// ExtensionService's targets.
func ClusterServices(c *graph.Cluster) []string {
	x := c.Extension
	if x == nil {
		return []string{c.Service}
	}
	out := make([]string, 0, len(x.Targets))
	for _, t := range x.Targets {
		out = append(out, t.Service)
	}
	return out
}

// ClusterEndpoints is the ClusterLoadAssignment of EDS cluster c (named
// ClusterEDSName(c)): that of its Service port, or for an
// ExtensionService's cluster one locality per target Service with
// endpoints, weighted by the target's weight (Contour's; every target
// weighs 1 when no weight is set). The live control plane calls it for
// endpoint-only changes.
func ClusterEndpoints(idx *source.Index, c *graph.Cluster) *endpointv3.ClusterLoadAssignment {
	x := c.Extension
	if x == nil && c.HealthPort != nil {
		return healthCheckedEndpoints(idx, c)
	}
	if x == nil {
		return ClusterLoadAssignment(idx, c.Namespace, c.Service, c.Port)
	}
	var sum uint32
	for _, t := range x.Targets {
		sum += t.Weight
	}
	out := &endpointv3.ClusterLoadAssignment{ClusterName: ClusterEDSName(c)}
	for _, t := range x.Targets {
		eps := ClusterLoadAssignment(idx, c.Namespace, t.Service, t.Port).GetEndpoints()
		if len(eps) == 0 {
			continue
		}
		loc := &endpointv3.LocalityLbEndpoints{LbEndpoints: eps[0].GetLbEndpoints()}
		switch {
		case sum == 0:
			loc.LoadBalancingWeight = wrapperspb.UInt32(1)
		case t.Weight > 0:
			loc.LoadBalancingWeight = wrapperspb.UInt32(t.Weight)
		}
		out.Endpoints = append(out.Endpoints, loc)
	}
	return out
}
