package source

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// Upsert stores obj, replacing any object of the same kind, namespace and
// name. It returns an error for a type the core does not read.
func (idx *Index) Upsert(obj any) error {
	switch o := obj.(type) {
	case *corev1.Namespace:
		idx.Namespaces[o.Name] = o
	case *corev1.Service:
		idx.Services[nn(o.Namespace, o.Name)] = o
	case *discoveryv1.EndpointSlice:
		svc := nn(o.Namespace, o.Labels[ServiceLabel])
		if idx.EndpointSlices[svc] == nil {
			idx.EndpointSlices[svc] = map[string]*discoveryv1.EndpointSlice{}
		}
		idx.EndpointSlices[svc][o.Name] = o
	case *corev1.Endpoints:
		idx.Endpoints[nn(o.Namespace, o.Name)] = o
	case *corev1.Secret:
		idx.Secrets[nn(o.Namespace, o.Name)] = o
	case *networkingv1.Ingress:
		idx.Ingresses[nn(o.Namespace, o.Name)] = o
	case *networkingv1.IngressClass:
		idx.IngressClasses[o.Name] = o
	case *contourv1.HTTPProxy:
		idx.HTTPProxies[nn(o.Namespace, o.Name)] = o
	case *contourv1.TLSCertificateDelegation:
		idx.Delegations[nn(o.Namespace, o.Name)] = o
	case *heptiov1beta1.IngressRoute:
		idx.IngressRoutes[nn(o.Namespace, o.Name)] = o
	case *heptiov1beta1.TLSCertificateDelegation:
		idx.LegacyDelegations[nn(o.Namespace, o.Name)] = o
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
		delete(idx.Namespaces, o.Name)
	case *corev1.Service:
		delete(idx.Services, nn(o.Namespace, o.Name))
	case *discoveryv1.EndpointSlice:
		svc := nn(o.Namespace, o.Labels[ServiceLabel])
		delete(idx.EndpointSlices[svc], o.Name)
		if len(idx.EndpointSlices[svc]) == 0 {
			delete(idx.EndpointSlices, svc)
		}
	case *corev1.Endpoints:
		delete(idx.Endpoints, nn(o.Namespace, o.Name))
	case *corev1.Secret:
		delete(idx.Secrets, nn(o.Namespace, o.Name))
	case *networkingv1.Ingress:
		delete(idx.Ingresses, nn(o.Namespace, o.Name))
	case *networkingv1.IngressClass:
		delete(idx.IngressClasses, o.Name)
	case *contourv1.HTTPProxy:
		delete(idx.HTTPProxies, nn(o.Namespace, o.Name))
	case *contourv1.TLSCertificateDelegation:
		delete(idx.Delegations, nn(o.Namespace, o.Name))
	case *heptiov1beta1.IngressRoute:
		delete(idx.IngressRoutes, nn(o.Namespace, o.Name))
	case *heptiov1beta1.TLSCertificateDelegation:
		delete(idx.LegacyDelegations, nn(o.Namespace, o.Name))
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedType, obj)
	}
	return nil
}

func nn(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}
