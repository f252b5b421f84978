package translate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// TestEndpointFindings: one walk of a Service's endpoint source reports its
// refused addresses (ready or not, sorted, without repeats) and its ports
// that are not port numbers, each with the objects holding them; Endpoints
// are only read without EndpointSlices; a clean Service has nothing to say.
func TestEndpointFindings(t *testing.T) {
	t.Parallel()
	http := func(port int32) []discoveryv1.EndpointPort {
		return []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(port)}}
	}
	ep := func(ready bool, ips ...string) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{Addresses: ips, Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready)}}
	}
	legacy := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Subsets: []corev1.EndpointSubset{{
		Addresses:         []corev1.EndpointAddress{{IP: "10.1.0.1"}, {IP: "0.0.0.0"}},
		NotReadyAddresses: []corev1.EndpointAddress{{IP: "::1"}},
		Ports:             []corev1.EndpointPort{{Name: "http", Port: 0}, {Name: "metrics", Port: 9090}},
	}}}
	ref := func(kind, name string) status.Ref { return status.Ref{Kind: kind, Namespace: "ns", Name: name} }
	addresses := func(list string, objs ...status.Ref) status.Finding {
		return status.Finding{Code: FindingEndpointAddress, Severity: status.SeverityWarning, Objects: objs,
			Message: "Service ns/web: endpoint addresses " + list + " are unspecified, loopback or link-local; " +
				"Envoy is never sent there (they reach Envoy itself, its node or the cloud's metadata service), so they are left out"}
	}
	ports := func(list string, objs ...status.Ref) status.Finding {
		return status.Finding{Code: FindingEndpointPort, Severity: status.SeverityWarning, Objects: objs,
			Message: "Service ns/web: endpoint ports " + list + " are not port numbers (1–65535); the endpoints behind them are left out"}
	}
	svc := ref(status.KindService, "web")
	for _, tc := range []struct {
		name   string
		slices []*discoveryv1.EndpointSlice
		legacy *corev1.Endpoints
		want   []status.Finding
	}{
		{
			name: "slices",
			slices: []*discoveryv1.EndpointSlice{
				slice("web-c", http(8080), ep(true, "10.0.0.3")),
				slice("web-b", http(8080), ep(true, "169.254.169.254"), ep(false, "127.0.0.1")),
				slice("web-a", http(99999), ep(true, "10.0.0.1", "127.0.0.1"), ep(false, "fe80::1")),
			},
			want: []status.Finding{
				addresses("127.0.0.1, 169.254.169.254, fe80::1", ref(status.KindEndpointSlice, "web-a"), ref(status.KindEndpointSlice, "web-b"), svc),
				ports("99999", ref(status.KindEndpointSlice, "web-a"), svc),
			},
		},
		{
			name:   "Endpoints",
			legacy: legacy,
			want: []status.Finding{
				addresses("0.0.0.0, ::1", ref(status.KindEndpoints, "web"), svc),
				ports("0", ref(status.KindEndpoints, "web"), svc),
			},
		},
		{
			name:   "slices win over Endpoints",
			slices: []*discoveryv1.EndpointSlice{slice("web-a", http(8080), ep(true, "10.0.0.1"))},
			legacy: legacy,
			want: []status.Finding{{Code: FindingEndpointSource, Severity: status.SeverityInfo, Objects: []status.Ref{svc},
				Message: "Service ns/web has both EndpointSlices and a v1 Endpoints object; the EndpointSlices are used"}},
		},
		{name: "clean", slices: []*discoveryv1.EndpointSlice{slice("web-a", http(8080), ep(true, "10.0.0.1", "fd00::1"))}},
		{name: "no endpoints"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idx := webIndex(t, tc.legacy, tc.slices...)
			if d := cmp.Diff(tc.want, EndpointFindings(idx, "ns", "web")); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestEndpointFindingsClean: a Service whose endpoints are all allowed (the
// common case) costs no allocation (not parallel: AllocsPerRun).
func TestEndpointFindingsClean(t *testing.T) {
	idx := source.NewIndex()
	putSlices(t, idx, "web", slice("web-a",
		[]discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}},
		discoveryv1.Endpoint{Addresses: []string{"10.0.0.1", "fd00::1"}}))
	if n := testing.AllocsPerRun(10, func() { EndpointFindings(idx, "ns", "web") }); n != 0 {
		t.Errorf("%v allocations without findings", n)
	}
}
