package source

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
)

// Upsert stores obj, replacing any object of the same kind, namespace and
// name. It returns an error for a type the core does not read.
func (idx *Index) Upsert(obj any) error {
	switch o := obj.(type) {
	case *corev1.Namespace:
		own(idx, bitNamespaces, &idx.Namespaces)
		idx.Namespaces[o.Name] = o
	case *corev1.Service:
		own(idx, bitServices, &idx.Services)
		idx.Services[nn(o.Namespace, o.Name)] = o
	case *discoveryv1.EndpointSlice:
		svc := nn(o.Namespace, o.Labels[ServiceLabel])
		prev, _ := idx.EndpointSlices.Get(svc)
		slices := prev
		if slices == nil || idx.snapshotted {
			// A Service's slices are few: once idx has been snapshotted,
			// its map is copied on every write, so that a map shared with
			// a snapshot is never written.
			slices = make(map[string]*discoveryv1.EndpointSlice, len(prev)+1)
			for k, v := range prev {
				slices[k] = v
			}
		}
		slices[o.Name] = o
		idx.EndpointSlices.set(svc, slices)
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
		own(idx, bitServices, &idx.Services)
		delete(idx.Services, nn(o.Namespace, o.Name))
	case *discoveryv1.EndpointSlice:
		svc := nn(o.Namespace, o.Labels[ServiceLabel])
		prev, _ := idx.EndpointSlices.Get(svc)
		slices := map[string]*discoveryv1.EndpointSlice{}
		for k, v := range prev {
			if k != o.Name {
				slices[k] = v
			}
		}
		if len(slices) == 0 {
			idx.EndpointSlices.remove(svc)
		} else {
			idx.EndpointSlices.set(svc, slices)
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

func nn(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}
