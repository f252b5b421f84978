package kube

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/isobar-dev/isobar/controlplane/source"
)

// trimService caches what the core reads of a Service, a source.Service
// (source.TrimService): its name, type, ExternalName, Contour's
// annotations, ports and load-balancer status. Selectors, cluster IPs,
// labels and the rest of its metadata are not kept.
func trimService(o any) (any, error) { return trimmed[*corev1.Service](o) }

// trimEndpointSlice caches what the core reads of an EndpointSlice, a
// source.EndpointSlice (source.TrimEndpointSlice): each endpoint's
// addresses and its ready and terminating conditions, consecutive
// endpoints of the same conditions folded into one, and the ports. Target
// references, node names, zones and hints (hundreds of bytes per endpoint)
// are dropped, and a Pod replaced at the same address no longer changes
// what is held.
func trimEndpointSlice(o any) (any, error) { return trimmed[*discoveryv1.EndpointSlice](o) }

// trimEndpoints keeps each address's IP, ready or not (a refused address
// is reported either way), and the ports of a v1 Endpoints object.
func trimEndpoints(o any) (any, error) { return trimmed[*corev1.Endpoints](o) }

// trimmed returns what the index holds of o (source.Trim) when it is a T,
// stripped of its managed fields when that is o itself (a Service or a
// slice becomes a new value that has none); anything else (a tombstone) is
// returned as it is.
func trimmed[T *corev1.Service | *discoveryv1.EndpointSlice | *corev1.Endpoints](o any) (any, error) {
	t, ok := o.(T)
	if !ok {
		return o, nil
	}
	out := source.Trim(t)
	if out == any(t) {
		return stripManagedFields(t)
	}
	return out, nil
}
