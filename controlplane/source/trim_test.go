package source

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestLoadTrims checks that the loader, asked to trim, keeps of Services
// and EndpointSlices what the informers keep: what the core reads, written
// out by hand; and that without Trim it keeps everything.
func TestLoadTrims(t *testing.T) {
	whole, _ := LoadBytes(LoadOptions{}, "t.yaml", []byte(trimInput))
	if sel := whole.Services[types.NamespacedName{Namespace: "ns", Name: "web"}].Spec.Selector; sel["app"] != "web" {
		t.Errorf("untrimmed selector: %v", sel)
	}
	idx, problems := LoadBytes(LoadOptions{Trim: true}, "t.yaml", []byte(trimInput))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	svc := idx.Services[types.NamespacedName{Namespace: "ns", Name: "web"}]
	wantSpec := corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP,
		Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}
	if d := cmp.Diff(wantSpec, svc.Spec); d != "" {
		t.Errorf("Service spec (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}, svc.Status.LoadBalancer.Ingress); d != "" {
		t.Errorf("Service status (-want +got):\n%s", d)
	}
	if svc.Annotations["projectcontour.io/upstream-protocol.h2c"] != "80" {
		t.Errorf("annotations: %v", svc.Annotations)
	}
	slices, _ := idx.EndpointSlices.Get(types.NamespacedName{Namespace: "ns", Name: "web"})
	yes, no := true, false
	want := []discoveryv1.Endpoint{{Addresses: []string{"10.1.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &yes, Terminating: &no}}}
	if len(slices) != 1 || slices[0].Name != "web-1" {
		t.Fatalf("slices of web: %v", slices)
	}
	if d := cmp.Diff(want, slices[0].Endpoints); d != "" {
		t.Errorf("endpoints (-want +got):\n%s", d)
	}
}

// trimInput is a Service and an EndpointSlice with fields the core does
// not read.
const trimInput = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns, annotations: {projectcontour.io/upstream-protocol.h2c: "80"}}
spec:
  type: ClusterIP
  selector: {app: web}
  clusterIP: 10.0.0.1
  clusterIPs: [10.0.0.1]
  sessionAffinity: None
  ports: [{name: http, port: 80, targetPort: 8080}]
status:
  loadBalancer: {ingress: [{ip: 192.0.2.1}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: ns, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- addresses: [10.1.0.1]
  conditions: {ready: true, serving: true, terminating: false}
  nodeName: node-1
  zone: a
  targetRef: {kind: Pod, namespace: ns, name: web-1}
`
