package server

import (
	"context"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/sim/gen"
)

// sotwLightCodec is lightCodec for state-of-the-world clients: a
// DiscoveryResponse is read for its version, type, nonce and the name of
// each resource (field 1 of every resource type served), not its bytes;
// a request's names, the same in every request of a type (21,000 of them,
// 800 KB, at S10k), are encoded once for all the clients (names, shared).
type sotwLightCodec struct {
	watched map[string]bool
	names   *encodedNames
}

// encodedNames encodes each list of names once.
type encodedNames struct {
	mu  sync.Mutex
	enc map[*string][]byte // by the list's first element
}

func (e *encodedNames) of(names []string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b, ok := e.enc[&names[0]]; ok {
		return b
	}
	b, _ := proto.Marshal(&discoverygrpc.DiscoveryRequest{ResourceNames: names})
	if e.enc == nil {
		e.enc = map[*string][]byte{}
	}
	e.enc[&names[0]] = b
	return b
}

func (sotwLightCodec) Name() string { return "proto" }

func (c sotwLightCodec) Marshal(v any) (mem.BufferSlice, error) {
	r, ok := v.(*discoverygrpc.DiscoveryRequest)
	if !ok || c.names == nil || len(r.GetResourceNames()) == 0 {
		return lightCodec{}.Marshal(v)
	}
	rest := proto.CloneOf(r)
	rest.ResourceNames = nil
	head, err := proto.Marshal(rest)
	if err != nil {
		return nil, err
	}
	return mem.BufferSlice{mem.SliceBuffer(head), mem.SliceBuffer(c.names.of(r.GetResourceNames()))}, nil
}

func (c sotwLightCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*discoverygrpc.DiscoveryResponse); ok {
		return scanSotwResponse(&pieceReader{bufs: data}, r, c.watched)
	}
	return lightCodec{}.Unmarshal(data, v)
}

// scanSotwResponse fills r's version, type and nonce, and an Any per
// resource: the shared empty one, or for a watched name one whose type URL
// is the name (the clients only count and time them).
func scanSotwResponse(p *pieceReader, r *discoverygrpc.DiscoveryResponse, watched map[string]bool) error {
	for {
		num, n, err := p.field()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if n < 0 {
			continue
		}
		switch num {
		case 2:
			name, err := scanAnyName(p, p.pos+n)
			if err != nil {
				return err
			}
			a := unwatchedAny
			if watched[name] {
				a = &anypb.Any{TypeUrl: name}
			}
			r.Resources = append(r.Resources, a)
		case 1, 4, 5:
			b, err := p.take(n)
			if err != nil {
				return err
			}
			switch s := string(b); num {
			case 1:
				r.VersionInfo = s
			case 4:
				r.TypeUrl = s
			case 5:
				r.Nonce = s
			}
		default:
			if err := p.skip(n); err != nil {
				return err
			}
		}
	}
}

var unwatchedAny = &anypb.Any{}

// scanAnyName reads an Any up to offset end and returns field 1 of its
// value: the resource's name.
func scanAnyName(p *pieceReader, end int) (string, error) {
	var name string
	for p.pos < end {
		num, n, err := p.field()
		if err != nil {
			return "", err
		}
		if n < 0 {
			continue
		}
		if num != 2 {
			if err := p.skip(n); err != nil {
				return "", err
			}
			continue
		}
		valueEnd := p.pos + n
		for p.pos < valueEnd {
			f, m, err := p.field()
			if err != nil {
				return "", err
			}
			if m < 0 {
				continue
			}
			if f == 1 && name == "" {
				b, err := p.take(m)
				if err != nil {
					return "", err
				}
				name = string(b)
				continue
			}
			if err := p.skip(m); err != nil {
				return "", err
			}
		}
	}
	if p.pos != end {
		return "", io.ErrUnexpectedEOF
	}
	return name, nil
}

// sotwClient is one fake Envoy on a state-of-the-world ADS stream that
// asks for every ClusterLoadAssignment and route configuration by name, as
// Envoy does, and ACKs everything with the same names.
type sotwClient struct {
	mu      sync.Mutex
	first   map[string]int // type → resources in its first response
	arrived map[string]time.Time
	err     error
}

func (c *sotwClient) run(ctx context.Context, conn *grpc.ClientConn, names map[string][]string, ready chan<- struct{}, want int) error {
	stream, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return err
	}
	for _, t := range []string{resourcev3.EndpointType, resourcev3.RouteType} {
		if err := stream.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: t, ResourceNames: names[t]}); err != nil {
			return err
		}
	}
	signalled := false
	for {
		r, err := stream.Recv()
		if err != nil {
			return err
		}
		now := time.Now()
		c.mu.Lock()
		for _, a := range r.GetResources() {
			if a != unwatchedAny {
				c.arrived[a.GetTypeUrl()] = now
			}
		}
		if _, ok := c.first[r.GetTypeUrl()]; !ok {
			c.first[r.GetTypeUrl()] = len(r.GetResources())
		}
		total := 0
		for _, n := range c.first {
			total += n
		}
		c.mu.Unlock()
		if total >= want && !signalled {
			signalled = true
			ready <- struct{}{}
		}
		if err := stream.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce(),
			VersionInfo: r.GetVersionInfo(), ResourceNames: names[r.GetTypeUrl()]}); err != nil {
			return err
		}
	}
}

func (c *sotwClient) at(name string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.arrived[name]
	return t, ok
}

// BenchmarkFanOutSotW is BenchmarkFanOut for state-of-the-world clients
// (Contour's bootstrap): N ADS streams asking for every
// ClusterLoadAssignment and route configuration by name; the time until
// the last has them all, the heap, and the 99th percentile delay of one
// changed ClusterLoadAssignment.
func BenchmarkFanOutSotW(b *testing.B) {
	for _, c := range []struct {
		name    string
		o       gen.Options
		clients int
	}{{"S1k-1000clients", gen.S1k(), 1000}, {"S10k-100clients", gen.S10k(), 100}, {"S10k-1000clients", gen.S10k(), 1000}} {
		b.Run(c.name, func(b *testing.B) {
			res := corpusResources(b, c.o)
			for i := 0; i < b.N; i++ {
				fanOutSotW(b, res, c.clients)
			}
		})
	}
}

func fanOutSotW(b *testing.B, res *xds.Resources, n int) {
	r := newRig(b, res)
	defer r.close()
	names := map[string][]string{}
	for _, e := range res.Endpoints {
		names[resourcev3.EndpointType] = append(names[resourcev3.EndpointType], e.GetClusterName())
	}
	for _, rc := range res.Routes {
		names[resourcev3.RouteType] = append(names[resourcev3.RouteType], rc.GetName())
	}
	want := len(res.Endpoints) + len(res.Routes)
	changedCLA := res.Endpoints[len(res.Endpoints)/2].GetClusterName()
	watched := map[string]bool{changedCLA: true}
	ready := make(chan struct{}, n)
	clients := make([]*sotwClient, n)
	encoded := &encodedNames{}
	start := time.Now()
	for i := range clients {
		conn := r.dial(b, sotwLightCodec{watched: watched, names: encoded})
		clients[i] = &sotwClient{first: map[string]int{}, arrived: map[string]time.Time{}}
		go func(c *sotwClient) {
			err := c.run(r.ctx, conn, names, ready, want)
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
		}(clients[i])
	}
	waitReady(b, ready, n, 180*time.Second, func() string { return "state-of-the-world clients" })
	b.ReportMetric(time.Since(start).Seconds(), "s-all-connected")
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(int64(ms.HeapAlloc)-int64(r.before.HeapAlloc))/(1<<20), "MB-heap-added")
	cla := proto.Clone(res.Endpoints[len(res.Endpoints)/2]).(*endpointv3.ClusterLoadAssignment)
	cla.Endpoints = nil
	t0 := time.Now()
	if err := r.s.UpdateEndpoints(r.ctx, []*endpointv3.ClusterLoadAssignment{cla}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(p99(b, clients, changedCLA, t0), "ms-eds-p99")
}
