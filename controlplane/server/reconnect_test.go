package server

import (
	"context"
	"sync"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// envoy is a fake Envoy on its own connection: one delta ADS stream with a
// wildcard subscription per type, ACKing everything and remembering the
// version of every resource it holds.
type envoy struct {
	conn  *grpc.ClientConn
	mu    sync.Mutex
	have  map[string]map[string]string // type → name → version
	seen  map[string]int               // name → responses that carried it
	wakes chan struct{}
}

func dialEnvoy(t *testing.T, addr string) *envoy {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	return &envoy{conn: conn, have: map[string]map[string]string{}, seen: map[string]int{}, wakes: make(chan struct{}, 1)}
}

// run opens the stream; with resume, it announces the versions it holds as
// initial_resource_versions, as Envoy does when it reconnects.
func (e *envoy) run(ctx context.Context, resume bool) error {
	st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(e.conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	for _, typ := range typeOrder {
		req := &discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{"*"}}
		e.mu.Lock()
		if resume {
			req.InitialResourceVersions = map[string]string{}
			for n, v := range e.have[typ] {
				req.InitialResourceVersions[n] = v
			}
		}
		e.mu.Unlock()
		if err := st.Send(req); err != nil {
			return err
		}
	}
	for {
		r, err := st.Recv()
		if err != nil {
			return err
		}
		e.mu.Lock()
		if e.have[r.GetTypeUrl()] == nil {
			e.have[r.GetTypeUrl()] = map[string]string{}
		}
		for _, x := range r.GetResources() {
			e.have[r.GetTypeUrl()][x.GetName()] = x.GetVersion()
			e.seen[x.GetName()]++
		}
		for _, n := range r.GetRemovedResources() {
			delete(e.have[r.GetTypeUrl()], n)
		}
		e.mu.Unlock()
		select {
		case e.wakes <- struct{}{}:
		default:
		}
		if err := st.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
			return err
		}
	}
}

// holds reports whether the envoy has exactly the versions of want.
func (e *envoy) holds(want map[string]map[string]string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for typ, names := range want {
		if len(e.have[typ]) != len(names) {
			return false
		}
		for n, v := range names {
			if e.have[typ][n] != v {
				return false
			}
		}
	}
	return true
}

func waitAll(t *testing.T, envoys []*envoy, what string, ok func(*envoy) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for i, e := range envoys {
		for !ok(e) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: envoy %d of %d never got there", what, i, len(envoys))
			}
			select {
			case <-e.wakes:
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// TestThousandEnvoysReconnectAtOnce connects 1,000 delta-ADS clients, drops
// every connection at once and reconnects them all together: half as new
// Envoys, half resuming with the versions they hold. Every one ends with the
// full configuration, resuming ones are sent nothing they already have, and
// a change afterwards reaches all 1,000.
func TestThousandEnvoysReconnectAtOnce(t *testing.T) {
	const n = 1000
	res := compiled(t, "fixtures/seeds/talk-delegation")
	s, _ := start(t, res)
	want := map[string]map[string]string{}
	for _, typ := range typeOrder {
		want[typ] = map[string]string{}
		names, _ := s.deltas[typ].snapshot()
		for name, v := range names {
			want[typ][name] = v
		}
	}
	connect := func(envoys []*envoy, resume func(i int) bool) (context.CancelFunc, *sync.WaitGroup) {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i, e := range envoys {
			wg.Add(1)
			go func() { defer wg.Done(); _ = e.run(ctx, resume(i)) }()
		}
		return cancel, &wg
	}
	envoys := make([]*envoy, n)
	for i := range envoys {
		envoys[i] = dialEnvoy(t, s.Addr().String())
	}
	cancel, wg := connect(envoys, func(int) bool { return false })
	waitAll(t, envoys, "first connection", func(e *envoy) bool { return e.holds(want) })

	// Every connection drops at once.
	cancel()
	for _, e := range envoys {
		e.conn.Close()
	}
	wg.Wait()
	waitFor(t, "streams closed", func() bool { return testutil.ToFloat64(s.metrics.streams) == 0 })
	for i, e := range envoys {
		e2 := dialEnvoy(t, s.Addr().String())
		if i%2 == 1 { // resumes with what it holds; the others start empty
			e2.have = e.have
		}
		envoys[i] = e2
	}
	pushesBefore := testutil.ToFloat64(s.metrics.pushes.WithLabelValues("endpoints"))
	cancel, wg = connect(envoys, func(i int) bool { return i%2 == 1 })
	defer func() {
		cancel()
		for _, e := range envoys {
			e.conn.Close()
		}
		wg.Wait()
	}()
	waitAll(t, envoys, "reconnection", func(e *envoy) bool { return e.holds(want) })
	waitFor(t, "1,000 streams", func() bool { return testutil.ToFloat64(s.metrics.streams) == n })
	for i := 1; i < n; i += 2 {
		if len(envoys[i].seen) != 0 {
			t.Fatalf("envoy %d resumed with current versions and was sent %d resources again", i, len(envoys[i].seen))
		}
	}
	if got := testutil.ToFloat64(s.metrics.pushes.WithLabelValues("endpoints")) - pushesBefore; got != n/2 {
		t.Errorf("endpoint pushes on reconnection = %v, want one per new Envoy (%d)", got, n/2)
	}

	// One endpoint change reaches every Envoy, and only that resource moves.
	cla := proto.Clone(res.Endpoints[0]).(*endpointv3.ClusterLoadAssignment)
	cla.Endpoints = nil
	if err := s.UpdateEndpoints(context.Background(), []*endpointv3.ClusterLoadAssignment{cla}); err != nil {
		t.Fatal(err)
	}
	changed, _ := s.deltas[resourcev3.EndpointType].snapshot()
	want[resourcev3.EndpointType] = changed
	waitAll(t, envoys, "the endpoint change", func(e *envoy) bool { return e.holds(want) })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
