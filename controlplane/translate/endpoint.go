package translate

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// FindingEndpointSource says a Service has both EndpointSlices and Endpoints
// and which one was used.
const FindingEndpointSource = "EndpointSourceChoice"

// endpoints builds one ClusterLoadAssignment per EDS cluster; keys are
// those of the registered clusters, in the order of their names.
func (t *translator) endpoints(keys []edsKey) []*endpointv3.ClusterLoadAssignment {
	todo, services := edsClusters(keys)
	// Each assignment and each Service's findings only read the index:
	// they are built on every CPU, a Service's findings with the first
	// assignment that reads it (its objects are then in the cache), and
	// the findings kept in order.
	out := make([]*endpointv3.ClusterLoadAssignment, len(todo))
	found := make([][]status.Finding, len(todo))
	parallel.For(len(todo), minParallelHosts, func(i int) {
		e := todo[i]
		out[i] = clusterAssignment(t.idx, e.c, e.name)
		from := 0
		if i > 0 {
			from = todo[i-1].services
		}
		for _, svc := range services[from:e.services] {
			found[i] = append(found[i], EndpointFindings(t.idx, svc.Namespace, svc.Name)...)
		}
	})
	for _, fs := range found {
		t.findings = append(t.findings, fs...)
	}
	return out
}

// edsCluster is an EDS cluster whose assignment is built, with its name;
// services[todo[i-1].services:todo[i].services] are the Services it is the
// first to read.
type edsCluster struct {
	c        *graph.Cluster
	name     string
	services int
}

// edsKey is what planning a cluster's assignment reads of it, taken while
// its resource is built on every CPU (the plan is made on one): the
// cluster, its assignment's name (ClusterEDSName, which clusterResource
// gave it; "" for a cluster without one) and, unless it is an extension's,
// its Service.
type edsKey struct {
	c         *graph.Cluster
	name      string
	svc       types.NamespacedName
	extension bool
}

// edsKeyOf is the edsKey of c, whose resource is r.
func edsKeyOf(c *graph.Cluster, r *clusterv3.Cluster) edsKey {
	if c.ExternalName != "" {
		return edsKey{}
	}
	return edsKey{c: c, name: r.GetEdsClusterConfig().GetServiceName(),
		svc: types.NamespacedName{Namespace: c.Namespace, Name: c.Service}, extension: c.Extension != nil}
}

// edsClusters lists the EDS clusters of keys, one per assignment name (the
// first), and the Services they read, each once, in the order of the first
// cluster that reads it.
func edsClusters(keys []edsKey) ([]edsCluster, []types.NamespacedName) {
	seen := make(map[string]bool, len(keys))
	noted := make(map[types.NamespacedName]bool, len(keys))
	todo := make([]edsCluster, 0, len(keys))
	services := make([]types.NamespacedName, 0, len(keys))
	for _, k := range keys {
		if k.c == nil || seen[k.name] {
			continue
		}
		seen[k.name] = true
		if !k.extension { // the common case, without allocating
			services = noteService(noted, services, k.svc)
		} else {
			for _, svc := range ClusterServices(k.c) {
				services = noteService(noted, services, types.NamespacedName{Namespace: k.c.Namespace, Name: svc})
			}
		}
		todo = append(todo, edsCluster{c: k.c, name: k.name, services: len(services)})
	}
	return todo, services
}

// clusterAssignment is ClusterEndpoints(idx, c), named name
// (ClusterEDSName(c), computed once by the caller).
func clusterAssignment(idx *source.Index, c *graph.Cluster, name string) *endpointv3.ClusterLoadAssignment {
	if c.Extension != nil || c.HealthPort != nil {
		return ClusterEndpoints(idx, c)
	}
	return assignment(idx, name, c.Namespace, c.Service, c.Port)
}

// noteService appends svc to services unless noted has it.
func noteService(noted map[types.NamespacedName]bool, services []types.NamespacedName, svc types.NamespacedName) []types.NamespacedName {
	if noted[svc] {
		return services
	}
	noted[svc] = true
	return append(services, svc)
}

// EndpointSourceFinding returns the finding that says which endpoint source
// a Service routed to uses, when it has both EndpointSlices and a v1
// Endpoints object.
func EndpointSourceFinding(idx *source.Index, namespace, service string) (status.Finding, bool) {
	key := source.Key(namespace, service)
	if _, both := idx.Endpoints[key]; !both {
		return status.Finding{}, false
	}
	if eps, _ := idx.EndpointSlices.Get(key); len(eps) == 0 {
		return status.Finding{}, false
	}
	return status.Finding{
		Code: FindingEndpointSource, Severity: status.SeverityInfo,
		Objects: []status.Ref{{Kind: status.KindService, Namespace: namespace, Name: service}},
		Message: fmt.Sprintf("Service %s/%s has both EndpointSlices and a v1 Endpoints object; the EndpointSlices are used", namespace, service),
	}, true
}

// ClusterLoadAssignment builds the endpoints of one Service port: from its
// EndpointSlices when it has any, otherwise from its v1 Endpoints. Only
// ready addresses (a slice's endpoints whose ready condition is true or
// unknown) are listed, sorted. As in Contour, the terminating condition
// does not count: Kubernetes clears ready when a pod terminates, unless its
// Service publishes not-ready addresses, whose terminating pods stay
// listed as the Endpoints of such a Service list them. A Service with no
// endpoints gets an empty assignment, so every EDS cluster has one. The
// live control plane calls it directly for endpoint-only changes.
func ClusterLoadAssignment(idx *source.Index, namespace, service string, port corev1.ServicePort) *endpointv3.ClusterLoadAssignment {
	return assignment(idx, EDSName(namespace, service, port.Name), namespace, service, port)
}

// assignment is ClusterLoadAssignment, named name.
func assignment(idx *source.Index, name, namespace, service string, port corev1.ServicePort) *endpointv3.ClusterLoadAssignment {
	key := source.Key(namespace, service)
	var buf [16]envoy.HostPort // most Service ports have a few endpoints: no allocation
	addrs := buf[:0]
	if eps, _ := idx.EndpointSlices.Get(key); len(eps) > 0 {
		addrs = sliceAddresses(addrs, eps, port)
	} else if ep, ok := idx.Endpoints[key]; ok {
		addrs = endpointsAddresses(addrs, ep, port)
	}
	slices.SortFunc(addrs, func(a, b envoy.HostPort) int {
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		return cmp.Compare(a.Port, b.Port)
	})
	return envoy.ClusterLoadAssignment(name, envoy.LbEndpoints(slices.Compact(addrs)))
}

// healthCheckedEndpoints is the assignment of a cluster whose health
// checks go to another Service port (c.HealthPort): its Service port's
// endpoints, each with health_check_config.port_value set to the port the
// same address serves the health port on, as Contour sets it; an address
// without one keeps the traffic port for its checks.
func healthCheckedEndpoints(idx *source.Index, c *graph.Cluster) *endpointv3.ClusterLoadAssignment {
	cla := assignment(idx, ClusterEDSName(c), c.Namespace, c.Service, c.Port)
	health := assignment(idx, "", c.Namespace, c.Service, *c.HealthPort) // only its ports are read
	ports := map[string]uint32{}
	for _, loc := range health.GetEndpoints() {
		for _, lb := range loc.GetLbEndpoints() {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			if _, ok := ports[sa.GetAddress()]; !ok {
				ports[sa.GetAddress()] = sa.GetPortValue() // the lowest: addresses are sorted
			}
		}
	}
	for _, loc := range cla.GetEndpoints() {
		for _, lb := range loc.GetLbEndpoints() {
			ep := lb.GetEndpoint()
			if port, ok := ports[ep.GetAddress().GetSocketAddress().GetAddress()]; ok {
				ep.HealthCheckConfig = &endpointv3.Endpoint_HealthCheckConfig{PortValue: port}
			}
		}
	}
	return cla
}

// portMatches reports whether an endpoint port (name, number) serves the
// Service port sp: by name, or the only port when the Service port is
// unnamed.
func portMatches(sp corev1.ServicePort, name string) bool {
	return sp.Name == name
}

// sliceAddresses appends to out the ready addresses of slices that serve
// sp, with their ports.
func sliceAddresses(out []envoy.HostPort, slices []*source.EndpointSlice, sp corev1.ServicePort) []envoy.HostPort {
	for _, s := range slices {
		if s.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		for _, p := range s.Ports {
			if !portMatches(sp, p.Name) || !p.HasPort || !portNumber(p.Port) {
				continue
			}
			if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
				continue
			}
			for _, e := range s.Endpoints {
				if e.Ready == source.ConditionFalse {
					continue
				}
				for _, a := range e.Addresses {
					if upstream(a) {
						out = append(out, envoy.HostPort{Host: a, Port: uint32(p.Port)})
					}
				}
			}
		}
	}
	return out
}

// endpointsAddresses appends to out the ready addresses of ep that serve
// sp, with their ports.
func endpointsAddresses(out []envoy.HostPort, ep *corev1.Endpoints, sp corev1.ServicePort) []envoy.HostPort {
	for _, sub := range ep.Subsets {
		for _, p := range sub.Ports {
			if !portMatches(sp, p.Name) || (p.Protocol != "" && p.Protocol != corev1.ProtocolTCP) || !portNumber(p.Port) {
				continue
			}
			for i := range sub.Addresses {
				if a := &sub.Addresses[i]; upstream(a.IP) {
					out = append(out, envoy.HostPort{Host: a.IP, Port: uint32(p.Port)})
				}
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
