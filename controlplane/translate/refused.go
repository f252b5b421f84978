package translate

import (
	"fmt"
	"net/netip"
	"slices"
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
	key := source.Key(namespace, service)
	var bad []string
	objs := []status.Ref{{Kind: status.KindService, Namespace: namespace, Name: service}}
	if eps := idx.EndpointSlices[key]; len(eps) > 0 {
		for _, name := range sortedKeys(eps) {
			n := len(bad)
			for _, p := range eps[name].Ports {
				if p.Port != nil && !portNumber(*p.Port) {
					bad = append(bad, fmt.Sprint(*p.Port))
				}
			}
			if len(bad) > n {
				objs = append(objs, status.Ref{Kind: status.KindEndpointSlice, Namespace: namespace, Name: name})
			}
		}
	} else if ep, ok := idx.Endpoints[key]; ok {
		for _, sub := range ep.Subsets {
			for _, p := range sub.Ports {
				if !portNumber(p.Port) {
					bad = append(bad, fmt.Sprint(p.Port))
				}
			}
		}
		if len(bad) > 0 {
			objs = append(objs, status.Ref{Kind: status.KindEndpoints, Namespace: namespace, Name: service})
		}
	}
	if len(bad) == 0 {
		return status.Finding{}, false
	}
	slices.Sort(bad)
	bad = slices.Compact(bad)
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
	key := source.Key(namespace, service)
	var bad []string
	objs := []status.Ref{{Kind: status.KindService, Namespace: namespace, Name: service}}
	check := func(kind, name string, addrs []string) {
		n := len(bad)
		for _, a := range addrs {
			if ip, err := netip.ParseAddr(a); err == nil && graph.NeverUpstream(ip) {
				bad = append(bad, a)
			}
		}
		if len(bad) > n {
			objs = append(objs, status.Ref{Kind: kind, Namespace: namespace, Name: name})
		}
	}
	if eps := idx.EndpointSlices[key]; len(eps) > 0 {
		for _, name := range sortedKeys(eps) {
			var addrs []string
			for i := range eps[name].Endpoints {
				addrs = append(addrs, eps[name].Endpoints[i].Addresses...)
			}
			check(status.KindEndpointSlice, name, addrs)
		}
	} else if ep, ok := idx.Endpoints[key]; ok {
		var addrs []string
		for _, sub := range ep.Subsets {
			for _, list := range [][]corev1.EndpointAddress{sub.Addresses, sub.NotReadyAddresses} {
				for i := range list {
					addrs = append(addrs, list[i].IP)
				}
			}
		}
		check(status.KindEndpoints, service, addrs)
	}
	if len(bad) == 0 {
		return status.Finding{}, false
	}
	slices.Sort(bad)
	bad = slices.Compact(bad)
	return status.Finding{
		Code: FindingEndpointAddress, Severity: status.SeverityWarning, Objects: objs,
		Message: fmt.Sprintf("Service %s/%s: endpoint addresses %s are unspecified, loopback or link-local; "+
			"Envoy is never sent there (they reach Envoy itself, its node or the cloud's metadata service), so they are left out",
			namespace, service, strings.Join(bad, ", ")),
	}, true
}
