package server

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/sim/gen"
)

// wire is what a delta client holds: by type, then name, the version and
// the bytes of each resource.
type wire map[string]map[string]string

// deltaWire subscribes to every type on one delta ADS stream and keeps
// what arrives, ACKing each response.
type deltaWire struct {
	stream discoverygrpc.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	in     *inbox[*discoverygrpc.DeltaDiscoveryResponse]
	held   wire
}

func newDeltaWire(t *testing.T, ctx context.Context, conn *grpc.ClientConn, vhds bool) *deltaWire {
	t.Helper()
	stream, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &deltaWire{stream: stream, in: pump(stream.Recv), held: wire{}}
	for _, typ := range typeOrder {
		if err := stream.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
	}
	if vhds { // ingress_http's hosts, by its namespace, as newer Envoys ask
		if err := stream.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: resourcev3.VirtualHostType, ResourceNamesSubscribe: []string{"ingress_http"}}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// settle takes responses until none arrives for a while.
func (w *deltaWire) settle(t *testing.T) {
	t.Helper()
	for {
		r, ok := w.in.next(t, 500*time.Millisecond)
		if !ok {
			return
		}
		byName := w.held[r.GetTypeUrl()]
		if byName == nil {
			byName = map[string]string{}
			w.held[r.GetTypeUrl()] = byName
		}
		for _, res := range r.GetResources() {
			byName[res.GetName()] = res.GetVersion() + " " + string(res.GetResource().GetValue())
		}
		for _, n := range r.GetRemovedResources() {
			delete(byName, n)
		}
		if err := w.stream.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFreezeServesTheSameBytes runs two servers on the same changes, one
// freezing what it takes (Options.Freeze), as serve does: Envoys receive
// the same resources, byte for byte, from both; what was handed over is
// frozen, and thawed equals what was compiled. The corpus has enough hosts
// for ingress_http to be encoded host by host. With VHDS, ingress_http's
// hosts are served one by one (and frozen from encodings of their own).
func TestFreezeServesTheSameBytes(t *testing.T) {
	for _, vhds := range []bool{false, true} {
		t.Run(fmt.Sprintf("vhds=%v", vhds), func(t *testing.T) { freezeServesTheSameBytes(t, vhds) })
	}
}

func freezeServesTheSameBytes(t *testing.T, vhds bool) {
	o := gen.S1k()
	o.Proxies, o.Ingresses = 700, 20
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	idx, problems := source.LoadBytes(source.LoadOptions{}, "generated", buf.Bytes())
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	type side struct {
		comp *controlplane.Compiler
		srv  *Server
		wire *deltaWire
	}
	var sides [2]side
	for i, freeze := range []bool{false, true} {
		comp := controlplane.NewCompiler(controlplane.Options{})
		res, err := comp.Compile(idx)
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{Freeze: freeze}
		if vhds {
			opts.VHDS = &VHDS{}
		}
		srv, conn := startWith(t, opts, res.Resources)
		sides[i] = side{comp, srv, newDeltaWire(t, ctx, conn, vhds)}
	}
	if n := len(sides[1].comp.Last().Resources.RouteConfiguration("ingress_http").GetVirtualHosts()); n < 512 {
		t.Fatalf("ingress_http has %d hosts, too few to be encoded host by host", n)
	}
	compare := func(step string) {
		t.Helper()
		for _, s := range sides {
			s.wire.settle(t)
		}
		if types := len(typeOrder) + map[bool]int{true: 1}[vhds]; len(sides[0].wire.held) != types {
			t.Fatalf("%s: the client holds %d types", step, len(sides[0].wire.held))
		}
		if d := cmp.Diff(sides[0].wire.held, sides[1].wire.held); d != "" {
			t.Fatalf("%s: what the freezing server sent differs (-plain +freezing):\n%s", step, d)
		}
		checkFrozen(t, step, idx, sides[1].comp.Last().Resources)
	}
	compare("first set")

	keys := idx.HTTPProxies.SortedKeys()
	for step, key := range []types.NamespacedName{keys[0], keys[len(keys)/2], keys[len(keys)-1]} {
		p, _ := idx.HTTPProxies.Get(key)
		p = p.DeepCopy()
		if len(p.Spec.Routes) == 0 {
			continue
		}
		route := *p.Spec.Routes[0].DeepCopy()
		route.Conditions = []contourv1.MatchCondition{{Prefix: fmt.Sprintf("/frozen-%d", step)}}
		p.Spec.Routes = append(p.Spec.Routes, route)
		next := idx.Clone()
		if err := next.Upsert(p); err != nil {
			t.Fatal(err)
		}
		idx = next
		for _, s := range sides {
			res, err := s.comp.Update(idx, []types.NamespacedName{key})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.srv.SetResources(ctx, res.Resources); err != nil {
				t.Fatal(err)
			}
		}
		compare("a route added to HTTPProxy " + key.String())
	}

	svc := idx.EndpointSlices.SortedKeys()[0]
	slices, _ := idx.EndpointSlices.Get(svc)
	next := idx.Clone()
	for _, s := range slices {
		es := s.Object.DeepCopy()
		es.Endpoints = es.Endpoints[:len(es.Endpoints)-1]
		if err := next.Upsert(es); err != nil {
			t.Fatal(err)
		}
	}
	idx = next
	for _, s := range sides {
		changed, err := s.comp.Endpoints(idx, []types.NamespacedName{svc})
		if err != nil {
			t.Fatal(err)
		}
		if len(changed) == 0 {
			t.Fatalf("dropping an endpoint of %s changed no ClusterLoadAssignment", svc)
		}
		if err := s.srv.UpdateEndpoints(ctx, changed); err != nil {
			t.Fatal(err)
		}
	}
	compare("an endpoint of " + svc.String() + " dropped")
}

// checkFrozen fails t unless every ClusterLoadAssignment and virtual host
// of res is frozen and res, thawed, is what a compile of idx
// gives.
func checkFrozen(t *testing.T, step string, idx *source.Index, res *xds.Resources) {
	t.Helper()
	count := 0
	for _, cla := range res.Endpoints {
		if !xds.Frozen(cla) && len(cla.GetEndpoints()) > 0 {
			t.Fatalf("%s: ClusterLoadAssignment %q was not frozen", step, cla.GetClusterName())
		}
		count++
	}
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			if !xds.Frozen(vh) || len(vh.GetRoutes()) > 0 {
				t.Fatalf("%s: virtual host %q of %q was not frozen", step, vh.GetName(), rc.GetName())
			}
			count++
		}
	}
	if count == 0 {
		t.Fatalf("%s: nothing to freeze", step)
	}
	want, err := controlplane.Compile(idx, controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want.Resources, xds.Thawed(res), protocmp.Transform()); d != "" {
		t.Fatalf("%s: thawed, the set differs from a compile's (-want +got):\n%s", step, d)
	}
}

// TestHostResourceOfAFrozenHost: the VHDS resource of a frozen host is the
// same bytes as that of the host before it was frozen (a full build
// encodes every host again, frozen or not).
func TestHostResourceOfAFrozenHost(t *testing.T) {
	res := compiled(t, "fixtures/seeds/talk-canary")
	rc := res.RouteConfiguration("ingress_http")
	if len(rc.GetVirtualHosts()) == 0 {
		t.Fatal("ingress_http has no hosts")
	}
	deterministic := proto.MarshalOptions{Deterministic: true}
	for _, vh := range rc.GetVirtualHosts() {
		name := "ingress_http/" + vh.GetName()
		want, err := deterministic.Marshal(hostResource(vh, name))
		if err != nil {
			t.Fatal(err)
		}
		enc, err := deterministic.Marshal(vh)
		if err != nil {
			t.Fatal(err)
		}
		if err := xds.FreezeVirtualHost(vh, enc); err != nil || !xds.Frozen(vh) {
			t.Fatalf("host %s: frozen %v, error %v", vh.GetName(), xds.Frozen(vh), err)
		}
		got, err := deterministic.Marshal(hostResource(vh, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("host %s: its VHDS resource differs once frozen", vh.GetName())
		}
	}
}
