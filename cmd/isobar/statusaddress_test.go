package main

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestStatusLoadBalancer: --ingress-status-address replaces the Envoy
// Service's load balancer in statuses; read as Contour reads it, a
// comma-separated list of IP addresses and host names, each trimmed of
// spaces, empty items skipped. A value with no address in it gives none,
// and so does a missing Envoy Service.
func TestStatusLoadBalancer(t *testing.T) {
	idx := source.NewIndex()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "projectcontour", Name: "envoy"}}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1", Ports: []corev1.PortStatus{{Port: 80, Protocol: "TCP"}}}}
	if err := idx.Upsert(svc); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		envoyName, address string
		want               []corev1.LoadBalancerIngress
	}{
		"no flag: the Service's":        {address: "", want: []corev1.LoadBalancerIngress{{IP: "192.0.2.1", Ports: []corev1.PortStatus{{Port: 80, Protocol: "TCP"}}}}},
		"no flag, no Service":           {envoyName: "missing"},
		"IPv4":                          {address: "203.0.113.7", want: []corev1.LoadBalancerIngress{{IP: "203.0.113.7"}}},
		"IPv6":                          {address: "2001:db8::1", want: []corev1.LoadBalancerIngress{{IP: "2001:db8::1"}}},
		"host name":                     {address: "lb.example.com", want: []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}},
		"padded host name":              {address: "  lb.example.com      ", want: []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}},
		"padded IP":                     {address: " 10.0.0.1 ", want: []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}}},
		"only a comma":                  {address: ","},
		"only spaces":                   {address: "    "},
		"a trailing comma":              {address: "10.0.0.1,", want: []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}}},
		"a leading comma":               {address: ",10.0.0.1", want: []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}}},
		"a list, in order":              {address: "10.0.0.1,2001:4860:4860::8888,lb.example.com", want: []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}, {IP: "2001:4860:4860::8888"}, {Hostname: "lb.example.com"}}},
		"a list with spaces":            {address: "10.0.0.1, 2001:4860:4860::8888, lb.example.com", want: []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}, {IP: "2001:4860:4860::8888"}, {Hostname: "lb.example.com"}}},
		"a list with an empty item":     {address: "lb.example.com,, 10.0.0.1", want: []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}, {IP: "10.0.0.1"}}},
		"the flag wins with no Service": {envoyName: "missing", address: "10.0.0.1", want: []corev1.LoadBalancerIngress{{IP: "10.0.0.1"}}},
	} {
		s := &statusLoop{envoyNS: "projectcontour", envoyName: "envoy", statusAddress: tc.address}
		if tc.envoyName != "" {
			s.envoyName = tc.envoyName
		}
		if got := s.loadBalancer(idx); !reflect.DeepEqual(got.Ingress, tc.want) {
			t.Errorf("%s: address %q: %+v, want %+v", name, tc.address, got.Ingress, tc.want)
		}
	}
}
