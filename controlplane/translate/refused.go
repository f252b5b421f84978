package translate

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

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
// Endpoints, and the addresses left out.
func EndpointFindings(idx *source.Index, namespace, service string) []status.Finding {
	var out []status.Finding
	if f, ok := EndpointSourceFinding(idx, namespace, service); ok {
		out = append(out, f)
	}
	if f, ok := refusedAddressFinding(idx, namespace, service); ok {
		out = append(out, f)
	}
	if f, ok := badPortFinding(idx, namespace, service); ok {
		out = append(out, f)
	}
	return out
}

// badPortFinding lists the endpoint ports of the Service's endpoint source
// that are not port numbers, with the objects holding them.
func badPortFinding(idx *source.Index, namespace, service string) (status.Finding, bool) {
	bad, objs := offenders(idx, namespace, service,
		func(s *discoveryv1.EndpointSlice, visit func(string)) {
			for _, p := range s.Ports {
				if p.Port != nil && !portNumber(*p.Port) {
					visit(strconv.Itoa(int(*p.Port)))
				}
			}
		},
		func(ep *corev1.Endpoints, visit func(string)) {
			for _, sub := range ep.Subsets {
				for _, p := range sub.Ports {
					if !portNumber(p.Port) {
						visit(strconv.Itoa(int(p.Port)))
					}
				}
			}
		})
	if len(bad) == 0 {
		return status.Finding{}, false
	}
	return status.Finding{
		Code: FindingEndpointPort, Severity: status.SeverityWarning, Objects: objs,
		Message: fmt.Sprintf("Service %s/%s: endpoint ports %s are not port numbers (1–65535); the endpoints behind them are left out",
			namespace, service, strings.Join(bad, ", ")),
	}, true
}

// upstream reports whether s is an IP address Envoy may be sent to.
func upstream(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && !graph.NeverUpstream(a)
}

// refusedAddressFinding lists the addresses of the Service's endpoint
// source (ready or not) that upstream refuses, with the objects holding
// them.
func refusedAddressFinding(idx *source.Index, namespace, service string) (status.Finding, bool) {
	bad, objs := offenders(idx, namespace, service,
		func(s *discoveryv1.EndpointSlice, visit func(string)) {
			for i := range s.Endpoints {
				for _, a := range s.Endpoints[i].Addresses {
					if neverUpstream(a) {
						visit(a)
					}
				}
			}
		},
		func(ep *corev1.Endpoints, visit func(string)) {
			for _, sub := range ep.Subsets {
				for _, list := range [][]corev1.EndpointAddress{sub.Addresses, sub.NotReadyAddresses} {
					for i := range list {
						if neverUpstream(list[i].IP) {
							visit(list[i].IP)
						}
					}
				}
			}
		})
	if len(bad) == 0 {
		return status.Finding{}, false
	}
	return status.Finding{
		Code: FindingEndpointAddress, Severity: status.SeverityWarning, Objects: objs,
		Message: fmt.Sprintf("Service %s/%s: endpoint addresses %s are unspecified, loopback or link-local; "+
			"Envoy is never sent there (they reach Envoy itself, its node or the cloud's metadata service), so they are left out",
			namespace, service, strings.Join(bad, ", ")),
	}, true
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

// offenders walks the endpoint source a Service's assignments come from
// (its EndpointSlices, else its Endpoints); inSlice and inEndpoints visit
// the refused values of one object. It returns them, sorted and without
// repeats, with the Service and the objects that hold them (sorted); nil
// and nil when there are none.
func offenders(idx *source.Index, namespace, service string, inSlice func(*discoveryv1.EndpointSlice, func(string)),
	inEndpoints func(*corev1.Endpoints, func(string))) ([]string, []status.Ref) {
	key := source.Key(namespace, service)
	var bad []string
	var objs []status.Ref
	visit := func(v string) { bad = append(bad, v) }
	note := func(kind, name string, before int) {
		if len(bad) > before {
			objs = append(objs, status.Ref{Kind: kind, Namespace: namespace, Name: name})
		}
	}
	if eps := idx.EndpointSlices[key]; len(eps) > 0 {
		for name, es := range eps {
			n := len(bad)
			inSlice(es, visit)
			note(status.KindEndpointSlice, name, n)
		}
	} else if ep, ok := idx.Endpoints[key]; ok {
		inEndpoints(ep, visit)
		note(status.KindEndpoints, service, 0)
	}
	if len(bad) == 0 {
		return nil, nil
	}
	objs = append(objs, status.Ref{Kind: status.KindService, Namespace: namespace, Name: service})
	slices.SortFunc(objs, status.Ref.Compare)
	slices.Sort(bad)
	return slices.Compact(bad), objs
}
