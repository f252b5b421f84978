package source

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Trim drops, in place, what the core never reads of a Service, an
// EndpointSlice or a v1 Endpoints object, and leaves other objects alone.
// Of a Service it keeps the metadata (annotations name protocols and
// limits), the status (the Envoy Service's load-balancer address), and of
// the spec the type, ExternalName and ports: the selector, cluster IPs and
// the rest go. Of each endpoint of a slice it keeps the addresses and the
// ready and terminating conditions (not the target, node, zone, hints or
// serving condition), and folds each run of endpoints with the same
// conditions into one (see foldEndpoints); of each address of an Endpoints
// object, its IP.
//
// The cluster informers trim what they cache, and the loader what it reads
// when asked to (LoadOptions.Trim, which `serve --fixtures` sets), so that
// a file and a cluster give the server the same objects and an edit to a
// field the core does not read changes nothing it holds. At S10k the
// Services' selectors alone were 7 MB.
func Trim(obj any) {
	switch o := obj.(type) {
	case *corev1.Service:
		o.Spec = corev1.ServiceSpec{Type: o.Spec.Type, ExternalName: o.Spec.ExternalName, Ports: o.Spec.Ports}
	case *discoveryv1.EndpointSlice:
		o.Endpoints = foldEndpoints(o.Endpoints)
	case *corev1.Endpoints:
		for i := range o.Subsets {
			sub := &o.Subsets[i]
			for _, list := range [][]corev1.EndpointAddress{sub.Addresses, sub.NotReadyAddresses} {
				for j := range list {
					list[j] = corev1.EndpointAddress{IP: list[j].IP}
				}
			}
		}
	}
}

// foldEndpoints returns eps with only their addresses and ready and
// terminating conditions, each run of consecutive endpoints whose
// conditions are the same (unset, true or false, both) folded into one
// endpoint holding the run's addresses in order. The core reads an
// endpoint's addresses and whether it is ready, nothing that tells one
// endpoint from the next, so the addresses it sends and the ones it
// reports are the same, in the same order. A slice of a hundred ready Pods
// becomes one endpoint of a hundred addresses: one array of address
// strings instead of a hundred of one each, and one 96-byte Endpoint
// instead of a hundred. The new slices are exact: nothing of eps is kept
// but the strings and the first condition pointers of each run.
func foldEndpoints(eps []discoveryv1.Endpoint) []discoveryv1.Endpoint {
	if len(eps) == 0 {
		return eps
	}
	runs, addrs := 0, 0
	for i := range eps {
		if i == 0 || !sameConditions(eps[i-1].Conditions, eps[i].Conditions) {
			runs++
		}
		addrs += len(eps[i].Addresses)
	}
	out := make([]discoveryv1.Endpoint, 0, runs)
	all := make([]string, 0, addrs)
	for i := range eps {
		c := eps[i].Conditions
		if i == 0 || !sameConditions(eps[i-1].Conditions, c) {
			out = append(out, discoveryv1.Endpoint{Conditions: discoveryv1.EndpointConditions{Ready: c.Ready, Terminating: c.Terminating}})
		}
		run := &out[len(out)-1]
		start := len(all) - len(run.Addresses)
		all = append(all, eps[i].Addresses...)
		// Capped: appending to one run's addresses never writes the next's.
		run.Addresses = all[start:len(all):len(all)]
	}
	return out
}

// sameConditions reports whether a and b say the same of readiness and
// termination: both unset, or both set to the same value.
func sameConditions(a, b discoveryv1.EndpointConditions) bool {
	return sameFlag(a.Ready, b.Ready) && sameFlag(a.Terminating, b.Terminating)
}

func sameFlag(a, b *bool) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
