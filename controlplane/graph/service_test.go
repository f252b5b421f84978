package graph

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestSharedServiceClusters: routes that leave a Service's cluster options
// at their defaults share its one Cluster; a route that sets options gets a
// copy with them, and the shared Cluster keeps the defaults.
func TestSharedServiceClusters(t *testing.T) {
	g, _ := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - conditions: [{prefix: /a}]
    services: [{name: s, port: 80}]
  - conditions: [{prefix: /b}]
    services: [{name: s, port: 80, weight: 2}, {name: t, port: 80, weight: 1}]
  - conditions: [{prefix: /lb}]
    loadBalancerPolicy: {strategy: Random}
    services: [{name: s, port: 80}]
  - conditions: [{prefix: /h2}]
    services: [{name: s, port: 80, protocol: h2c}]
  - conditions: [{prefix: /hc}]
    healthCheckPolicy: {path: /healthz}
    services: [{name: s, port: 80}]
`+svcs("ns", "s", "t"))
	vh := g.VirtualHosts["a.com"]
	if vh == nil {
		t.Fatal("no virtual host a.com")
	}
	cluster := func(prefix string, i int) *Cluster {
		t.Helper()
		for _, r := range vh.Routes {
			if r.Path.Value == prefix {
				return r.Backends[i].Cluster
			}
		}
		t.Fatalf("no route %s", prefix)
		return nil
	}
	shared := cluster("/a", 0)
	if cluster("/b", 0) != shared {
		t.Errorf("two routes with default options to ns/s:80 have different clusters")
	}
	want := Cluster{Namespace: "ns", Service: "s", Port: shared.Port, LoadBalancer: RoundRobin}
	if d := cmp.Diff(want, *shared); d != "" {
		t.Errorf("shared cluster (-want +got):\n%s", d)
	}
	if shared.Port.Port != 80 || shared.Port.Name != "http" {
		t.Errorf("shared cluster port %+v, want http 80", shared.Port)
	}
	if c := cluster("/b", 1); c == shared || c.Service != "t" {
		t.Errorf("ns/t's cluster is %+v", c)
	}
	for _, tc := range []struct {
		prefix string
		want   Cluster
	}{
		{"/lb", Cluster{Namespace: "ns", Service: "s", Port: shared.Port, LoadBalancer: Random}},
		{"/h2", Cluster{Namespace: "ns", Service: "s", Port: shared.Port, LoadBalancer: RoundRobin, Protocol: "h2c"}},
		{"/hc", Cluster{Namespace: "ns", Service: "s", Port: shared.Port, LoadBalancer: RoundRobin,
			HealthCheck: &HealthCheck{Path: "/healthz"}}},
	} {
		c := cluster(tc.prefix, 0)
		if c == shared {
			t.Errorf("%s: the route's options were set on the shared cluster", tc.prefix)
		}
		if d := cmp.Diff(tc.want, *c); d != "" {
			t.Errorf("%s: cluster (-want +got):\n%s", tc.prefix, d)
		}
	}
}

// TestWithOptions: withOptions answers its receiver when nothing changes,
// and a copy otherwise, leaving the receiver alone.
func TestWithOptions(t *testing.T) {
	base := &Cluster{Namespace: "ns", Service: "s", LoadBalancer: RoundRobin, Protocol: "h2"}
	if got := base.withOptions(clusterOptions{LoadBalancer: RoundRobin}); got != base {
		t.Errorf("same options: got a copy")
	}
	hc := &HealthCheck{Path: "/hc"}
	got := base.withOptions(clusterOptions{LoadBalancer: Cookie, HealthCheck: hc})
	if got == base {
		t.Fatalf("new options: got the receiver")
	}
	want := Cluster{Namespace: "ns", Service: "s", LoadBalancer: Cookie, Protocol: "h2", HealthCheck: hc}
	if d := cmp.Diff(want, *got); d != "" {
		t.Errorf("copy (-want +got):\n%s", d)
	}
	if base.LoadBalancer != RoundRobin || base.HealthCheck != nil {
		t.Errorf("receiver modified: %+v", base)
	}
}

// TestRecentServices: the memo answers what was put for the same key only
// (namespace, name and port), and keeps the last recentSize answers.
func TestRecentServices(t *testing.T) {
	key := func(ns, name string, port intstr.IntOrString) serviceKey { return serviceKey{ns, name, port} }
	var r recentServices
	c80, cHTTP := &Cluster{Service: "s80"}, &Cluster{Service: "shttp"}
	r.put(key("ns", "s", intstr.FromInt32(80)), serviceLookup{cluster: c80})
	r.put(key("ns", "s", intstr.FromString("http")), serviceLookup{cluster: cHTTP})
	for _, tc := range []struct {
		k    serviceKey
		want *Cluster
	}{
		{key("ns", "s", intstr.FromInt32(80)), c80},
		{key("ns", "s", intstr.FromString("http")), cHTTP},
		{key("ns", "s", intstr.FromString("80")), nil},
		{key("ns", "s", intstr.FromInt32(81)), nil},
		{key("other", "s", intstr.FromInt32(80)), nil},
		{key("ns", "t", intstr.FromInt32(80)), nil},
	} {
		l, ok := r.get(tc.k)
		if ok != (tc.want != nil) || l.cluster != tc.want {
			t.Errorf("get(%v) = %v, %v; want %v", tc.k, l.cluster, ok, tc.want)
		}
	}
	for i := range recentSize - 1 { // the first answer is now the oldest of recentSize+1
		r.put(key("ns", fmt.Sprint("x", i), intstr.FromInt32(80)), serviceLookup{cluster: &Cluster{}})
	}
	if _, ok := r.get(key("ns", "s", intstr.FromInt32(80))); ok {
		t.Errorf("the oldest answer is still kept")
	}
	if l, ok := r.get(key("ns", "s", intstr.FromString("http"))); !ok || l.cluster != cHTTP {
		t.Errorf("a recent answer is lost")
	}
}

// TestRootsResolveServicesApart: roots in different namespaces routing to
// the same Service (through includes) get equal Clusters, each its own
// (roots keep no memo in common).
func TestRootsResolveServicesApart(t *testing.T) {
	g, _ := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: a, namespace: one}
spec:
  virtualhost: {fqdn: a.com}
  includes: [{name: shared, namespace: ns}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: b, namespace: two}
spec:
  virtualhost: {fqdn: b.com}
  includes: [{name: shared, namespace: ns}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: shared, namespace: ns}
spec:
  routes:
  - services: [{name: s, port: 80}]
`+svcs("ns", "s"))
	var clusters []*Cluster
	for _, host := range []string{"a.com", "b.com"} {
		vh := g.VirtualHosts[host]
		if vh == nil || len(vh.Routes) != 1 {
			t.Fatalf("%s: virtual host %+v, want one route", host, vh)
		}
		for _, r := range vh.Routes {
			clusters = append(clusters, r.Backends[0].Cluster)
		}
	}
	want := Cluster{Namespace: "ns", Service: "s", Port: clusters[0].Port, LoadBalancer: RoundRobin}
	for i, c := range clusters {
		if d := cmp.Diff(want, *c); d != "" {
			t.Errorf("cluster %d (-want +got):\n%s", i, d)
		}
	}
}

// TestUpstreamProtocol: Contour's rules for the protocol Envoy speaks to a
// Service port. A port's appProtocol alone decides when set
// (kubernetes.io/h2c is h2c, https is tls, any other value plain HTTP/1.1),
// whatever the annotations say; otherwise the upstream-protocol
// annotations, the port's name before its number, tls over h2c over h2.
func TestUpstreamProtocol(t *testing.T) {
	t.Parallel()
	tlsBoth := map[string]string{"projectcontour.io/upstream-protocol.tls": "8443, 8444"}
	for name, tc := range map[string]struct {
		annotations map[string]string
		appProtocol string // "" for none
		port        int32
		portName    string
		want        string
	}{
		"no annotation, no appProtocol":          {port: 80, want: ""},
		"tls annotation by number":               {annotations: tlsBoth, port: 8443, want: "tls"},
		"appProtocol kubernetes.io/h2c wins":     {annotations: tlsBoth, port: 8443, appProtocol: "kubernetes.io/h2c", want: "h2c"},
		"appProtocol kubernetes.io/wss: plain":   {annotations: tlsBoth, port: 8444, appProtocol: "kubernetes.io/wss", want: ""},
		"appProtocol http: plain":                {annotations: tlsBoth, port: 8443, appProtocol: "http", want: ""},
		"appProtocol kubernetes.io/ws: plain":    {port: 80, appProtocol: "kubernetes.io/ws", want: ""},
		"appProtocol https: tls":                 {port: 443, appProtocol: "https", want: "tls"},
		"appProtocol h2: plain":                  {port: 443, appProtocol: "h2", want: ""},
		"appProtocol kubernetes.io/h2: plain":    {port: 443, appProtocol: "kubernetes.io/h2", want: ""},
		"appProtocol tls: plain":                 {port: 443, appProtocol: "tls", want: ""},
		"appProtocol kubernetes.io/tls: plain":   {port: 443, appProtocol: "kubernetes.io/tls", want: ""},
		"appProtocol h2c (no prefix): plain":     {port: 80, appProtocol: "h2c", want: ""},
		"an empty appProtocol is set: plain":     {annotations: tlsBoth, port: 8443, appProtocol: "-", want: ""},
		"h2c annotation by name":                 {annotations: map[string]string{"projectcontour.io/upstream-protocol.h2c": "grpc"}, port: 50051, portName: "grpc", want: "h2c"},
		"heptio-era prefix":                      {annotations: map[string]string{"contour.heptio.com/upstream-protocol.h2": "80"}, port: 80, want: "h2"},
		"listed under h2 and tls: tls":           {annotations: map[string]string{"projectcontour.io/upstream-protocol.h2": "443", "projectcontour.io/upstream-protocol.tls": "443"}, port: 443, want: "tls"},
		"listed under h2c and h2: h2c":           {annotations: map[string]string{"projectcontour.io/upstream-protocol.h2": "web", "projectcontour.io/upstream-protocol.h2c": "web"}, port: 80, portName: "web", want: "h2c"},
		"the name's listing before the number's": {annotations: map[string]string{"projectcontour.io/upstream-protocol.tls": "80", "projectcontour.io/upstream-protocol.h2": "web"}, port: 80, portName: "web", want: "h2"},
		"another port listed":                    {annotations: tlsBoth, port: 80, portName: "web", want: ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			svc := &source.Service{Annotations: tc.annotations}
			sp := corev1.ServicePort{Name: tc.portName, Port: tc.port}
			switch tc.appProtocol {
			case "":
			case "-":
				sp.AppProtocol = new(string)
			default:
				sp.AppProtocol = &tc.appProtocol
			}
			if got := upstreamProtocol(svc, sp); got != tc.want {
				t.Errorf("upstreamProtocol = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFindPort(t *testing.T) {
	t.Parallel()
	svc := &source.Service{Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "8443", Port: 443}}}
	for _, tc := range []struct {
		ref    intstr.IntOrString
		want   int32 // 0: not found
		reason string
	}{
		{intstr.FromInt32(80), 80, "a number"},
		{intstr.FromString("http"), 80, "a name"},
		{intstr.FromString("80"), 80, "a string that is a number names a port number"},
		{intstr.FromString("8443"), 443, "a port named like a number is found by its name first"},
		{intstr.FromString("4294967376"), 0, "a number beyond 65535 is not truncated to 32 bits (which is 80)"},
		{intstr.FromString("-80"), 0, "a negative number"},
		{intstr.FromInt32(81), 0, "no such port"},
	} {
		sp, ok := findPort(svc, tc.ref)
		if got := sp.Port; ok != (tc.want != 0) || got != tc.want {
			t.Errorf("%s: findPort(%s) = %d, %v; want %d", tc.reason, tc.ref.String(), got, ok, tc.want)
		}
	}
}

func TestExternalNameValid(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"api.example.com":        "",
		"api.example.com.":       "", // a trailing dot, as the API server allows
		"10.0.0.1":               "", // a DNS subdomain by its syntax, as for the API server
		"":                       "is empty",
		".":                      "is empty",
		"API.example.com":        "is not a DNS name",
		"api_1.example.com":      "is not a DNS name",
		"api example.com":        "is not a DNS name",
		strings.Repeat("a", 254): "is 254 characters long; a DNS name has at most 253",
	} {
		err := externalNameValid(name)
		switch {
		case want == "" && err != nil:
			t.Errorf("externalNameValid(%q) = %v, want nil", name, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("externalNameValid(%q) = %v, want an error containing %q", name, err, want)
		}
	}
}
