package server

import (
	"context"
	"math/rand"
	"slices"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// sotwEnvoy is a state-of-the-world ADS client over gRPC asking for
// ClusterLoadAssignments by name (or "*"), holding what it was sent.
type sotwEnvoy struct {
	st    discoverygrpc.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	in    *inbox[*discoverygrpc.DiscoveryResponse]
	names []string // asked for; "*" among them for everything
	holds map[string]*endpointv3.ClusterLoadAssignment
	last  *discoverygrpc.DiscoveryResponse
}

func (e *sotwEnvoy) ask(t *testing.T) {
	t.Helper()
	req := &discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNames: e.names}
	if e.last != nil {
		req.VersionInfo, req.ResponseNonce = e.last.GetVersionInfo(), e.last.GetNonce()
	}
	if err := e.st.Send(req); err != nil {
		t.Fatal(err)
	}
}

// settle takes answers (ACKing each) until none comes for a while.
func (e *sotwEnvoy) settle(t *testing.T) {
	t.Helper()
	for {
		r, ok := e.in.next(t, 60*time.Millisecond)
		if !ok {
			return
		}
		e.take(t, r)
	}
}

// settleOn takes answers (ACKing each) until e holds the current content
// of every assignment it asks for, then until none comes for a while, and
// checks again: it returns the first name e holds wrongly, after 10 s of
// waiting for it (a loaded machine may take long to answer; a lost update
// never comes).
func (e *sotwEnvoy) settleOn(t *testing.T, current map[string]*endpointv3.ClusterLoadAssignment, all []string) (string, bool) {
	t.Helper()
	wrong := func() string {
		for _, n := range all {
			if e.asks(n) && !proto.Equal(e.holds[n], current[n]) {
				return n
			}
		}
		return ""
	}
	deadline := time.Now().Add(10 * time.Second)
	for n := wrong(); n != ""; n = wrong() {
		r, ok := e.in.next(t, time.Until(deadline))
		if !ok {
			return n, false
		}
		e.take(t, r)
	}
	e.settle(t)
	n := wrong()
	return n, n == ""
}

// take records the assignments of r and ACKs it.
func (e *sotwEnvoy) take(t *testing.T, r *discoverygrpc.DiscoveryResponse) {
	t.Helper()
	for _, a := range r.GetResources() {
		var cla endpointv3.ClusterLoadAssignment
		if err := a.UnmarshalTo(&cla); err != nil {
			t.Fatal(err)
		}
		e.holds[cla.GetClusterName()] = &cla
	}
	e.last = r
	e.ask(t)
}

func (e *sotwEnvoy) asks(name string) bool {
	return slices.Contains(e.names, "*") || slices.Contains(e.names, name)
}

// TestSotWStreamsAgainstModel drives state-of-the-world Envoys over gRPC,
// through Isobar's handler and request reader, with random endpoint
// changes and random changes of the names they ask for (some asking for
// the same names, so that sets are shared, some for "*"): after every
// step each holds the current content of every assignment it asks for.
func TestSotWStreamsAgainstModel(t *testing.T) {
	res := compiled(t, "fixtures/seeds/talk-delegation")
	s, conn := start(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	current := map[string]*endpointv3.ClusterLoadAssignment{}
	var all []string
	for _, c := range res.Endpoints {
		current[c.GetClusterName()] = c
		all = append(all, c.GetClusterName())
	}
	rng := rand.New(rand.NewSource(7))
	pick := func() []string {
		if rng.Intn(5) == 0 {
			return []string{"*"}
		}
		var out []string
		for _, n := range all {
			if rng.Intn(2) == 0 {
				out = append(out, n)
			}
		}
		if len(out) == 0 {
			out = all[:1]
		}
		return out
	}
	shared := pick()
	envoys := make([]*sotwEnvoy, 4)
	for i := range envoys {
		st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e := &sotwEnvoy{st: st, in: pump(st.Recv), holds: map[string]*endpointv3.ClusterLoadAssignment{}, names: pick()}
		if i < 2 {
			e.names = shared
		}
		envoys[i] = e
		e.ask(t)
		e.settle(t)
	}
	for step := 0; step < 40; step++ {
		switch rng.Intn(3) {
		case 0, 1:
			name := all[rng.Intn(len(all))]
			cla := proto.Clone(current[name]).(*endpointv3.ClusterLoadAssignment)
			cla.Policy = &endpointv3.ClusterLoadAssignment_Policy{OverprovisioningFactor: wrapperspb.UInt32(uint32(100 + rng.Intn(50)))}
			current[name] = cla
			if err := s.UpdateEndpoints(ctx, []*endpointv3.ClusterLoadAssignment{cla}); err != nil {
				t.Fatal(err)
			}
		case 2:
			e := envoys[rng.Intn(len(envoys))]
			e.names = pick()
			for n := range e.holds {
				if !e.asks(n) {
					delete(e.holds, n) // Envoy drops what it no longer asks for
				}
			}
			e.ask(t)
		}
		for i, e := range envoys {
			if n, ok := e.settleOn(t, current, all); !ok {
				t.Fatalf("step %d: envoy %d (asking %v) holds %s as %v, want %v", step, i, e.names, n, e.holds[n], current[n])
			}
		}
	}
}
