package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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
