package kube

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// TestIngressLB: an Ingress's load-balancer status has the Envoy Service's
// entries with their IP, host name and ports (port, protocol and error), as
// Contour's.
func TestIngressLB(t *testing.T) {
	t.Parallel()
	pending := "Pending"
	for name, tc := range map[string]struct {
		in   corev1.LoadBalancerStatus
		want networkingv1.IngressLoadBalancerStatus
	}{
		"none": {},
		"IP, no ports": {
			in:   corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}},
			want: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}},
		},
		"IP with ports, one with an error": {
			in: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.1",
				Ports: []corev1.PortStatus{{Port: 80, Protocol: corev1.ProtocolTCP}, {Port: 443, Protocol: corev1.ProtocolTCP, Error: &pending}}}}},
			want: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1",
				Ports: []networkingv1.IngressPortStatus{{Port: 80, Protocol: "TCP"}, {Port: 443, Protocol: "TCP", Error: &pending}}}}},
		},
		"a host name and an IP, in order": {
			in: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{
				{Hostname: "lb.example.com", Ports: []corev1.PortStatus{{Port: 53, Protocol: corev1.ProtocolUDP}}}, {IP: "2001:db8::1"}}},
			want: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{
				{Hostname: "lb.example.com", Ports: []networkingv1.IngressPortStatus{{Port: 53, Protocol: "UDP"}}}, {IP: "2001:db8::1"}}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := ingressLB(tc.in)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ingressLB (-want +got):\n%s", d)
			}
			if len(tc.in.Ingress) > 0 && len(tc.in.Ingress[0].Ports) > 1 && got.Ingress[0].Ports[1].Error == tc.in.Ingress[0].Ports[1].Error {
				t.Error("the port's error is shared with the Service's status, not copied")
			}
		})
	}
}

// TestStatusJobsLoadBalancer: a load balancer with an address is written
// to every HTTPProxy, IngressRoute and Ingress; one with none (the Envoy
// Service is missing or has no address yet) leaves each object's address as
// it is, as Contour does, so only statuses that change for another reason
// are written, with the address they had.
func TestStatusJobsLoadBalancer(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	before := metav1.NewTime(now.Add(-time.Hour))
	old := corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}}
	valid := []contourv1.DetailedCondition{{Condition: metav1.Condition{Type: "Valid", Status: "True", Reason: "Valid",
		Message: "Valid HTTPProxy", ObservedGeneration: 1, LastTransitionTime: before}}}
	newIndex := func(t *testing.T) *source.Index {
		idx := source.NewIndex()
		for _, o := range []any{
			// a/kept: valid, with the old address.
			&contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "kept", Generation: 1},
				Status: contourv1.HTTPProxyStatus{CurrentStatus: "valid", Description: "Valid HTTPProxy", Conditions: valid, LoadBalancer: old}},
			// a/changed: invalid before, with the old address.
			&contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "changed", Generation: 1},
				Status: contourv1.HTTPProxyStatus{CurrentStatus: "invalid", LoadBalancer: old}},
			// a/fresh: no status yet.
			&contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "fresh", Generation: 1}},
			&heptiov1beta1.IngressRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "route"},
				Status: heptiov1beta1.Status{CurrentStatus: "valid", Description: "valid IngressRoute", LoadBalancer: old}},
			&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "ing"},
				Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{
					Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}}}},
			&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "bare"}},
		} {
			if err := idx.Upsert(o); err != nil {
				t.Fatal(err)
			}
		}
		return idx
	}
	proxy := func(name string) status.Object {
		return status.Object{Ref: status.Ref{Kind: status.KindHTTPProxy, Namespace: "a", Name: name},
			CurrentStatus: "valid", Description: "Valid HTTPProxy",
			Conditions: []status.Condition{{Type: "Valid", Status: "True", Reason: "Valid", Message: "Valid HTTPProxy"}}}
	}
	objs := []status.Object{proxy("kept"), proxy("changed"), proxy("fresh"),
		{Ref: status.Ref{Kind: status.KindIngressRoute, Namespace: "a", Name: "route"}, CurrentStatus: "valid", Description: "valid IngressRoute"},
		{Ref: status.Ref{Kind: status.KindIngress, Namespace: "a", Name: "ing"}},
		{Ref: status.Ref{Kind: status.KindIngress, Namespace: "a", Name: "bare"}}}
	newLB := corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "203.0.113.9",
		Ports: []corev1.PortStatus{{Port: 80, Protocol: corev1.ProtocolTCP}}}}}
	newIngressLB := networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "203.0.113.9",
		Ports: []networkingv1.IngressPortStatus{{Port: 80, Protocol: "TCP"}}}}}
	for name, tc := range map[string]struct {
		lb corev1.LoadBalancerStatus
		// want is the address each written object gets, by kind/name.
		want map[string]any
	}{
		"no address: only changed statuses are written, keeping theirs": {
			want: map[string]any{"HTTPProxy/changed": old, "HTTPProxy/fresh": corev1.LoadBalancerStatus{}},
		},
		"an empty list of addresses is no address": {
			lb:   corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{}},
			want: map[string]any{"HTTPProxy/changed": old, "HTTPProxy/fresh": corev1.LoadBalancerStatus{}},
		},
		"the old address: only changed statuses are written": {
			lb: old,
			want: map[string]any{"HTTPProxy/changed": old, "HTTPProxy/fresh": old,
				"Ingress/bare": networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}}},
		},
		"a new address, with ports: written everywhere": {
			lb: newLB,
			want: map[string]any{"HTTPProxy/kept": newLB, "HTTPProxy/changed": newLB, "HTTPProxy/fresh": newLB,
				"IngressRoute/route": newLB, "Ingress/ing": newIngressLB, "Ingress/bare": newIngressLB},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			idx := newIndex(t)
			w := &StatusWriter{Now: func() time.Time { return now }}
			got := map[string]any{}
			for _, j := range w.jobs(idx, nil, objs, tc.lb) {
				key := j.kind + "/" + j.obj.GetName()
				switch d := j.desired.(type) {
				case *contourv1.HTTPProxy:
					got[key] = d.Status.LoadBalancer
					if d.Status.CurrentStatus != "valid" {
						t.Errorf("%s: currentStatus %q", key, d.Status.CurrentStatus)
					}
				case *heptiov1beta1.IngressRoute:
					got[key] = d.Status.LoadBalancer
				case *networkingv1.Ingress:
					got[key] = d.Status.LoadBalancer
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("addresses written (-want +got):\n%s", d)
			}
		})
	}
}
