package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestTrims checks what the informers keep of Services and endpoints:
// what the core reads, written out by hand, and nothing of the objects
// they were given.
func TestTrims(t *testing.T) {
	yes, no := true, false
	meta := metav1.ObjectMeta{Namespace: "ns", Name: "web", Labels: map[string]string{discoveryv1.LabelServiceName: "web"},
		Annotations: map[string]string{"projectcontour.io/upstream-protocol.h2c": "80", "meta.helm.sh/release-name": "web"}}
	ports := []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}
	lb := corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}}}
	svc := &corev1.Service{ObjectMeta: meta, Status: lb, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: ports,
		Selector: map[string]string{"app": "web"}, ClusterIP: "10.0.0.1", ClusterIPs: []string{"10.0.0.1"}, SessionAffinity: corev1.ServiceAffinityNone}}
	got, err := trimService(svc)
	if err != nil {
		t.Fatal(err)
	}
	want := &source.Service{Namespace: "ns", Name: "web", Type: corev1.ServiceTypeClusterIP, Ports: ports, LoadBalancer: lb.LoadBalancer,
		Annotations: map[string]string{"projectcontour.io/upstream-protocol.h2c": "80"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Service (-want +got):\n%s", d)
	}
	node, zone := "node-1", "a"
	slice := &discoveryv1.EndpointSlice{ObjectMeta: meta, AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.1.0.1"}, NodeName: &node, Zone: &zone,
			Conditions: discoveryv1.EndpointConditions{Ready: &yes, Serving: &yes, Terminating: &no},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: "web-1", UID: "u"}}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(int32(8080))}}}
	gotSlice, err := trimEndpointSlice(slice)
	if err != nil {
		t.Fatal(err)
	}
	wantSlice := &source.EndpointSlice{Namespace: "ns", Name: "web", Service: "web", AddressType: discoveryv1.AddressTypeIPv4,
		Ports:     []source.EndpointPort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 8080, HasPort: true}},
		Endpoints: []source.EndpointRun{{Addresses: []string{"10.1.0.1"}, Ready: source.ConditionTrue, Terminating: source.ConditionFalse}}}
	if d := cmp.Diff(wantSlice, gotSlice); d != "" {
		t.Errorf("EndpointSlice (-want +got):\n%s", d)
	}
	ep := &corev1.Endpoints{ObjectMeta: meta, Subsets: []corev1.EndpointSubset{{
		Addresses:         []corev1.EndpointAddress{{IP: "10.1.0.1", NodeName: &node, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "web-1"}}},
		NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.1.0.2", NodeName: &node}},
		Ports:             []corev1.EndpointPort{{Name: "http", Port: 8080}}}}}
	if _, err := trimEndpoints(ep); err != nil {
		t.Fatal(err)
	}
	wantEp := &corev1.Endpoints{ObjectMeta: meta, Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "10.1.0.1"}}, NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.1.0.2"}},
		Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}}}
	if d := cmp.Diff(wantEp, ep); d != "" {
		t.Errorf("Endpoints (-want +got):\n%s", d)
	}
}
