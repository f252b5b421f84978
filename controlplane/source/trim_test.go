package source

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// TestLoadTrims checks that the loader, asked to trim, keeps of Services
// and EndpointSlices what the informers keep: what the core reads, written
// out by hand; and that without Trim it keeps everything.
func TestLoadTrims(t *testing.T) {
	whole, _ := LoadBytes(LoadOptions{}, "t.yaml", []byte(trimInput))
	if sel := whole.Services[types.NamespacedName{Namespace: "ns", Name: "web"}].Object.Spec.Selector; sel["app"] != "web" {
		t.Errorf("untrimmed selector: %v", sel)
	}
	if s, _ := whole.EndpointSlices.Get(types.NamespacedName{Namespace: "ns", Name: "web"}); len(s) != 1 || s[0].Object.Endpoints[0].Zone == nil {
		t.Errorf("untrimmed slice: %v", s)
	}
	idx, problems := LoadBytes(LoadOptions{Trim: true}, "t.yaml", []byte(trimInput))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	want := &Service{Namespace: "ns", Name: "web", Type: corev1.ServiceTypeClusterIP,
		Ports:        []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}},
		Annotations:  map[string]string{"projectcontour.io/upstream-protocol.h2c": "80"}}
	if d := cmp.Diff(want, idx.Services[types.NamespacedName{Namespace: "ns", Name: "web"}]); d != "" {
		t.Errorf("Service (-want +got):\n%s", d)
	}
	slices, _ := idx.EndpointSlices.Get(types.NamespacedName{Namespace: "ns", Name: "web"})
	wantSlice := []*EndpointSlice{{Namespace: "ns", Name: "web-1", Service: "web", AddressType: discoveryv1.AddressTypeIPv4,
		Ports:     []EndpointPort{{Name: "http", Port: 8080, HasPort: true}},
		Endpoints: []EndpointRun{{Addresses: []string{"10.1.0.1"}, Ready: ConditionTrue, Terminating: ConditionFalse}}}}
	if d := cmp.Diff(wantSlice, slices); d != "" {
		t.Errorf("slices of web (-want +got):\n%s", d)
	}
}

// trimInput is a Service and an EndpointSlice with fields the core does
// not read.
const trimInput = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns, annotations: {projectcontour.io/upstream-protocol.h2c: "80", meta.helm.sh/release-name: web}}
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

// TestFoldEndpoints checks that runs of endpoints with the same conditions
// become one endpoint each, addresses in order, and that the runs' address
// lists do not share room to grow.
func TestFoldEndpoints(t *testing.T) {
	yes, no, alsoYes := true, false, true
	node := "node-1"
	in := []discoveryv1.Endpoint{
		{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &yes}, NodeName: &node},
		{Addresses: []string{"10.0.0.2", "10.0.0.3"}, Conditions: discoveryv1.EndpointConditions{Ready: &alsoYes}},
		{Addresses: []string{"10.0.0.4"}, Conditions: discoveryv1.EndpointConditions{Ready: &no}},
		{Addresses: []string{"10.0.0.5"}, Conditions: discoveryv1.EndpointConditions{Ready: &yes, Terminating: &no}},
		{Addresses: []string{"10.0.0.6"}},
		{Addresses: []string{"10.0.0.7"}},
		{Addresses: []string{"10.0.0.8"}, Conditions: discoveryv1.EndpointConditions{Ready: &yes, Terminating: &yes}},
	}
	want := []EndpointRun{
		{Addresses: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, Ready: ConditionTrue},
		{Addresses: []string{"10.0.0.4"}, Ready: ConditionFalse},
		{Addresses: []string{"10.0.0.5"}, Ready: ConditionTrue, Terminating: ConditionFalse},
		{Addresses: []string{"10.0.0.6", "10.0.0.7"}},
		{Addresses: []string{"10.0.0.8"}, Ready: ConditionTrue, Terminating: ConditionTrue},
	}
	got := foldEndpoints(in)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("folded (-want +got):\n%s", d)
	}
	if cap(got) != len(want) {
		t.Errorf("endpoints: capacity %d for %d", cap(got), len(want))
	}
	_ = append(got[0].Addresses, "192.0.2.1")
	if got[1].Addresses[0] != "10.0.0.4" {
		t.Errorf("appending to the first run wrote the second: %v", got[1].Addresses)
	}
	if out := foldEndpoints(nil); out != nil {
		t.Errorf("no endpoints: %v", out)
	}
}

// TestOriginsOnlyWhenAsked checks that where objects were read is
// recorded only for loads that ask for it.
func TestOriginsOnlyWhenAsked(t *testing.T) {
	plain, _ := LoadBytes(LoadOptions{}, "t.yaml", []byte(trimInput))
	if len(plain.Origins) != 0 {
		t.Errorf("origins without asking: %v", plain.Origins)
	}
	idx, _ := LoadBytes(LoadOptions{Origins: true}, "t.yaml", []byte(trimInput))
	want := map[status.Ref]Origin{
		{Kind: status.KindService, Namespace: "ns", Name: "web"}:         {File: "t.yaml", Doc: 1, Line: 1},
		{Kind: status.KindEndpointSlice, Namespace: "ns", Name: "web-1"}: {File: "t.yaml", Doc: 2, Line: 14},
	}
	if d := cmp.Diff(want, idx.Origins); d != "" {
		t.Errorf("origins (-want +got):\n%s", d)
	}
}
