package kube

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
)

// NewScheme returns a scheme with every type the watcher and status writer
// use.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(contourv1.AddToScheme(s))
	utilruntime.Must(contourv1alpha1.AddToScheme(s))
	utilruntime.Must(heptiov1beta1.AddToScheme(s))
	return s
}

// watched lists one empty object of each kind the core reads. Custom
// resources come last: a cluster may not serve all of them.
func watched() []client.Object {
	return []client.Object{
		&corev1.Namespace{},
		&corev1.Service{},
		&discoveryv1.EndpointSlice{},
		&corev1.Endpoints{},
		&corev1.Secret{},
		&networkingv1.Ingress{},
		&networkingv1.IngressClass{},
		&contourv1.HTTPProxy{},
		&contourv1.TLSCertificateDelegation{},
		&heptiov1beta1.IngressRoute{},
		&heptiov1beta1.TLSCertificateDelegation{},
		&contourv1alpha1.ExtensionService{},
	}
}

// isEndpoints reports whether obj only affects ClusterLoadAssignments.
func isEndpoints(obj any) bool {
	switch obj.(type) {
	case *discoveryv1.EndpointSlice, *corev1.Endpoints:
		return true
	}
	return false
}

// metav1Object is the part of metav1.Object the transforms use.
type metav1Object interface {
	SetManagedFields([]metav1.ManagedFieldsEntry)
	GetAnnotations() map[string]string
	SetAnnotations(map[string]string)
}
