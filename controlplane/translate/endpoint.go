package translate

import (
	"cmp"
	"fmt"
	"k8s.io/apimachinery/pkg/types"
	"slices"
	"sort"
	"strings"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// FindingEndpointSource says a Service has both EndpointSlices and Endpoints
// and which one was used.
const FindingEndpointSource = "EndpointSourceChoice"

// endpoints builds one ClusterLoadAssignment per EDS cluster; clusterNames
// are the registered clusters, sorted.
func (t *translator) endpoints(clusterNames []string) []*endpointv3.ClusterLoadAssignment {
	seen := map[string]bool{}
	noted := map[types.NamespacedName]bool{}
	var todo []*graph.Cluster
	var services []types.NamespacedName // each Service once, for its findings
	for _, name := range clusterNames {
		c := t.clusters[name]
		if c.ExternalName != "" {
			continue
		}
		eds := ClusterEDSName(c)
		if seen[eds] {
			continue
		}
		seen[eds] = true
		todo = append(todo, c)
		if c.Extension == nil { // the common case, without allocating
			services = noteService(noted, services, types.NamespacedName{Namespace: c.Namespace, Name: c.Service})
			continue
		}
		for _, svc := range ClusterServices(c) {
			services = noteService(noted, services, types.NamespacedName{Namespace: c.Namespace, Name: svc})
		}
	}
	// Each assignment and each Service's findings only read the index:
	// they are built on every CPU, and the findings kept in order.
	out := make([]*endpointv3.ClusterLoadAssignment, len(todo))
	parallel.For(len(todo), minParallelHosts, func(i int) {
		c := todo[i]
		out[i] = ClusterEndpoints(t.idx, c)
	})
	found := make([][]status.Finding, len(services))
	parallel.For(len(services), minParallelHosts, func(i int) {
		found[i] = EndpointFindings(t.idx, services[i].Namespace, services[i].Name)
	})
	for _, fs := range found {
		t.findings = append(t.findings, fs...)
	}
	return out
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
	if _, both := idx.Endpoints[key]; !both || len(idx.EndpointSlices[key]) == 0 {
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
// ready, non-terminating addresses are listed, sorted. A Service with no
// endpoints gets an empty assignment, so every EDS cluster has one. The
// live control plane calls it directly for endpoint-only changes.
func ClusterLoadAssignment(idx *source.Index, namespace, service string, port corev1.ServicePort) *endpointv3.ClusterLoadAssignment {
	name := EDSName(namespace, service, port.Name, port.Port)
	key := source.Key(namespace, service)
	var addrs []hostPort
	if slices := idx.EndpointSlices[key]; len(slices) > 0 {
		addrs = sliceAddresses(slices, port)
	} else if ep, ok := idx.Endpoints[key]; ok {
		addrs = endpointsAddresses(ep, port)
	}
	slices.SortFunc(addrs, func(a, b hostPort) int {
		if c := strings.Compare(a.host, b.host); c != 0 {
			return c
		}
		return cmp.Compare(a.port, b.port)
	})
	unique := make([]envoy.HostPort, 0, len(addrs))
	for i, a := range addrs {
		if i == 0 || a != addrs[i-1] {
			unique = append(unique, envoy.HostPort{Host: a.host, Port: a.port})
		}
	}
	return envoy.ClusterLoadAssignment(name, envoy.LbEndpoints(unique))
}

// healthCheckedEndpoints is the assignment of a cluster whose health
// checks go to another Service port (c.HealthPort): its Service port's
// endpoints, each with health_check_config.port_value set to the port the
// same address serves the health port on, as Contour sets it; an address
// without one keeps the traffic port for its checks.
func healthCheckedEndpoints(idx *source.Index, c *graph.Cluster) *endpointv3.ClusterLoadAssignment {
	cla := ClusterLoadAssignment(idx, c.Namespace, c.Service, c.Port)
	cla.ClusterName = ClusterEDSName(c)
	health := ClusterLoadAssignment(idx, c.Namespace, c.Service, *c.HealthPort)
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

type hostPort struct {
	host string
	port uint32
}

// portMatches reports whether an endpoint port (name, number) serves the
// Service port sp: by name, or the only port when the Service port is
// unnamed.
func portMatches(sp corev1.ServicePort, name string) bool {
	return sp.Name == name
}

func sliceAddresses(slices map[string]*discoveryv1.EndpointSlice, sp corev1.ServicePort) []hostPort {
	var out []hostPort
	for _, s := range slices {
		if s.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		for i := range s.Ports {
			p := &s.Ports[i]
			name := ""
			if p.Name != nil {
				name = *p.Name
			}
			if !portMatches(sp, name) || p.Port == nil || !portNumber(*p.Port) {
				continue
			}
			if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
				continue
			}
			for i := range s.Endpoints {
				e := &s.Endpoints[i] // not a copy: an Endpoint is large
				if e.Conditions.Ready != nil && !*e.Conditions.Ready {
					continue
				}
				if e.Conditions.Terminating != nil && *e.Conditions.Terminating {
					continue
				}
				for _, a := range e.Addresses {
					if upstream(a) {
						out = append(out, hostPort{a, uint32(*p.Port)})
					}
				}
			}
		}
	}
	return out
}

func endpointsAddresses(ep *corev1.Endpoints, sp corev1.ServicePort) []hostPort {
	var out []hostPort
	for _, sub := range ep.Subsets {
		for _, p := range sub.Ports {
			if !portMatches(sp, p.Name) || (p.Protocol != "" && p.Protocol != corev1.ProtocolTCP) || !portNumber(p.Port) {
				continue
			}
			for i := range sub.Addresses {
				if a := &sub.Addresses[i]; upstream(a.IP) {
					out = append(out, hostPort{a.IP, uint32(p.Port)})
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
