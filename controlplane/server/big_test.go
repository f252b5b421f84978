package server

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// bigRoutes returns synthetic(t, 3) with the route configuration "http"
// holding n virtual hosts (from 512, the encoder splits it), each routing
// to one of the clusters, and a field numbered after the virtual hosts.
func bigRoutes(t *testing.T, n int) *xds.Resources {
	res := synthetic(t, 3)
	rc := &routev3.RouteConfiguration{Name: "http", InternalOnlyHeaders: []string{"x-internal"}}
	for i := range n {
		rc.VirtualHosts = append(rc.VirtualHosts, bigHost(i, fmt.Sprintf("c%02d", i%3), "/"))
	}
	res.Routes = []*routev3.RouteConfiguration{rc}
	return res
}

func bigHost(i int, cluster, prefix string) *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: fmt.Sprint("h", i), Domains: []string{fmt.Sprintf("h%d.example.com", i)},
		Routes: []*routev3.Route{routeTo(prefix, cluster)}}
}

// withHost returns res with a new route configuration "http" that keeps
// the virtual hosts of res's but the i-th, replaced by vh.
func withHost(res *xds.Resources, i int, vh *routev3.VirtualHost) *xds.Resources {
	next := *res
	old := res.Routes[0]
	rc := &routev3.RouteConfiguration{Name: old.GetName(), VirtualHosts: slices.Clone(old.GetVirtualHosts()), InternalOnlyHeaders: old.GetInternalOnlyHeaders()}
	rc.VirtualHosts[i] = vh
	next.Routes = []*routev3.RouteConfiguration{rc}
	return &next
}

// TestBigRouteConfiguration: a route configuration big enough to be
// encoded virtual host by virtual host reaches a delta stream byte for
// byte as proto encodes it, after changes of one host too; its version,
// built incrementally over several sets, is the one a fresh server gives
// the same content, one host changed changes it, and a host routing to a
// missing cluster is refused.
func TestBigRouteConfiguration(t *testing.T) {
	res := bigRoutes(t, 600)
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := pump(st.Recv)
	if err := st.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNamesSubscribe: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	receive := func(step string, want *xds.Resources) string {
		t.Helper()
		r, ok := in.next(t, 5*time.Second)
		if !ok || len(r.GetResources()) != 1 {
			t.Fatalf("%s: got %v", step, r)
		}
		if err := st.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.RouteType, ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
		got := r.GetResources()[0]
		if b, _ := deterministic.Marshal(want.Routes[0]); !bytes.Equal(got.GetResource().GetValue(), b) {
			t.Errorf("%s: received %d bytes, not proto's %d", step, len(got.GetResource().GetValue()), len(b))
		}
		if v := freshVersion(t, want); got.GetVersion() != v {
			t.Errorf("%s: version %s, a fresh server's %s", step, got.GetVersion(), v)
		}
		return got.GetVersion()
	}
	first := receive("first", res)

	sets := []*xds.Resources{res}
	versions := []string{first}
	for i, vh := range []*routev3.VirtualHost{bigHost(7, "c02", "/"), bigHost(300, "c01", "/x"), bigHost(7, "c01", "/")} {
		next := withHost(sets[len(sets)-1], []int{7, 300, 7}[i], vh)
		if err := s.SetResources(ctx, next); err != nil {
			t.Fatal(err)
		}
		sets, versions = append(sets, next), append(versions, receive(fmt.Sprint("change ", i), next))
	}
	if slices.Contains(versions[1:], first) || versions[1] == versions[2] {
		t.Errorf("versions %v: a change kept a version", versions)
	}
	// The third change put host 7 back as it was: host 300 differs still.
	back := withHost(sets[len(sets)-1], 300, bigHost(300, "c00", "/"))
	if err := s.SetResources(ctx, back); err != nil {
		t.Fatal(err)
	}
	if v := receive("back to the first content", back); v != first {
		t.Errorf("the first content again has version %s, not %s", v, first)
	}

	bad := withHost(back, 42, bigHost(42, "nope", "/"))
	want := `refusing an inconsistent resource set: route configuration "http", virtual host "h42", route 0: cluster "nope" does not exist`
	if err := s.SetResources(ctx, bad); fmt.Sprint(err) != want {
		t.Errorf("a host routing to a missing cluster: got %v, want %s", err, want)
	}
	if r, ok := in.next(t, 300*time.Millisecond); ok {
		t.Errorf("a refused set was pushed: %v", summary(r))
	}
}

// freshVersion is the version a new server gives the route configuration
// of res.
func freshVersion(t *testing.T, res *xds.Resources) string {
	t.Helper()
	s := New(Options{})
	if err := s.SetResources(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deltas[resourcev3.RouteType].version(res.Routes[0].GetName())
}

// TestNewWiredIsProtoFraming: a resource framed around its encoder's
// pieces is byte for byte the framing of proto's encoding of the Resource
// holding its value, whether whole or in pieces, empty or not; a whole one's
// message holds its value, any gives it in every case, and frame keeps the
// bytes.
func TestNewWiredIsProtoFraming(t *testing.T) {
	t.Parallel()
	big := bigRoutes(t, 600).Routes[0]
	var enc snapshot.Encoder
	pieces, err := enc.Encode(snapshot.KindRoute, "http", big)
	if err != nil {
		t.Fatal(err)
	}
	if len(pieces.Elems) == 0 {
		t.Fatal("the big route configuration was not split")
	}
	var wires []wired
	for name, tc := range map[string]struct {
		typ, name string
		enc       snapshot.Encoding
	}{
		"whole":      {resourcev3.ClusterType, "c1", snapshot.Encoding{Head: []byte{0x0a, 0x02, 'c', '1'}, Version: "v1"}},
		"empty":      {resourcev3.ClusterType, "", snapshot.Encoding{}},
		"in pieces":  {resourcev3.RouteType, "http", pieces},
		"long value": {resourcev3.ClusterType, "long", snapshot.Encoding{Head: bytes.Repeat([]byte{'x'}, 200), Version: "v2"}},
	} {
		w := newWired(tc.typ, tc.name, tc.enc)
		value := tc.enc.Bytes()
		r := &discoverygrpc.Resource{Name: tc.name, Version: tc.enc.Version, Resource: &anypb.Any{TypeUrl: tc.typ, Value: value}}
		b, err := deterministic.Marshal(&discoverygrpc.DeltaDiscoveryResponse{Resources: []*discoverygrpc.Resource{r}})
		if err != nil {
			t.Fatal(err)
		}
		if got := frame([]wired{w}); !bytes.Equal(bytes.Join(got, nil), b) {
			t.Errorf("%s: framed %d bytes, proto's %d", name, len(bytes.Join(got, nil)), len(b))
		}
		sotw, err := deterministic.Marshal(&discoverygrpc.DiscoveryResponse{Resources: []*anypb.Any{r.GetResource()}})
		if err != nil {
			t.Fatal(err)
		}
		if got := frameSotW([]wired{w}); !bytes.Equal(bytes.Join(got, nil), sotw) {
			t.Errorf("%s: framed for state of the world %d bytes, proto's %d", name, len(bytes.Join(got, nil)), len(sotw))
		}
		if whole := len(tc.enc.Elems) == 0; whole && !bytes.Equal(w.value(), value) || !whole && w.value() != nil {
			t.Errorf("%s: value() gives %d bytes, want %d (all when in one piece, none else)", name, len(w.value()), len(value))
		}
		if a := w.any(); !bytes.Equal(a.GetValue(), value) || a.GetTypeUrl() != tc.typ {
			t.Errorf("%s: any() gives %d bytes of %s, want %d of %s", name, len(a.GetValue()), a.GetTypeUrl(), len(value), tc.typ)
		}
		wires = append(wires, w)
	}
	var want []byte
	for _, w := range wires {
		want = append(want, bytes.Join(frame([]wired{w}), nil)...)
	}
	if got := frame(wires); !bytes.Equal(bytes.Join(got, nil), want) {
		t.Error("framing several resources differs from framing each")
	}
}

// TestAcceptedSotWHoldsBigValues: a state-of-the-world stream answered as
// of the accepted revision (after a NACK) gets a big resource's value
// whole, written from its pieces, though the cache's message for it holds
// none.
func TestAcceptedSotWHoldsBigValues(t *testing.T) {
	t.Parallel()
	res := bigRoutes(t, 600)
	var enc snapshot.Encoder
	first, err := enc.Encode(snapshot.KindRoute, "http", res.Routes[0])
	if err != nil {
		t.Fatal(err)
	}
	next := withHost(res, 3, bigHost(3, "c01", "/"))
	second, err := enc.Encode(snapshot.KindRoute, "http", next.Routes[0])
	if err != nil {
		t.Fatal(err)
	}
	c := newDeltaCache(resourcev3.RouteType)
	c.update([]wired{newWired(resourcev3.RouteType, "http", first)}, nil)
	c.ack(1)
	c.update([]wired{newWired(resourcev3.RouteType, "http", second)}, nil)
	c.nack(2)
	_, got := openSotW(c, []string{"http"}) // as a client reads it (received)
	want, _ := deterministic.Marshal(res.Routes[0])
	if len(got.GetResources()) != 1 || !bytes.Equal(got.GetResources()[0].GetValue(), want) {
		t.Errorf("the accepted route configuration was not sent whole (%d resources, %d bytes, want %d)", len(got.GetResources()), len(got.GetResources()[0].GetValue()), len(want))
	}
}
