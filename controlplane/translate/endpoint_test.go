package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

func lbEndpoint(ip string, port uint32) *endpointv3.LbEndpoint {
	return &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}}}}
}

func ptr[T any](v T) *T { return &v }

func slice(name string, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		AddressType: discoveryv1.AddressTypeIPv4, Ports: ports, Endpoints: eps}
}

// webIndex is an index whose Service ns/web has slices and, when not nil,
// the v1 Endpoints legacy.
func webIndex(t testing.TB, legacy *corev1.Endpoints, slices ...*discoveryv1.EndpointSlice) *source.Index {
	t.Helper()
	idx := source.NewIndex()
	putSlices(t, idx, "web", slices...)
	if legacy != nil {
		idx.Endpoints[source.Key("ns", "web")] = legacy
	}
	return idx
}

// putSlices stores slices in idx as the EndpointSlices of Service ns/svc.
func putSlices(t testing.TB, idx *source.Index, svc string, slices ...*discoveryv1.EndpointSlice) {
	t.Helper()
	for _, s := range slices {
		s = s.DeepCopy()
		s.Labels = map[string]string{source.ServiceLabel: svc}
		if err := idx.Upsert(s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestClusterLoadAssignment(t *testing.T) {
	t.Parallel()
	httpPort := []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}, {Name: ptr("metrics"), Port: ptr(int32(9090))}}
	unnamed := []discoveryv1.EndpointPort{{Name: ptr(""), Port: ptr(int32(3000))}}
	ep := func(ready, terminating *bool, ips ...string) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{Addresses: ips, Conditions: discoveryv1.EndpointConditions{Ready: ready, Terminating: terminating}}
	}
	legacy := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "10.1.0.2"}, {IP: "10.1.0.1"}},
		Ports:     []corev1.EndpointPort{{Name: "http", Port: 8080}, {Name: "metrics", Port: 9090}},
	}}}
	for _, tc := range []struct {
		name   string
		slices []*discoveryv1.EndpointSlice
		legacy *corev1.Endpoints
		port   corev1.ServicePort
		want   *endpointv3.ClusterLoadAssignment
	}{
		{
			name: "slices: ready (or unknown) only, terminating or not, sorted, duplicates merged, by port name",
			slices: []*discoveryv1.EndpointSlice{
				slice("web-b", httpPort, ep(nil, nil, "10.0.0.9"), ep(ptr(false), nil, "10.0.0.5"), ep(ptr(true), ptr(true), "10.0.0.6")),
				slice("web-a", httpPort, ep(ptr(true), nil, "10.0.0.10", "10.0.0.1"), ep(nil, nil, "10.0.0.9")),
			},
			port: corev1.ServicePort{Name: "http", Port: 80},
			want: &endpointv3.ClusterLoadAssignment{ClusterName: "ns/web/http", Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{
				lbEndpoint("10.0.0.1", 8080), lbEndpoint("10.0.0.10", 8080), lbEndpoint("10.0.0.6", 8080), lbEndpoint("10.0.0.9", 8080)}}}},
		},
		{
			name:   "slices: unnamed port",
			slices: []*discoveryv1.EndpointSlice{slice("web-a", unnamed, ep(nil, nil, "10.0.0.1"))},
			port:   corev1.ServicePort{Port: 80},
			want: &endpointv3.ClusterLoadAssignment{ClusterName: "ns/web", Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{
				lbEndpoint("10.0.0.1", 3000)}}}},
		},
		{
			name:   "Endpoints when there are no slices",
			legacy: legacy,
			port:   corev1.ServicePort{Name: "metrics", Port: 9090},
			want: &endpointv3.ClusterLoadAssignment{ClusterName: "ns/web/metrics", Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{
				lbEndpoint("10.1.0.1", 9090), lbEndpoint("10.1.0.2", 9090)}}}},
		},
		{
			name:   "slices win over Endpoints",
			slices: []*discoveryv1.EndpointSlice{slice("web-a", httpPort, ep(nil, nil, "10.0.0.1"))},
			legacy: legacy,
			port:   corev1.ServicePort{Name: "http", Port: 80},
			want: &endpointv3.ClusterLoadAssignment{ClusterName: "ns/web/http", Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{
				lbEndpoint("10.0.0.1", 8080)}}}},
		},
		{
			name: "no endpoints: an empty assignment",
			port: corev1.ServicePort{Name: "http", Port: 80},
			want: &endpointv3.ClusterLoadAssignment{ClusterName: "ns/web/http"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idx := webIndex(t, tc.legacy, tc.slices...)
			got := ClusterLoadAssignment(idx, "ns", "web", tc.port)
			if d := cmp.Diff(tc.want, got, protocmp.Transform()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestEndpointSourceFinding(t *testing.T) {
	t.Parallel()
	idx := source.NewIndex()
	key := source.Key("ns", "web")
	putSlices(t, idx, "web", slice("web-a", nil))
	idx.Endpoints[key] = &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	g := graph.New(8080, 8443, graph.AccessLog{})
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}}
	web2 := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}, LoadBalancer: graph.Random}
	g.VirtualHost("a.com").AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: web}}})
	g.VirtualHost("a.com").AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/b"}, Backends: []graph.Backend{{Cluster: web2}}})
	res, findings, err := Translate(g, idx)
	if err != nil {
		t.Fatal(err)
	}
	want := []status.Finding{{Code: "EndpointSourceChoice", Severity: status.SeverityInfo,
		Objects: []status.Ref{{Kind: "Service", Namespace: "ns", Name: "web"}},
		Message: "Service ns/web has both EndpointSlices and a v1 Endpoints object; the EndpointSlices are used"}}
	if d := cmp.Diff(want, findings); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	// Two clusters (different load balancers) share one assignment.
	wantCLAs := []*endpointv3.ClusterLoadAssignment{{ClusterName: "ns/web/http"}}
	if d := cmp.Diff(wantCLAs, res.Endpoints, protocmp.Transform()); d != "" {
		t.Errorf("endpoints (-want +got):\n%s", d)
	}
	if len(res.Clusters) != 2 {
		t.Errorf("want 2 clusters, got %d", len(res.Clusters))
	}
}

// TestHealthCheckedEndpoints: a cluster whose health checks go to another
// Service port gets an assignment of its own, each endpoint naming the port
// its address serves the health port on; an address without it keeps the
// traffic port for checks (no health_check_config).
func TestHealthCheckedEndpoints(t *testing.T) {
	t.Parallel()
	both := []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}, {Name: ptr("health"), Port: ptr(int32(9090))}}
	httpOnly := []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}}
	idx := source.NewIndex()
	putSlices(t, idx, "web", slice("a", both, discoveryv1.Endpoint{Addresses: []string{"10.0.0.1"}}),
		slice("b", httpOnly, discoveryv1.Endpoint{Addresses: []string{"10.0.0.2"}}))
	c := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80},
		HealthPort: &corev1.ServicePort{Name: "health", Port: 8081}}
	checked := lbEndpoint("10.0.0.1", 8080)
	checked.GetEndpoint().HealthCheckConfig = &endpointv3.Endpoint_HealthCheckConfig{PortValue: 9090}
	want := &endpointv3.ClusterLoadAssignment{ClusterName: "ns/web/http/health/health", Endpoints: []*endpointv3.LocalityLbEndpoints{{
		LbEndpoints: []*endpointv3.LbEndpoint{checked, lbEndpoint("10.0.0.2", 8080)}}}}
	if got := ClusterEDSName(c); got != want.ClusterName {
		t.Errorf("EDS name %q, want %q", got, want.ClusterName)
	}
	if d := cmp.Diff(want, ClusterEndpoints(idx, c), protocmp.Transform()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if ClusterName(c) == ClusterName(&graph.Cluster{Namespace: "ns", Service: "web", Port: c.Port}) {
		t.Error("the cluster with a health port has the name of the one without")
	}
}

// TestEndpointsFindingsOnce: a Service read by several assignments (two
// ports) has its findings once, in the order of the first cluster reading
// each Service.
func TestEndpointsFindingsOnce(t *testing.T) {
	t.Parallel()
	idx := source.NewIndex()
	g := graph.New(8080, 8443, graph.AccessLog{})
	var want []status.Finding
	for i, svc := range []string{"a", "b"} {
		key := source.Key("ns", svc)
		putSlices(t, idx, svc, slice(svc, nil))
		idx.Endpoints[key] = &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: svc}}
		f, _ := EndpointSourceFinding(idx, "ns", svc)
		want = append(want, f)
		for j, port := range []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "admin", Port: 81}} {
			c := &graph.Cluster{Namespace: "ns", Service: svc, Port: port}
			g.VirtualHost("a.com").AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/" + svc + string(rune('0'+i*2+j))},
				Backends: []graph.Backend{{Cluster: c}}})
		}
	}
	res, findings, err := Translate(g, idx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, findings); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	var names []string
	for _, cla := range res.Endpoints {
		names = append(names, cla.GetClusterName())
	}
	if d := cmp.Diff([]string{"ns/a/admin", "ns/a/http", "ns/b/admin", "ns/b/http"}, names); d != "" {
		t.Errorf("assignments (-want +got):\n%s", d)
	}
}
