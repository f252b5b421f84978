package source

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
)

// Upsert stores obj, replacing any object of the same kind, namespace and
// name. A corev1.Service or a discoveryv1.EndpointSlice is held as a
// Service or an EndpointSlice of this package that keeps it (NewService,
// NewEndpointSlice); one of those (Trim's) as it is. EndpointSlices are
// found by Service: a caller giving a slice another Service deletes the
// slice as it was first. It returns an error for a type the core does not
// read.
func (idx *Index) Upsert(obj any) error {
	switch o := obj.(type) {
	case *corev1.Namespace:
		own(idx, bitNamespaces, &idx.Namespaces)
		idx.Namespaces[o.Name] = o
	case *corev1.Service:
		return idx.Upsert(NewService(o))
	case *Service:
		own(idx, bitServices, &idx.Services)
		idx.Services[nn(o.Namespace, o.Name)] = o
	case *discoveryv1.EndpointSlice:
		return idx.Upsert(NewEndpointSlice(o))
	case *EndpointSlice:
		svc := nn(o.Namespace, o.Service)
		prev, _ := idx.EndpointSlices.Get(svc)
		idx.EndpointSlices.set(svc, withSlice(prev, o, idx.snapshotted))
	case *corev1.Endpoints:
		own(idx, bitEndpoints, &idx.Endpoints)
		idx.Endpoints[nn(o.Namespace, o.Name)] = o
	case *corev1.Secret:
		own(idx, bitSecrets, &idx.Secrets)
		idx.Secrets[nn(o.Namespace, o.Name)] = o
	case *networkingv1.Ingress:
		own(idx, bitIngresses, &idx.Ingresses)
		idx.Ingresses[nn(o.Namespace, o.Name)] = o
	case *networkingv1.IngressClass:
		own(idx, bitIngressClasses, &idx.IngressClasses)
		idx.IngressClasses[o.Name] = o
	case *contourv1.HTTPProxy:
		idx.HTTPProxies.set(nn(o.Namespace, o.Name), o)
	case *contourv1.TLSCertificateDelegation:
		own(idx, bitDelegations, &idx.Delegations)
		idx.Delegations[nn(o.Namespace, o.Name)] = o
	case *heptiov1beta1.IngressRoute:
		own(idx, bitIngressRoutes, &idx.IngressRoutes)
		idx.IngressRoutes[nn(o.Namespace, o.Name)] = o
	case *heptiov1beta1.TLSCertificateDelegation:
		own(idx, bitLegacyDelegations, &idx.LegacyDelegations)
		idx.LegacyDelegations[nn(o.Namespace, o.Name)] = o
	case *contourv1alpha1.ExtensionService:
		own(idx, bitExtensionServices, &idx.ExtensionServices)
		idx.ExtensionServices[nn(o.Namespace, o.Name)] = o
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedType, obj)
	}
	return nil
}

// Delete removes obj (matched by kind, namespace and name; for EndpointSlices
// also by the service label). Deleting an absent object is not an error.
func (idx *Index) Delete(obj any) error {
	switch o := obj.(type) {
	case *corev1.Namespace:
		own(idx, bitNamespaces, &idx.Namespaces)
		delete(idx.Namespaces, o.Name)
	case *corev1.Service:
		return idx.Delete(&Service{Namespace: o.Namespace, Name: o.Name})
	case *Service:
		own(idx, bitServices, &idx.Services)
		delete(idx.Services, nn(o.Namespace, o.Name))
	case *discoveryv1.EndpointSlice:
		return idx.Delete(&EndpointSlice{Namespace: o.Namespace, Name: o.Name, Service: o.Labels[ServiceLabel]})
	case *EndpointSlice:
		svc := nn(o.Namespace, o.Service)
		prev, _ := idx.EndpointSlices.Get(svc)
		rest := slices.DeleteFunc(slices.Clone(prev), func(s *EndpointSlice) bool { return s.Name == o.Name })
		if len(rest) == 0 {
			idx.EndpointSlices.remove(svc)
		} else {
			idx.EndpointSlices.set(svc, rest)
		}
	case *corev1.Endpoints:
		own(idx, bitEndpoints, &idx.Endpoints)
		delete(idx.Endpoints, nn(o.Namespace, o.Name))
	case *corev1.Secret:
		own(idx, bitSecrets, &idx.Secrets)
		delete(idx.Secrets, nn(o.Namespace, o.Name))
	case *networkingv1.Ingress:
		own(idx, bitIngresses, &idx.Ingresses)
		delete(idx.Ingresses, nn(o.Namespace, o.Name))
	case *networkingv1.IngressClass:
		own(idx, bitIngressClasses, &idx.IngressClasses)
		delete(idx.IngressClasses, o.Name)
	case *contourv1.HTTPProxy:
		idx.HTTPProxies.remove(nn(o.Namespace, o.Name))
	case *contourv1.TLSCertificateDelegation:
		own(idx, bitDelegations, &idx.Delegations)
		delete(idx.Delegations, nn(o.Namespace, o.Name))
	case *heptiov1beta1.IngressRoute:
		own(idx, bitIngressRoutes, &idx.IngressRoutes)
		delete(idx.IngressRoutes, nn(o.Namespace, o.Name))
	case *heptiov1beta1.TLSCertificateDelegation:
		own(idx, bitLegacyDelegations, &idx.LegacyDelegations)
		delete(idx.LegacyDelegations, nn(o.Namespace, o.Name))
	case *contourv1alpha1.ExtensionService:
		own(idx, bitExtensionServices, &idx.ExtensionServices)
		delete(idx.ExtensionServices, nn(o.Namespace, o.Name))
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedType, obj)
	}
	return nil
}

// withSlice returns the slices of a Service, sorted by name, with s added
// or put in place of the one of its name. A Service's slices are few: once
// the index has been snapshotted (shared), they are copied on every write,
// so that a list shared with a snapshot is never written.
func withSlice(list []*EndpointSlice, s *EndpointSlice, shared bool) []*EndpointSlice {
	if shared {
		list = list[:len(list):len(list)] // an insertion copies
	}
	i, found := slices.BinarySearchFunc(list, s.Name, func(e *EndpointSlice, name string) int {
		return strings.Compare(e.Name, name)
	})
	if !found {
		return slices.Insert(list, i, s)
	}
	if shared {
		list = slices.Clone(list)
	}
	list[i] = s
	return list
}

func nn(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}
