package snapshot

import (
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// summarize renders changes as "kind +name" for changed resources and
// "kind -name" for removed names.
func summarize(c Changes) []string {
	var out []string
	for k, d := range c {
		for _, it := range d.Changed {
			out = append(out, Kind(k).String()+" +"+it.Name)
		}
		for _, n := range d.Removed {
			out = append(out, Kind(k).String()+" -"+n)
		}
	}
	return out
}

func TestDiff(t *testing.T) {
	t.Parallel()
	rc := func(name string) *routev3.RouteConfiguration { return &routev3.RouteConfiguration{Name: name} }
	cl := func(name string) *clusterv3.Cluster { return &clusterv3.Cluster{Name: name} }
	cla := func(name string) *endpointv3.ClusterLoadAssignment {
		return &endpointv3.ClusterLoadAssignment{ClusterName: name}
	}
	a, b, c, d := rc("a"), rc("b"), rc("c"), rc("d")
	c1, c2 := cl("c1"), cl("c2")
	e1, e2 := cla("e1"), cla("e2")
	s1 := &tlsv3.Secret{Name: "s1"}
	prev := &xds.Resources{Routes: []*routev3.RouteConfiguration{a, b, c}, Clusters: []*clusterv3.Cluster{c1, c2},
		Endpoints: []*endpointv3.ClusterLoadAssignment{e1, e2}, Secrets: []*tlsv3.Secret{s1}}
	for name, tc := range map[string]struct {
		prev, next *xds.Resources
		want       []string
	}{
		"from nothing": {nil, prev, []string{"route configuration +a", "route configuration +b", "route configuration +c",
			"cluster +c1", "cluster +c2", "ClusterLoadAssignment +e1", "ClusterLoadAssignment +e2", "secret +s1"}},
		"to nothing":     {prev, &xds.Resources{}, []string{"route configuration -a", "route configuration -b", "route configuration -c", "cluster -c1", "cluster -c2", "ClusterLoadAssignment -e1", "ClusterLoadAssignment -e2", "secret -s1"}},
		"same pointers":  {prev, &xds.Resources{Routes: []*routev3.RouteConfiguration{a, b, c}, Clusters: []*clusterv3.Cluster{c1, c2}, Endpoints: []*endpointv3.ClusterLoadAssignment{e1, e2}, Secrets: []*tlsv3.Secret{s1}}, nil},
		"equal content":  {prev, &xds.Resources{Routes: []*routev3.RouteConfiguration{a, rc("b"), c}, Clusters: []*clusterv3.Cluster{c1, c2}, Endpoints: []*endpointv3.ClusterLoadAssignment{e1, e2}, Secrets: []*tlsv3.Secret{s1}}, []string{"route configuration +b"}},
		"add and remove": {prev, &xds.Resources{Routes: []*routev3.RouteConfiguration{b, c, d}, Clusters: []*clusterv3.Cluster{c2}, Endpoints: []*endpointv3.ClusterLoadAssignment{cla("e0"), e1, cla("e2")}, Secrets: []*tlsv3.Secret{s1}}, []string{"route configuration +d", "route configuration -a", "cluster -c1", "ClusterLoadAssignment +e0", "ClusterLoadAssignment +e2"}},
		"unsorted":       {prev, &xds.Resources{Routes: []*routev3.RouteConfiguration{d, c, b}, Clusters: []*clusterv3.Cluster{c2, c1}, Endpoints: []*endpointv3.ClusterLoadAssignment{e2, e1}, Secrets: []*tlsv3.Secret{s1}}, []string{"route configuration +d", "route configuration -a"}},
		"unsorted prev":  {&xds.Resources{Routes: []*routev3.RouteConfiguration{c, a, b}}, &xds.Resources{Routes: []*routev3.RouteConfiguration{a, b, d}}, []string{"route configuration +d", "route configuration -c"}},
		// Unsorted where every pointer is prev's: the order is still checked.
		"swapped pointers": {prev, &xds.Resources{Routes: []*routev3.RouteConfiguration{a, c, b}, Clusters: []*clusterv3.Cluster{c1, c2}, Endpoints: []*endpointv3.ClusterLoadAssignment{e1, e2}, Secrets: []*tlsv3.Secret{s1}}, nil},
		"reversed":         {prev, &xds.Resources{Routes: []*routev3.RouteConfiguration{c, b, a}, Clusters: []*clusterv3.Cluster{c2, c1}, Endpoints: []*endpointv3.ClusterLoadAssignment{e2, e1}, Secrets: []*tlsv3.Secret{s1}}, nil},
		// The last of several resources of one name wins, as in a map.
		"duplicates": {prev, &xds.Resources{Routes: []*routev3.RouteConfiguration{a, b, rc("b"), c, c}, Clusters: []*clusterv3.Cluster{c1, c2}, Endpoints: []*endpointv3.ClusterLoadAssignment{e1, e2}, Secrets: []*tlsv3.Secret{s1}}, []string{"route configuration +b"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var before []*routev3.RouteConfiguration
			if tc.next != nil {
				before = slices.Clone(tc.next.Routes)
			}
			var prev *Set
			if tc.prev != nil {
				prev = NewSet(tc.prev)
			}
			got, _ := Diff(prev, tc.next)
			if diff := cmp.Diff(tc.want, summarize(got)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if !slices.Equal(before, tc.next.Routes) {
				t.Error("Diff reordered its input")
			}
		})
	}
}

// TestDiffReportsTheNewPointer: a changed item is the next set's resource.
func TestDiffReportsTheNewPointer(t *testing.T) {
	t.Parallel()
	old, repl := &clusterv3.Cluster{Name: "c"}, &clusterv3.Cluster{Name: "c"}
	c, _ := Diff(NewSet(&xds.Resources{Clusters: []*clusterv3.Cluster{old}}), &xds.Resources{Clusters: []*clusterv3.Cluster{repl}})
	d := c[KindCluster]
	if len(d.Changed) != 1 || d.Changed[0].Resource != repl || d.Changed[0].Name != "c" {
		t.Errorf("Diff = %+v, want the replacement c", d)
	}
}

func TestNewSet(t *testing.T) {
	t.Parallel()
	a, b, b2 := &routev3.RouteConfiguration{Name: "a"}, &routev3.RouteConfiguration{Name: "b"}, &routev3.RouteConfiguration{Name: "b"}
	c1 := &clusterv3.Cluster{Name: "c1"}
	in := &xds.Resources{Routes: []*routev3.RouteConfiguration{b, a, b2}, Clusters: []*clusterv3.Cluster{c1}}
	got := NewSet(in).Resources()
	if !slices.Equal(got.Routes, []*routev3.RouteConfiguration{a, b2}) {
		t.Errorf("routes: got %v, want a and the second b", got.Routes)
	}
	if !slices.Equal(in.Routes, []*routev3.RouteConfiguration{b, a, b2}) {
		t.Error("NewSet reordered its input")
	}
	in.Clusters[0] = &clusterv3.Cluster{Name: "other"}
	if got.Clusters[0] != c1 {
		t.Error("a sorted list was not copied: changing the input changed the set")
	}
}

func TestPutEndpoints(t *testing.T) {
	t.Parallel()
	cla := func(name string) *endpointv3.ClusterLoadAssignment {
		return &endpointv3.ClusterLoadAssignment{ClusterName: name}
	}
	b, d, b2, a, c, e := cla("b"), cla("d"), cla("b"), cla("a"), cla("c"), cla("e")
	s := NewSet(&xds.Resources{Endpoints: []*endpointv3.ClusterLoadAssignment{b, d}})
	s.PutEndpoints(b2, a, c, e)
	if got := s.Resources().Endpoints; !slices.Equal(got, []*endpointv3.ClusterLoadAssignment{a, b2, c, d, e}) {
		t.Errorf("got %v", got)
	}
}

// TestDiffSharesUnchangedLists: a list holding the very same resources as
// the previous set's is shared with it, not copied, and PutEndpoints on one
// set leaves the other as it was.
func TestDiffSharesUnchangedLists(t *testing.T) {
	t.Parallel()
	a, b := &endpointv3.ClusterLoadAssignment{ClusterName: "a"}, &endpointv3.ClusterLoadAssignment{ClusterName: "b"}
	in := &xds.Resources{Endpoints: []*endpointv3.ClusterLoadAssignment{a}, Clusters: []*clusterv3.Cluster{{Name: "c"}}}
	first := NewSet(in)
	c, second := Diff(first, &xds.Resources{Endpoints: slices.Clone(in.Endpoints), Clusters: []*clusterv3.Cluster{{Name: "c"}}})
	if len(summarize(c)) != 1 {
		t.Fatalf("changes %v, want the new cluster only", summarize(c))
	}
	if &second.Resources().Endpoints[0] != &first.Resources().Endpoints[0] {
		t.Error("an unchanged list was copied")
	}
	second.PutEndpoints(b)
	if got := first.Resources().Endpoints; !slices.Equal(got, []*endpointv3.ClusterLoadAssignment{a}) {
		t.Errorf("PutEndpoints on the second set changed the first's list: %v", got)
	}
	_, third := Diff(first, first.Resources())
	third.PutEndpoints(&endpointv3.ClusterLoadAssignment{ClusterName: "a"})
	if first.Resources().Endpoints[0] != a {
		t.Error("PutEndpoints replaced an assignment in a shared list")
	}
}

// TestDiffMatchesMaps compares Diff with a diff of name maps on random
// lists drawn from a few names, sorted or shuffled, with duplicates, and
// keeping, replacing or dropping the previous set's resources.
func TestDiffMatchesMaps(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(1, 2))
	names := []string{"a", "b", "c", "d", "e", "f", "g"}
	random := func(from []*clusterv3.Cluster) []*clusterv3.Cluster {
		var out []*clusterv3.Cluster
		for _, n := range names {
			switch rnd.IntN(4) {
			case 0: // absent
			case 1:
				out = append(out, &clusterv3.Cluster{Name: n})
			default:
				if i := slices.IndexFunc(from, func(c *clusterv3.Cluster) bool { return c.GetName() == n }); i >= 0 {
					out = append(out, from[i])
				}
			}
		}
		if rnd.IntN(5) == 0 && len(out) > 0 {
			out = append(out, &clusterv3.Cluster{Name: out[rnd.IntN(len(out))].GetName()})
		}
		if rnd.IntN(3) == 0 {
			rnd.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		}
		return out
	}
	byName := func(list []*clusterv3.Cluster) map[string]*clusterv3.Cluster {
		m := map[string]*clusterv3.Cluster{}
		for _, c := range list {
			m[c.GetName()] = c
		}
		return m
	}
	var prev *Set
	var prevList []*clusterv3.Cluster
	for step := range 2000 {
		list := random(prevList)
		c, next := Diff(prev, &xds.Resources{Clusters: list})
		was, is := byName(prevList), byName(list)
		var want Delta
		for _, n := range names {
			if x, ok := is[n]; ok && was[n] != x {
				want.Changed = append(want.Changed, Item{n, x})
			}
			if _, ok := is[n]; !ok && was[n] != nil {
				want.Removed = append(want.Removed, n)
			}
		}
		if !reflect.DeepEqual(want, c[KindCluster]) {
			t.Fatalf("step %d: Diff = %v, want %v", step, c[KindCluster], want)
		}
		sorted := slices.SortedFunc(maps.Values(is), func(a, b *clusterv3.Cluster) int { return strings.Compare(a.GetName(), b.GetName()) })
		if !slices.Equal(next.Resources().Clusters, sorted) {
			t.Fatalf("step %d: the set is not the sorted list", step)
		}
		prev, prevList = next, list
	}
}
