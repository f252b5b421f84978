package snapshot

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// change applies the change from prev to next to tr, as a server does.
func change(tr *Tracker, prev, next *xds.Resources) error {
	var set *Set
	if prev != nil {
		set = NewSet(prev)
	}
	c, _ := Diff(set, next)
	var put []Node
	var remove []Ref
	for k, d := range c {
		for _, it := range d.Changed {
			out, err := Outgoing(it.Resource, References)
			if err != nil {
				return err
			}
			put = append(put, Node{Ref{Kind(k), it.Name}, it.Resource, out})
		}
		for _, n := range d.Removed {
			remove = append(remove, Ref{Kind(k), n})
		}
	}
	return tr.Apply(put, remove)
}

// trackerState is a copy of a Tracker's state, to compare.
type trackerState struct {
	nodes    map[Ref]node
	users    map[Ref]int
	dangling int
}

func stateOf(tr *Tracker) trackerState {
	return trackerState{maps.Clone(tr.nodes), maps.Clone(tr.users), tr.dangling}
}

// edited returns a copy of res with lists of its own, for a test to edit.
func edited(res *xds.Resources) *xds.Resources {
	return &xds.Resources{Listeners: slices.Clone(res.Listeners), Routes: slices.Clone(res.Routes),
		Clusters: slices.Clone(res.Clusters), Endpoints: slices.Clone(res.Endpoints), Secrets: slices.Clone(res.Secrets)}
}

func routeTo(name, vhost string, clusters ...string) *routev3.RouteConfiguration {
	vh := &routev3.VirtualHost{Name: vhost}
	for _, c := range clusters {
		vh.Routes = append(vh.Routes, &routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: c}}}})
	}
	return &routev3.RouteConfiguration{Name: name, VirtualHosts: []*routev3.VirtualHost{vh}}
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

// listenerWith returns a listener with one filter chain: TLS with secret
// (when not empty), and an HCM for route (when not empty) or else a TCP
// proxy to cluster.
func listenerWith(name, secret, route, cluster string) *listenerv3.Listener {
	fc := &listenerv3.FilterChain{}
	if secret != "" {
		tls := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: secret}}}}
		fc.TransportSocket = &corev3.TransportSocket{Name: "tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(tls)}}
	}
	var filter proto.Message = &tcpproxyv3.TcpProxy{StatPrefix: "t", ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: cluster}}
	if route != "" {
		filter = &hcmv3.HttpConnectionManager{StatPrefix: "h", RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: route}}}
	}
	fc.Filters = []*listenerv3.Filter{{Name: "f", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(filter)}}}
	return &listenerv3.Listener{Name: name, FilterChains: []*listenerv3.FilterChain{fc}}
}

func edsCluster(name, service string) *clusterv3.Cluster {
	return &clusterv3.Cluster{Name: name, ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{ServiceName: service}}
}

// TestTrackerChanges starts from resources' consistent set (listener
// ingress_https → secret ns/s/1, route https/a.com, cluster c2; route →
// c1, mirror c2; EDS clusters c1 (ns/one/http) and c2) and applies one
// change.
func TestTrackerChanges(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		edit    func(r *xds.Resources)
		wantErr string
	}{
		"added route to a missing cluster": {func(r *xds.Resources) { r.Routes = append(r.Routes, routeTo("r2", "v", "c1", "nope")) },
			`route configuration "r2", virtual host "v", route 1: cluster "nope" does not exist`},
		"added listener naming a missing route configuration": {func(r *xds.Resources) { r.Listeners = append(r.Listeners, listenerWith("l2", "", "missing", "")) },
			`listener "l2": route configuration "missing" does not exist`},
		"added listener naming a missing secret": {func(r *xds.Resources) {
			r.Listeners = append(r.Listeners, listenerWith("l2", "nosecret", "https/a.com", ""))
		},
			`listener "l2": secret "nosecret" does not exist`},
		"added listener proxying to a missing cluster": {func(r *xds.Resources) { r.Listeners = append(r.Listeners, listenerWith("l2", "", "", "c9")) },
			`listener "l2": cluster "c9" does not exist`},
		"added EDS cluster without an assignment": {func(r *xds.Resources) { r.Clusters = append(r.Clusters, edsCluster("c3", "")) },
			`cluster "c3": ClusterLoadAssignment "c3" does not exist`},
		"replaced route naming a missing cluster": {func(r *xds.Resources) { r.Routes[0] = routeTo("https/a.com", "a.com", "gone") },
			`route configuration "https/a.com", virtual host "a.com", route 0: cluster "gone" does not exist`},
		"replaced cluster losing its assignment": {func(r *xds.Resources) { r.Clusters[0] = edsCluster("c1", "ns/two/http") },
			`cluster "c1": ClusterLoadAssignment "ns/two/http" does not exist`},
		"removed cluster still routed to": {func(r *xds.Resources) { r.Clusters, r.Endpoints = r.Clusters[1:], r.Endpoints[:1] },
			`route configuration "https/a.com", virtual host "a.com", route 0: cluster "c1" does not exist`},
		"removed cluster still proxied to": {func(r *xds.Resources) {
			r.Clusters, r.Endpoints = append(r.Clusters[:1:1], r.Clusters[2], r.Clusters[3]), r.Endpoints[1:]
		},
			`listener "ingress_https": cluster "c2" does not exist`},
		"removed JWKS cluster still fetched from": {func(r *xds.Resources) { r.Clusters = r.Clusters[:2] },
			`listener "ingress_https": cluster "jwks" does not exist`},
		"removed assignment still used":          {func(r *xds.Resources) { r.Endpoints = r.Endpoints[:1] }, `cluster "c1": ClusterLoadAssignment "ns/one/http" does not exist`},
		"removed secret still used":              {func(r *xds.Resources) { r.Secrets = nil }, `listener "ingress_https": secret "ns/s/1" does not exist`},
		"removed route configuration still used": {func(r *xds.Resources) { r.Routes = nil }, `listener "ingress_https": route configuration "https/a.com" does not exist`},
		"removed listener: nothing dangles":      {func(r *xds.Resources) { r.Listeners = nil }, ""},
		"removed with its only users": {func(r *xds.Resources) {
			r.Listeners, r.Routes, r.Secrets = nil, nil, nil
			r.Clusters, r.Endpoints = r.Clusters[1:], append(r.Endpoints[:1:1], r.Endpoints[2])
		}, ""},
		"route moved off a cluster removed at once": {func(r *xds.Resources) {
			r.Routes[0] = routeTo("https/a.com", "a.com", "c2")
			r.Clusters, r.Endpoints = r.Clusters[1:], append(r.Endpoints[:1:1], r.Endpoints[2])
		}, ""},
		"added with what it needs": {func(r *xds.Resources) {
			r.Clusters = append(r.Clusters, edsCluster("c3", ""))
			r.Endpoints = append(r.Endpoints, &endpointv3.ClusterLoadAssignment{ClusterName: "c3"})
			r.Routes = append(r.Routes, routeTo("r2", "v", "c3"))
			r.Listeners = append(r.Listeners, listenerWith("l2", "", "r2", ""))
		}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base := resources(t)
			var tr Tracker
			if err := change(&tr, nil, base); err != nil {
				t.Fatal(err)
			}
			before := stateOf(&tr)
			next := edited(base)
			tc.edit(next)
			next.Sort()
			err := change(&tr, base, next)
			if got := fmt.Sprint(err); (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && got != tc.wantErr) {
				t.Fatalf("Apply = %v, want %q", err, tc.wantErr)
			}
			if want := ConsistentWith(next, References); fmt.Sprint(want) != fmt.Sprint(err) {
				t.Errorf("Apply = %v, but ConsistentWith = %v", err, want)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ErrInconsistent) {
				t.Errorf("%v does not wrap ErrInconsistent", err)
			}
			if !reflect.DeepEqual(before, stateOf(&tr)) {
				t.Error("a refused change altered the tracker")
			}
			// The tracker still holds base: a change from it is checked
			// against it.
			if err := change(&tr, base, base); err != nil {
				t.Errorf("after the refusal: %v", err)
			}
		})
	}
}

// TestTrackerRefusesFirstSet: a first set is checked too, and refusing it
// leaves an empty tracker that takes the next set.
func TestTrackerRefusesFirstSet(t *testing.T) {
	t.Parallel()
	var tr Tracker
	broken := resources(t)
	broken.Secrets = nil
	if err := change(&tr, nil, broken); fmt.Sprint(err) != `listener "ingress_https": secret "ns/s/1" does not exist` {
		t.Errorf("Apply = %v", err)
	}
	if !reflect.DeepEqual(stateOf(&tr), stateOf(&Tracker{})) {
		t.Errorf("a refused first set left %+v", stateOf(&tr))
	}
	if err := change(&tr, nil, resources(t)); err != nil {
		t.Errorf("after the refusal: %v", err)
	}
}

// TestTrackerMatchesConsistentWith walks seeded random sequences of small
// sets and compares each verdict, and each error, with ConsistentWith's;
// after a refusal the tracker must be as before, and after every step as
// if built from scratch.
func TestTrackerMatchesConsistentWith(t *testing.T) {
	t.Parallel()
	accepted, refused := 0, 0
	for seed := range uint64(20) {
		g := &generator{rnd: rand.New(rand.NewPCG(seed, 1)), state: map[Ref]proto.Message{}}
		g.fill()
		applied := (*xds.Resources)(nil)
		var tr Tracker
		for step := range 150 {
			next := g.set()
			before := stateOf(&tr)
			err := change(&tr, applied, next)
			want := ConsistentWith(next, References)
			if fmt.Sprint(err) != fmt.Sprint(want) {
				t.Fatalf("seed %d step %d: Apply = %v, ConsistentWith = %v", seed, step, err, want)
			}
			if err != nil {
				refused++
				if !reflect.DeepEqual(before, stateOf(&tr)) {
					t.Fatalf("seed %d step %d: a refused change altered the tracker", seed, step)
				}
				if g.rnd.IntN(2) == 0 {
					g.reset(applied)
				}
			} else {
				accepted++
				applied = next
			}
			var fresh Tracker
			if err := change(&fresh, nil, applied); err != nil {
				t.Fatalf("seed %d step %d: the applied set: %v", seed, step, err)
			}
			if !reflect.DeepEqual(stateOf(&fresh), stateOf(&tr)) {
				t.Fatalf("seed %d step %d: the tracker differs from one built from the applied set", seed, step)
			}
			g.mutate()
		}
	}
	if accepted < 200 || refused < 200 {
		t.Errorf("%d sets accepted and %d refused: the generator should give plenty of both", accepted, refused)
	}
}

// generator makes random small sets over a few names, keeping the
// resources that did not change as the same messages.
type generator struct {
	rnd   *rand.Rand
	state map[Ref]proto.Message
}

var pools = [kinds][]string{
	KindListener: {"l0", "l1", "l2"},
	KindRoute:    {"r0", "r1", "r2", "r3"},
	KindCluster:  {"c0", "c1", "c2", "c3", "c4"},
	KindEndpoint: {"c0", "c1", "c2", "c3", "c4", "s0", "s1"},
	KindSecret:   {"x0", "x1", "x2"},
}

func (g *generator) pick(k Kind) string { return pools[k][g.rnd.IntN(len(pools[k]))] }

// fill puts every name of every pool.
func (g *generator) fill() {
	for k, names := range pools {
		for _, n := range names {
			g.state[Ref{Kind(k), n}] = g.resource(Kind(k), n)
		}
	}
}

// mutate removes or replaces one to three resources.
func (g *generator) mutate() {
	for range 1 + g.rnd.IntN(3) {
		k := Kind(g.rnd.IntN(kinds))
		r := Ref{k, g.pick(k)}
		if _, ok := g.state[r]; ok && g.rnd.IntN(2) == 0 {
			delete(g.state, r)
		} else {
			g.state[r] = g.resource(k, r.Name)
		}
	}
}

// reset makes the state res.
func (g *generator) reset(res *xds.Resources) {
	clear(g.state)
	c, _ := Diff(nil, res)
	for k, d := range c {
		for _, it := range d.Changed {
			g.state[Ref{Kind(k), it.Name}] = it.Resource
		}
	}
}

func (g *generator) set() *xds.Resources {
	res := &xds.Resources{}
	for r, m := range g.state {
		switch m := m.(type) {
		case *listenerv3.Listener:
			res.Listeners = append(res.Listeners, m)
		case *routev3.RouteConfiguration:
			res.Routes = append(res.Routes, m)
		case *clusterv3.Cluster:
			res.Clusters = append(res.Clusters, m)
		case *endpointv3.ClusterLoadAssignment:
			res.Endpoints = append(res.Endpoints, m)
		case *tlsv3.Secret:
			res.Secrets = append(res.Secrets, m)
		default:
			panic(r)
		}
	}
	res.Sort()
	return res
}

func (g *generator) resource(k Kind, name string) proto.Message {
	switch k {
	case KindListener:
		l := &listenerv3.Listener{Name: name}
		for range 1 + g.rnd.IntN(2) {
			secret, route, cluster := "", "", g.pick(KindCluster)
			if g.rnd.IntN(2) == 0 {
				secret = g.pick(KindSecret)
			}
			if g.rnd.IntN(3) > 0 {
				route = g.pick(KindRoute)
			}
			l.FilterChains = append(l.FilterChains, listenerWith(name, secret, route, cluster).FilterChains...)
		}
		return l
	case KindRoute:
		rc := &routev3.RouteConfiguration{Name: name}
		for i := range 1 + g.rnd.IntN(2) {
			rc.VirtualHosts = append(rc.VirtualHosts, g.virtualHost(fmt.Sprint("v", i)))
		}
		return rc
	case KindCluster:
		if g.rnd.IntN(4) == 0 {
			return &clusterv3.Cluster{Name: name, ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}}
		}
		service := ""
		if g.rnd.IntN(2) == 0 {
			service = pools[KindEndpoint][5+g.rnd.IntN(2)]
		}
		return edsCluster(name, service)
	case KindEndpoint:
		return &endpointv3.ClusterLoadAssignment{ClusterName: name}
	default:
		return &tlsv3.Secret{Name: name}
	}
}

// virtualHost returns a virtual host whose routes forward, split or
// mirror to random clusters, or redirect.
func (g *generator) virtualHost(name string) *routev3.VirtualHost {
	vh := &routev3.VirtualHost{Name: name}
	for range 1 + g.rnd.IntN(3) {
		a := &routev3.RouteAction{}
		switch g.rnd.IntN(3) {
		case 0:
			a.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: g.pick(KindCluster)}
		case 1:
			a.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{
				Clusters: []*routev3.WeightedCluster_ClusterWeight{{Name: g.pick(KindCluster)}, {Name: g.pick(KindCluster)}}}}
		default:
			vh.Routes = append(vh.Routes, &routev3.Route{Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{}}})
			continue
		}
		if g.rnd.IntN(3) == 0 {
			a.RequestMirrorPolicies = []*routev3.RouteAction_RequestMirrorPolicy{{Cluster: g.pick(KindCluster)}}
		}
		vh.Routes = append(vh.Routes, &routev3.Route{Action: &routev3.Route_Route{Route: a}})
	}
	return vh
}
