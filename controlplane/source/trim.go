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
// serving condition); of each address of an Endpoints object, its IP.
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
		for i := range o.Endpoints {
			e := &o.Endpoints[i]
			*e = discoveryv1.Endpoint{Addresses: e.Addresses,
				Conditions: discoveryv1.EndpointConditions{Ready: e.Conditions.Ready, Terminating: e.Conditions.Terminating}}
		}
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
