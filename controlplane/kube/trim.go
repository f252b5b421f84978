package kube

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/isobar-dev/isobar/controlplane/source"
)

// trimService keeps what the core reads of a Service (source.Trim): its
// metadata but the managed fields, type, ExternalName, ports and status.
// Selectors, cluster IPs and the rest are dropped from the informer's cache.
func trimService(o any) (any, error) { return trimmed[*corev1.Service](o) }

// trimEndpointSlice keeps each endpoint's addresses and its ready and
// terminating conditions, all the core reads, with consecutive endpoints
// of the same conditions folded into one (source.Trim): target references,
// node names, zones and hints (hundreds of bytes per endpoint) are
// dropped, and a Pod replaced at the same address no longer changes the
// object.
func trimEndpointSlice(o any) (any, error) { return trimmed[*discoveryv1.EndpointSlice](o) }

// trimEndpoints keeps each address's IP, ready or not (a refused address
// is reported either way), and the ports of a v1 Endpoints object.
func trimEndpoints(o any) (any, error) { return trimmed[*corev1.Endpoints](o) }

// trimmed strips the managed fields of o and trims it (source.Trim) when
// it is a T; anything else (a tombstone) is returned as it is.
func trimmed[T *corev1.Service | *discoveryv1.EndpointSlice | *corev1.Endpoints](o any) (any, error) {
	t, ok := o.(T)
	if !ok {
		return o, nil
	}
	_, _ = stripManagedFields(t)
	source.Trim(t)
	return t, nil
}
