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

// EndpointFinding reports whether code is one of the findings EndpointFindings
// gives: they belong to a Service, not to a translation.
func EndpointFinding(code string) bool {
	return code == FindingEndpointSource || code == FindingEndpointAddress
}

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
	return out
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
