package source

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	networkingv1 "k8s.io/api/networking/v1"
	networkingv1beta1 "k8s.io/api/networking/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const removedIn122 = "Ingress in this API version was removed in Kubernetes 1.22; it was read as networking.k8s.io/v1 " +
	"(missing pathType → ImplementationSpecific, serviceName/servicePort → service.name/port)"

// convertNetworkingV1beta1 converts a networking.k8s.io/v1beta1 Ingress as
// Kubernetes' own conversion does.
func convertNetworkingV1beta1(o metav1.Object) (any, string) {
	in := o.(*networkingv1beta1.Ingress)
	out := &networkingv1.Ingress{ObjectMeta: in.ObjectMeta}
	out.APIVersion, out.Kind = "networking.k8s.io/v1", "Ingress"
	out.Spec.IngressClassName = in.Spec.IngressClassName
	if in.Spec.Backend != nil {
		out.Spec.DefaultBackend = backendV1(in.Spec.Backend.ServiceName, in.Spec.Backend.ServicePort, in.Spec.Backend.Resource)
	}
	for _, t := range in.Spec.TLS {
		out.Spec.TLS = append(out.Spec.TLS, networkingv1.IngressTLS{Hosts: t.Hosts, SecretName: t.SecretName})
	}
	for _, r := range in.Spec.Rules {
		rule := networkingv1.IngressRule{Host: r.Host}
		if r.HTTP != nil {
			rule.HTTP = &networkingv1.HTTPIngressRuleValue{}
			for _, p := range r.HTTP.Paths {
				rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{
					Path:     p.Path,
					PathType: pathTypeV1((*string)(p.PathType)),
					Backend:  *backendV1(p.Backend.ServiceName, p.Backend.ServicePort, p.Backend.Resource),
				})
			}
		}
		out.Spec.Rules = append(out.Spec.Rules, rule)
	}
	return out, removedIn122
}

// convertExtensionsV1beta1 converts an extensions/v1beta1 Ingress. Its
// fields are those of networking.k8s.io/v1beta1, so it goes through that
// conversion.
func convertExtensionsV1beta1(o metav1.Object) (any, string) {
	var same networkingv1beta1.Ingress
	b, err := json.Marshal(o.(*extensionsv1beta1.Ingress))
	if err == nil {
		err = json.Unmarshal(b, &same)
	}
	if err != nil { // cannot happen: the two types have the same fields
		panic(err)
	}
	return convertNetworkingV1beta1(&same)
}

// pathTypeV1 defaults a missing pathType to ImplementationSpecific.
func pathTypeV1(pt *string) *networkingv1.PathType {
	t := networkingv1.PathTypeImplementationSpecific
	if pt != nil && *pt != "" {
		t = networkingv1.PathType(*pt)
	}
	return &t
}

// backendV1 maps serviceName/servicePort to service.name and port.number or
// port.name.
func backendV1(name string, port intstr.IntOrString, resource *corev1.TypedLocalObjectReference) *networkingv1.IngressBackend {
	b := &networkingv1.IngressBackend{Resource: resource}
	if name != "" {
		b.Service = &networkingv1.IngressServiceBackend{Name: name}
		if port.Type == intstr.String {
			b.Service.Port.Name = port.StrVal
		} else {
			b.Service.Port.Number = port.IntVal
		}
	}
	return b
}
