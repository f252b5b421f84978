package source

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Service is what an Index holds of a Kubernetes Service: what the core
// reads of one. At S10k a Service so held takes about 390 bytes with its
// share of the index where a trimmed corev1.Service took 920, and the
// informers cache the same values.
type Service struct {
	Namespace, Name string
	Type            corev1.ServiceType
	// ExternalName is the DNS name of an ExternalName Service.
	ExternalName string
	// Annotations are the Service's annotations under projectcontour.io/
	// and contour.heptio.com/ (protocols and limits), nil when it has none:
	// the core reads no other.
	Annotations map[string]string
	Ports       []corev1.ServicePort
	// LoadBalancer is the Service's status.loadBalancer (the Envoy
	// Service's addresses, which statuses carry).
	LoadBalancer corev1.LoadBalancerStatus
	// Object is the Service as it was read, kept by loads that keep whole
	// objects (diff and scenarios render and compare them); nil when the
	// Service was trimmed (TrimService).
	Object *corev1.Service
}

// NewService is what the core reads of s, with s kept as its Object.
func NewService(s *corev1.Service) *Service {
	out := TrimService(s)
	out.Object = s
	return out
}

// TrimService is what the core reads of s, without s: nothing of the
// returned Service refers to s's maps or slices but the ports.
func TrimService(s *corev1.Service) *Service {
	out := &Service{Namespace: s.Namespace, Name: s.Name, Type: s.Spec.Type, ExternalName: s.Spec.ExternalName,
		Ports: s.Spec.Ports, LoadBalancer: s.Status.LoadBalancer}
	for k, v := range s.Annotations {
		if strings.HasPrefix(k, "projectcontour.io/") || strings.HasPrefix(k, "contour.heptio.com/") {
			if out.Annotations == nil {
				out.Annotations = map[string]string{}
			}
			out.Annotations[k] = v
		}
	}
	return out
}

// GetObjectMeta returns the Service's namespace and name: the informers
// key their caches with them, through meta.Accessor.
func (s *Service) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name}
}

// entry is what Entries lists of s: the Service as read when kept, else s.
func (s *Service) entry() any {
	if s.Object != nil {
		return s.Object
	}
	return s
}

// EndpointSlice is what an Index holds of a Kubernetes EndpointSlice: what
// the core reads of one. At S10k a slice so held takes about 680 bytes
// with its share of the index where a trimmed discoveryv1.EndpointSlice
// took 1,390.
type EndpointSlice struct {
	Namespace, Name string
	// Service is the name of the Service the slice belongs to (its
	// kubernetes.io/service-name label).
	Service     string
	AddressType discoveryv1.AddressType
	// Endpoints are the slice's endpoints, each run of consecutive
	// endpoints that say the same of readiness and termination folded into
	// one holding the run's addresses in order: the core reads an
	// endpoint's addresses and whether it is ready, nothing that tells one
	// endpoint from the next, so the addresses it sends and reports are the
	// same, in the same order.
	Endpoints []EndpointRun
	Ports     []EndpointPort
	// Object is the slice as it was read, kept by loads that keep whole
	// objects; nil when the slice was trimmed (TrimEndpointSlice).
	Object *discoveryv1.EndpointSlice
}

// EndpointRun is one or more consecutive endpoints of a slice with the
// same conditions.
type EndpointRun struct {
	Addresses          []string
	Ready, Terminating Condition
}

// Condition is an endpoint condition: unset, true or false.
type Condition uint8

// The values of a Condition.
const (
	ConditionUnset Condition = iota
	ConditionTrue
	ConditionFalse
)

// conditionOf is the Condition of an optional flag.
func conditionOf(b *bool) Condition {
	switch {
	case b == nil:
		return ConditionUnset
	case *b:
		return ConditionTrue
	}
	return ConditionFalse
}

// EndpointPort is a port of an EndpointSlice. HasPort is false when the
// port has no number (all ports of the Service).
type EndpointPort struct {
	Name     string
	Protocol corev1.Protocol
	Port     int32
	HasPort  bool
}

// NewEndpointSlice is what the core reads of s, with s kept as its Object.
func NewEndpointSlice(s *discoveryv1.EndpointSlice) *EndpointSlice {
	out := TrimEndpointSlice(s)
	out.Object = s
	return out
}

// TrimEndpointSlice is what the core reads of s, without s: of each
// endpoint, its addresses and its ready and terminating conditions (not
// its target, node, zone, hints or serving condition), runs folded (see
// EndpointSlice.Endpoints); of each port, its name, protocol and number.
// The addresses of all runs share one array (capped: appending to one
// run's never writes the next's).
func TrimEndpointSlice(s *discoveryv1.EndpointSlice) *EndpointSlice {
	out := &EndpointSlice{Namespace: s.Namespace, Name: s.Name, Service: s.Labels[ServiceLabel],
		AddressType: s.AddressType}
	if len(s.Ports) > 0 {
		out.Ports = make([]EndpointPort, len(s.Ports))
		for i, p := range s.Ports {
			q := &out.Ports[i]
			if p.Name != nil {
				q.Name = *p.Name
			}
			if p.Protocol != nil {
				q.Protocol = *p.Protocol
			}
			if p.Port != nil {
				q.Port, q.HasPort = *p.Port, true
			}
		}
	}
	out.Endpoints = foldEndpoints(s.Endpoints)
	return out
}

// GetObjectMeta returns the slice's namespace, name and Service label: the
// informers key their caches with them, through meta.Accessor.
func (s *EndpointSlice) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name, Labels: map[string]string{ServiceLabel: s.Service}}
}

// foldEndpoints returns eps as runs (see EndpointSlice.Endpoints). A slice
// of a hundred ready Pods becomes one run of a hundred addresses.
func foldEndpoints(eps []discoveryv1.Endpoint) []EndpointRun {
	if len(eps) == 0 {
		return nil
	}
	runs, addrs := 0, 0
	for i := range eps {
		if i == 0 || !sameConditions(eps[i-1].Conditions, eps[i].Conditions) {
			runs++
		}
		addrs += len(eps[i].Addresses)
	}
	out := make([]EndpointRun, 0, runs)
	all := make([]string, 0, addrs)
	for i := range eps {
		c := eps[i].Conditions
		if i == 0 || !sameConditions(eps[i-1].Conditions, c) {
			out = append(out, EndpointRun{Ready: conditionOf(c.Ready), Terminating: conditionOf(c.Terminating)})
		}
		run := &out[len(out)-1]
		start := len(all) - len(run.Addresses)
		all = append(all, eps[i].Addresses...)
		run.Addresses = all[start:len(all):len(all)]
	}
	return out
}

// sameConditions reports whether a and b say the same of readiness and
// termination: both unset, or both set to the same value.
func sameConditions(a, b discoveryv1.EndpointConditions) bool {
	return conditionOf(a.Ready) == conditionOf(b.Ready) && conditionOf(a.Terminating) == conditionOf(b.Terminating)
}

// entry is what Entries lists of s: the slice as read when kept, else s.
func (s *EndpointSlice) entry() any {
	if s.Object != nil {
		return s.Object
	}
	return s
}
