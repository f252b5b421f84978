package kube

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// trimService keeps what the core reads of a Service: its metadata
// (annotations name protocols and limits), type, ExternalName and ports,
// and its status (the Envoy Service's load balancer address). Selectors,
// cluster IPs and the rest are dropped from the informer's cache.
func trimService(o any) (any, error) {
	s, ok := o.(*corev1.Service)
	if !ok {
		return o, nil
	}
	_, _ = stripManagedFields(s)
	s.Spec = corev1.ServiceSpec{Type: s.Spec.Type, ExternalName: s.Spec.ExternalName, Ports: s.Spec.Ports}
	return s, nil
}

// trimEndpointSlice keeps each endpoint's addresses and its ready and
// terminating conditions, all the core reads: target references, node
// names, zones and hints (hundreds of bytes per endpoint) are dropped, and
// a Pod replaced at the same address no longer changes the object.
func trimEndpointSlice(o any) (any, error) {
	s, ok := o.(*discoveryv1.EndpointSlice)
	if !ok {
		return o, nil
	}
	_, _ = stripManagedFields(s)
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		*e = discoveryv1.Endpoint{Addresses: e.Addresses,
			Conditions: discoveryv1.EndpointConditions{Ready: e.Conditions.Ready, Terminating: e.Conditions.Terminating}}
	}
	return s, nil
}

// trimEndpoints keeps each address's IP, ready or not (a refused address
// is reported either way), and the ports of a v1 Endpoints object.
func trimEndpoints(o any) (any, error) {
	ep, ok := o.(*corev1.Endpoints)
	if !ok {
		return o, nil
	}
	_, _ = stripManagedFields(ep)
	for i := range ep.Subsets {
		sub := &ep.Subsets[i]
		for _, list := range [][]corev1.EndpointAddress{sub.Addresses, sub.NotReadyAddresses} {
			for j := range list {
				list[j] = corev1.EndpointAddress{IP: list[j].IP}
			}
		}
	}
	return ep, nil
}
