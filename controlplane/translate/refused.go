package translate

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// FindingEndpointAddress says endpoint addresses of a Service were left out
// because Envoy must never be sent there (see graph.NeverUpstream).
const FindingEndpointAddress = "EndpointAddressNotAllowed"

// FindingEndpointPort says an endpoint port of a Service is not a port
// number, so the endpoints behind it were left out.
const FindingEndpointPort = "EndpointPortNotValid"

// EndpointFinding reports whether code is one of the findings EndpointFindings
// gives: they belong to a Service, not to a translation.
func EndpointFinding(code string) bool {
	return code == FindingEndpointSource || code == FindingEndpointAddress || code == FindingEndpointPort
}

// portNumber reports whether an endpoint port is a TCP port number (the
// API server checks it; manifests read offline are not checked).
func portNumber(p int32) bool { return p >= 1 && p <= 65535 }

// EndpointFindings returns what a Service that routes use has to say about
// its endpoints: which source is used when it has both EndpointSlices and
// Endpoints, and the addresses and ports left out. It allocates nothing
// when there is nothing to say (the common case).
func EndpointFindings(idx *source.Index, namespace, service string) []status.Finding {
	var out []status.Finding
	if f, ok := EndpointSourceFinding(idx, namespace, service); ok {
		out = append(out, f)
	}
	addrs, ports := endpointOffenses(idx, namespace, service)
	if len(addrs.values) > 0 {
		out = append(out, status.Finding{
			Code: FindingEndpointAddress, Severity: status.SeverityWarning, Objects: addrs.objects,
			Message: fmt.Sprintf("Service %s/%s: endpoint addresses %s are unspecified, loopback or link-local; "+
				"Envoy is never sent there (they reach Envoy itself, its node or the cloud's metadata service), so they are left out",
				namespace, service, strings.Join(addrs.values, ", ")),
		})
	}
	if len(ports.values) > 0 {
		out = append(out, status.Finding{
			Code: FindingEndpointPort, Severity: status.SeverityWarning, Objects: ports.objects,
			Message: fmt.Sprintf("Service %s/%s: endpoint ports %s are not port numbers (1–65535); the endpoints behind them are left out",
				namespace, service, strings.Join(ports.values, ", ")),
		})
	}
	return out
}

// upstream reports whether s is an IP address Envoy may be sent to.
func upstream(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && !graph.NeverUpstream(a)
}

// neverUpstream reports whether s is an IP address graph.NeverUpstream
// refuses. Assignments parsed every address already: an IPv4 address is
// only parsed again when its first octets could make it refused.
func neverUpstream(s string) bool {
	if !strings.Contains(s, ":") && !strings.HasPrefix(s, "127.") && !strings.HasPrefix(s, "0.") &&
		!strings.HasPrefix(s, "169.254.") && !strings.HasPrefix(s, "224.0.0.") {
		return false
	}
	a, err := netip.ParseAddr(s)
	return err == nil && graph.NeverUpstream(a)
}

// offense is one kind of value left out of a Service's assignments: the
// values (sorted, without repeats) and the objects holding them (sorted,
// with the Service); both nil when there are none.
type offense struct {
	values  []string
	objects []status.Ref
}

// note records that the object kind/name of namespace holds the values
// appended since before, if any.
func (o *offense) note(before int, kind, namespace, name string) {
	if len(o.values) > before {
		o.objects = append(o.objects, status.Ref{Kind: kind, Namespace: namespace, Name: name})
	}
}

// finish adds the Service to the objects and sorts both lists.
func (o *offense) finish(namespace, service string) {
	if len(o.values) == 0 {
		return
	}
	o.objects = append(o.objects, status.Ref{Kind: status.KindService, Namespace: namespace, Name: service})
	slices.SortFunc(o.objects, status.Ref.Compare)
	slices.Sort(o.values)
	o.values = slices.Compact(o.values)
}

// endpointOffenses walks once the endpoint source a Service's assignments
// come from (its EndpointSlices, else its Endpoints) and returns the
// addresses upstream refuses (ready or not) and the ports that are not
// port numbers.
func endpointOffenses(idx *source.Index, namespace, service string) (addrs, ports offense) {
	key := source.Key(namespace, service)
	if eps, _ := idx.EndpointSlices.Get(key); len(eps) > 0 {
		for _, es := range eps {
			na, np := len(addrs.values), len(ports.values)
			addrs.values, ports.values = sliceOffenses(es, addrs.values, ports.values)
			addrs.note(na, status.KindEndpointSlice, namespace, es.Name)
			ports.note(np, status.KindEndpointSlice, namespace, es.Name)
		}
	} else if ep, ok := idx.Endpoints[key]; ok {
		addrs.values, ports.values = endpointsOffenses(ep)
		addrs.note(0, status.KindEndpoints, namespace, service)
		ports.note(0, status.KindEndpoints, namespace, service)
	}
	addrs.finish(namespace, service)
	ports.finish(namespace, service)
	return addrs, ports
}

// sliceOffenses appends to addrs and ports the refused addresses and the
// ports that are not port numbers of s.
func sliceOffenses(s *source.EndpointSlice, addrs, ports []string) ([]string, []string) {
	for _, p := range s.Ports {
		if p.HasPort && !portNumber(p.Port) {
			ports = append(ports, strconv.Itoa(int(p.Port)))
		}
	}
	for i := range s.Endpoints {
		for _, a := range s.Endpoints[i].Addresses {
			if neverUpstream(a) {
				addrs = append(addrs, a)
			}
		}
	}
	return addrs, ports
}

// endpointsOffenses returns the refused addresses (ready or not) and the
// ports that are not port numbers of ep.
func endpointsOffenses(ep *corev1.Endpoints) (addrs, ports []string) {
	for _, sub := range ep.Subsets {
		for _, p := range sub.Ports {
			if !portNumber(p.Port) {
				ports = append(ports, strconv.Itoa(int(p.Port)))
			}
		}
		for _, list := range [][]corev1.EndpointAddress{sub.Addresses, sub.NotReadyAddresses} {
			for i := range list {
				if neverUpstream(list[i].IP) {
					addrs = append(addrs, list[i].IP)
				}
			}
		}
	}
	return addrs, ports
}
