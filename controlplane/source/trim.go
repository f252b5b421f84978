package source

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Trim returns what the index should hold of obj when whole objects are
// not kept: of a Service or an EndpointSlice, the Service or EndpointSlice
// of this package without the object (TrimService, TrimEndpointSlice); of
// a v1 Endpoints object, obj with only each address's IP, trimmed in
// place; any other object as it is.
//
// The cluster informers cache what Trim returns, and the loader indexes it
// when asked to (LoadOptions.Trim, which `serve --fixtures` sets), so that
// a file and a cluster give the server the same objects and an edit to a
// field the core does not read changes nothing it holds.
func Trim(obj any) any {
	switch o := obj.(type) {
	case *corev1.Service:
		return TrimService(o)
	case *discoveryv1.EndpointSlice:
		return TrimEndpointSlice(o)
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
	return obj
}
