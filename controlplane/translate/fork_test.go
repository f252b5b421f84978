package translate

import (
	"strconv"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestFilterChainsForked checks that filter chains built on several forks
// are those of one translator, and that the merged registries are too: the
// first *graph.Cluster registered under a name and the last *graph.Secret.
func TestFilterChainsForked(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	cert := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	var hosts []*graph.SecureVirtualHost
	for i := range 30 {
		vh := g.SecureVirtualHost("h" + strconv.Itoa(i) + ".com")
		// Distinct *graph.Secret and *graph.Cluster values under equal
		// names, across the chunks of three forks.
		vh.Secret = &graph.Secret{Namespace: "ns", Name: "cert" + strconv.Itoa(i%4), Cert: cert}
		if i%3 == 0 {
			c := &graph.Cluster{Namespace: "ns", Service: "tcp" + strconv.Itoa(i%5), Port: corev1.ServicePort{Port: 443}}
			vh.TCPProxy = &graph.TCPProxy{Backends: []graph.Backend{{Cluster: c, Weight: 1}}}
		}
		hosts = append(hosts, vh)
	}
	kit, err := kitFor(g.AccessLog, g.Connections)
	if err != nil {
		t.Fatal(err)
	}
	newT := func() *translator {
		return &translator{g: g, idx: source.NewIndex(), clusters: map[string]*graph.Cluster{}, secrets: map[string]*graph.Secret{},
			names: map[*graph.Cluster]string{}, sources: newSourceMemo(0, kit.sourceMetadata), kit: kit}
	}
	one, three := newT(), newT()
	want, got := make([]*listenerv3.FilterChain, len(hosts)), make([]*listenerv3.FilterChain, len(hosts))
	one.forEachForked(1, len(hosts), func(f *translator, i int) {
		if f != one {
			t.Errorf("one worker: do ran on a fork")
		}
		want[i] = f.filterChain(hosts[i])
	})
	three.forEachForked(3, len(hosts), func(f *translator, i int) { got[i] = f.filterChain(hosts[i]) })
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		t.Errorf("filter chains (-one +three):\n%s", d)
	}
	if len(one.clusters) != 5 || len(one.secrets) != 4 {
		t.Fatalf("want 5 clusters and 4 secrets, got %d and %d", len(one.clusters), len(one.secrets))
	}
	for name, c := range one.clusters {
		if three.clusters[name] != c {
			t.Errorf("cluster %s: the forks kept a different *graph.Cluster", name)
		}
	}
	for name, s := range one.secrets {
		if three.secrets[name] != s {
			t.Errorf("secret %s: the forks kept a different *graph.Secret", name)
		}
	}
	// The registries follow the order of the items: the last host (29)
	// registers cert1 last, the first tcp proxy (host 0) tcp0 first.
	if s := one.secrets[SecretName(hosts[29].Secret)]; s != hosts[29].Secret {
		t.Errorf("secret of host 29: got %p, want the last registered %p", s, hosts[29].Secret)
	}
	if c := one.clusters[ClusterName(hosts[0].TCPProxy.Backends[0].Cluster)]; c != hosts[0].TCPProxy.Backends[0].Cluster {
		t.Errorf("cluster of host 0: not the first registered")
	}
}
