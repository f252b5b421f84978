package server

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/pprof/profile"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/sim/gen"
)

// deltaClient is one fake Envoy on a delta ADS stream that ACKs everything,
// counts the resources it receives and records when each watched name
// arrived (only those, so that the clients' memory stays small next to the
// server's).
type deltaClient struct {
	// names are the names subscribed to, by type ("*" for the others).
	names   map[string][]string
	mu      sync.Mutex
	watched map[string]bool
	arrived map[string]time.Time
	count   int
	err     error // how the stream ended, if it did
}

func (c *deltaClient) run(ctx context.Context, conn *grpc.ClientConn, types []string, ready chan<- struct{}, want int) error {
	stream, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	for _, t := range types {
		names, ok := c.names[t]
		if !ok {
			names = []string{"*"}
		}
		if err := stream.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: t, ResourceNamesSubscribe: names}); err != nil {
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
		for _, res := range r.GetResources() {
			if c.watched[res.GetName()] {
				c.arrived[res.GetName()] = now
			}
		}
		c.count += len(r.GetResources())
		done := c.count >= want
		c.mu.Unlock()
		if done && !signalled {
			signalled = true
			ready <- struct{}{}
		}
		if err := stream.Send(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
			return err
		}
	}
}

// incomplete describes the clients that do not have want resources: how
// many they have, and how their streams ended, if they did.
func incomplete(clients []*deltaClient, want int) string {
	var lines []string
	for i, c := range clients {
		c.mu.Lock()
		if c.count < want {
			state := "stream open"
			if c.err != nil {
				state = "stream ended: " + c.err.Error()
			}
			lines = append(lines, fmt.Sprintf("client %d has %d (%s)", i, c.count, state))
		}
		c.mu.Unlock()
	}
	if len(lines) > 10 {
		lines = append(lines[:10], fmt.Sprintf("and %d more", len(lines)-10))
	}
	return strings.Join(lines, "; ")
}

func (c *deltaClient) at(name string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.arrived[name]
	return t, ok
}

func corpusResources(b *testing.B, o gen.Options) *xds.Resources {
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, o); err != nil {
		b.Fatal(err)
	}
	idx, _ := source.LoadBytes(source.LoadOptions{}, "corpus", buf.Bytes())
	res, err := controlplane.Compile(idx, controlplane.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return res.Resources
}

// BenchmarkFanOut connects N delta-ADS clients (EDS and RDS) to a server
// loaded with a corpus, then measures how long until the last client has
// (a) its full initial set, (b) one changed ClusterLoadAssignment, (c) one
// changed RouteConfiguration (a TLS host's), (d) one changed insecure host:
// ingress_http, which holds them all, or with VHDS (the vhds- runs, whose
// clients subscribe to ingress_http's namespace as newer Envoys do) that
// host alone. Figures are reported as custom metrics.
func BenchmarkFanOut(b *testing.B) {
	for _, c := range []struct {
		name    string
		o       gen.Options
		clients int
		vhds    bool
	}{{"S1k-1000clients", gen.S1k(), 1000, false}, {"S10k-100clients", gen.S10k(), 100, false},
		{"S10k-1000clients", gen.S10k(), 1000, false}, {"vhds-S10k-1000clients", gen.S10k(), 1000, true}} {
		b.Run(c.name, func(b *testing.B) {
			res := corpusResources(b, c.o)
			for i := 0; i < b.N; i++ {
				fanOut(b, res, c.clients, c.vhds)
			}
		})
	}
}

// rig is a server holding a corpus, for the fan-out benchmarks, and the
// connections of its clients.
type rig struct {
	s      *Server
	ctx    context.Context
	cancel context.CancelFunc
	conns  []*grpc.ClientConn
	before runtime.MemStats // the heap before the server: the compiled resources, which the benchmark holds
}

func newRig(b *testing.B, res *xds.Resources) *rig {
	return newRigWith(b, Options{}, res)
}

// newRigWith is newRig with options (the address is set here).
func newRigWith(b *testing.B, opts Options, res *xds.Resources) *rig {
	r := &rig{}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	runtime.GC()
	runtime.ReadMemStats(&r.before)
	opts.Address = "127.0.0.1"
	r.s = New(opts)
	go func() { _ = r.s.Run(r.ctx) }()
	if err := r.s.SetResources(r.ctx, res); err != nil {
		b.Fatal(err)
	}
	<-r.s.Listening()
	return r
}

// dial connects a client reading responses with codec.
func (r *rig) dial(b *testing.B, codec encoding.CodecV2) *grpc.ClientConn {
	conn, err := grpc.NewClient(r.s.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20), grpc.ForceCodecV2(codec)))
	if err != nil {
		b.Fatal(err)
	}
	r.conns = append(r.conns, conn)
	return conn
}

// close ends the streams, then the connections (which then wait for nothing).
func (r *rig) close() {
	r.cancel()
	for _, c := range r.conns {
		_ = c.Close()
	}
}

// waitReady waits for n clients to signal ready, failing after within with
// what missing says of the others.
func waitReady(b *testing.B, ready <-chan struct{}, n int, within time.Duration, missing func() string) {
	for i := 0; i < n; i++ {
		select {
		case <-ready:
		case <-time.After(within):
			b.Fatalf("only %d of %d clients got the full set after %s: %s", i, n, within, missing())
		}
	}
}

func fanOut(b *testing.B, res *xds.Resources, n int, vhds bool) {
	opts, types := Options{Freeze: true}, []string{resourcev3.EndpointType, resourcev3.RouteType} // as serve runs it
	want := len(res.Endpoints) + len(res.Routes)
	plain := res.RouteConfiguration("ingress_http")
	plainHost := "ingress_http/" + plain.GetVirtualHosts()[len(plain.GetVirtualHosts())/2].GetName()
	if vhds {
		opts.VHDS = &VHDS{}
		types = append(types, resourcev3.VirtualHostType)
		want += len(plain.GetVirtualHosts())
	}
	r := newRigWith(b, opts, res)
	defer r.close()
	s, ctx, before := r.s, r.ctx, r.before
	changedCLA := res.Endpoints[len(res.Endpoints)/2].GetClusterName()
	watched := map[string]bool{changedCLA: true, res.Routes[0].GetName(): true, plainHost: true, "ingress_http": true}
	ready := make(chan struct{}, n)
	clients := make([]*deltaClient, n)
	start := time.Now()
	for i := range clients {
		conn := r.dial(b, lightCodec{watched: watched})
		clients[i] = &deltaClient{watched: watched, arrived: map[string]time.Time{},
			names: map[string][]string{resourcev3.VirtualHostType: {"ingress_http"}}}
		go func(c *deltaClient) {
			err := c.run(ctx, conn, types, ready, want)
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
		}(clients[i])
	}
	waitReady(b, ready, n, 120*time.Second, func() string { return incomplete(clients, want) })
	b.ReportMetric(time.Since(start).Seconds(), "s-all-connected")
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC() // and what pools released at the first
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "MB-live-heap")
	// What the server (its caches, encodings and streams) and the clients
	// added to the heap the compiled resources already took, and of that,
	// what the clients hold (mostly data received and not yet read).
	added := int64(ms.HeapAlloc) - int64(before.HeapAlloc)
	byClients := clientHeap(b)
	b.ReportMetric(float64(added)/(1<<20), "MB-heap-added")
	b.ReportMetric(float64(byClients)/(1<<20), "MB-of-it-clients")
	// One endpoint change.
	cla := proto.Clone(xds.Thaw(res.Endpoints[len(res.Endpoints)/2])).(*endpointv3.ClusterLoadAssignment) // the server froze it
	cla.Endpoints = nil
	t0 := time.Now()
	if err := s.UpdateEndpoints(ctx, []*endpointv3.ClusterLoadAssignment{cla}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(p99(b, clients, cla.GetClusterName(), t0), "ms-eds-p99")
	// One route change.
	next := *res
	next.Routes = append([]*routev3.RouteConfiguration(nil), res.Routes...)
	rc := proto.Clone(next.Routes[0]).(*routev3.RouteConfiguration)
	rc.VirtualHosts = rc.VirtualHosts[:len(rc.VirtualHosts)-1]
	next.Routes[0] = rc
	t1 := time.Now()
	if err := s.SetResources(ctx, &next); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(t1).Microseconds())/1000, "ms-setresources")
	b.ReportMetric(p99(b, clients, rc.GetName(), t1), "ms-rds-p99")
	arrives := "ingress_http" // without VHDS, a changed insecure host is a new ingress_http
	if vhds {
		arrives = plainHost
	}
	changePlainHost(b, s, clients, &next, plainHost, arrives)
}

// changePlainHost changes the insecure host called name (as a VHDS
// resource) in res and reports when the last client has the resource
// called arrives.
func changePlainHost(b *testing.B, s *Server, clients []*deltaClient, res *xds.Resources, name, arrives string) {
	next := *res
	next.Routes = slices.Clone(res.Routes)
	i := slices.IndexFunc(next.Routes, func(rc *routev3.RouteConfiguration) bool { return rc.GetName() == "ingress_http" })
	rc := withHosts(next.Routes[i], slices.Clone(res.Routes[i].GetVirtualHosts())) // the same hosts but one
	j := slices.IndexFunc(rc.VirtualHosts, func(vh *routev3.VirtualHost) bool { return "ingress_http/"+vh.GetName() == name })
	vh := proto.Clone(xds.Thaw(rc.VirtualHosts[j])).(*routev3.VirtualHost) // the server may have frozen it
	vh.IncludeRequestAttemptCount = !vh.IncludeRequestAttemptCount
	rc.VirtualHosts[j] = vh
	next.Routes[i] = rc
	t0 := time.Now()
	if err := s.SetResources(context.Background(), &next); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000, "ms-plain-setresources")
	b.ReportMetric(p99(b, clients, arrives, t0), "ms-plain-p99")
}

// arrivals tells when a client received a resource.
type arrivals interface {
	at(name string) (time.Time, bool)
}

// p99 waits until every client has name after t0 and returns the 99th
// percentile delay in milliseconds.
func p99[C arrivals](b *testing.B, clients []C, name string, t0 time.Time) float64 {
	return percentile(arrivalDelays(b, clients, name, t0), 99)
}

// percentile returns the p-th percentile of delays (sorted in place): the
// smallest value at least p % of them do not exceed.
func percentile(delays []float64, p int) float64 {
	sort.Float64s(delays)
	i := (len(delays)*p + 99) / 100
	return delays[max(i-1, 0)]
}

// BenchmarkSetResourcesPlainHost measures a new snapshot after one
// insecure host changed (a new ingress_http sharing the other hosts'
// messages), with S10k loaded and no client connected: ingress_http
// re-encoded from its kept pieces (whole), or the one host (vhds).
func BenchmarkSetResourcesPlainHost(b *testing.B) {
	res := corpusResources(b, gen.S10k())
	i := slices.IndexFunc(res.Routes, func(rc *routev3.RouteConfiguration) bool { return rc.GetName() == "ingress_http" })
	hosts := res.Routes[i].GetVirtualHosts()
	toggled := proto.Clone(hosts[len(hosts)/2]).(*routev3.VirtualHost)
	toggled.IncludeRequestAttemptCount = !toggled.IncludeRequestAttemptCount
	for _, c := range []struct {
		name string
		opts Options
	}{{"whole", Options{}}, {"vhds", Options{VHDS: &VHDS{}}}} {
		b.Run(c.name, func(b *testing.B) {
			s := New(c.opts)
			ctx := context.Background()
			if err := s.SetResources(ctx, res); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				next := *res
				next.Routes = slices.Clone(res.Routes)
				rc := withHosts(res.Routes[i], slices.Clone(hosts))
				if n%2 == 0 {
					rc.VirtualHosts[len(hosts)/2] = toggled
				}
				next.Routes[i] = rc
				if err := s.SetResources(ctx, &next); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// withHosts returns a new route configuration with rc's fields (shared)
// and hosts for its virtual hosts, as the compiler hands one over.
func withHosts(rc *routev3.RouteConfiguration, hosts []*routev3.VirtualHost) *routev3.RouteConfiguration {
	out := &routev3.RouteConfiguration{}
	rc.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		out.ProtoReflect().Set(fd, v)
		return true
	})
	out.VirtualHosts = hosts
	return out
}

// BenchmarkSetResources measures a new snapshot after one route
// configuration changed, with S10k loaded and no client connected: what
// the server spends before anything is sent.
func BenchmarkSetResources(b *testing.B) {
	res := corpusResources(b, gen.S10k())
	s := New(Options{Address: "127.0.0.1"})
	ctx := context.Background()
	if err := s.SetResources(ctx, res); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		next := *res
		next.Routes = append([]*routev3.RouteConfiguration(nil), res.Routes...)
		rc := proto.Clone(next.Routes[0]).(*routev3.RouteConfiguration)
		rc.VirtualHosts = rc.VirtualHosts[:len(rc.VirtualHosts)-i%2]
		next.Routes[0] = rc
		if err := s.SetResources(ctx, &next); err != nil {
			b.Fatal(err)
		}
	}
}

// clientSide are functions on the stacks of allocations the benchmark's
// clients made (their transports, streams and decoding).
var clientSide = []string{"http2Client", "clientStream", "deltaClient", "grpc.NewClient", "addrConn", "lightCodec"}

// clientHeap estimates, from a heap profile, the live bytes the clients
// allocated.
func clientHeap(b *testing.B) int64 {
	var buf bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&buf, 0); err != nil {
		b.Fatal(err)
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		b.Fatal(err)
	}
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "inuse_space" {
			idx = i
		}
	}
	if idx < 0 {
		b.Fatal("no inuse_space in the heap profile")
	}
	var total int64
	for _, smp := range p.Sample {
		if onClientSide(smp) {
			total += smp.Value[idx]
		}
	}
	return total
}

func onClientSide(smp *profile.Sample) bool {
	for _, loc := range smp.Location {
		for _, line := range loc.Line {
			for _, f := range clientSide {
				if line.Function != nil && strings.Contains(line.Function.Name, f) {
					return true
				}
			}
		}
	}
	return false
}

// BenchmarkSetResourcesLarge is BenchmarkSetResources for a change inside
// one of the two big resources: one virtual host of the HTTP route
// configuration (9,000 virtual hosts, 11 MB encoded), or one filter chain
// of the HTTPS listener (2,700 filter chains), replaced in a new message
// that keeps the other elements. What it costs should follow the element
// changed, not the resource's size.
func BenchmarkSetResourcesLarge(b *testing.B) {
	res := corpusResources(b, gen.S10k())
	b.Run("route-virtual-host", func(b *testing.B) {
		s := New(Options{Address: "127.0.0.1"})
		ctx := context.Background()
		if err := s.SetResources(ctx, res); err != nil {
			b.Fatal(err)
		}
		i := slices.IndexFunc(res.Routes, func(rc *routev3.RouteConfiguration) bool { return len(rc.GetVirtualHosts()) > 1000 })
		big := res.Routes[i]
		settle(b)
		for n := 0; n < b.N; n++ {
			next := *res
			next.Routes = slices.Clone(res.Routes)
			rc := &routev3.RouteConfiguration{Name: big.GetName(), VirtualHosts: slices.Clone(big.GetVirtualHosts())}
			vh := proto.Clone(rc.VirtualHosts[len(rc.VirtualHosts)/2]).(*routev3.VirtualHost)
			vh.Domains = append(vh.Domains, fmt.Sprint("extra-", n, ".example.com"))
			rc.VirtualHosts[len(rc.VirtualHosts)/2] = vh
			next.Routes[i] = rc
			if err := s.SetResources(ctx, &next); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("listener-filter-chain", func(b *testing.B) {
		s := New(Options{Address: "127.0.0.1"})
		ctx := context.Background()
		if err := s.SetResources(ctx, res); err != nil {
			b.Fatal(err)
		}
		i := slices.IndexFunc(res.Listeners, func(l *listenerv3.Listener) bool { return len(l.GetFilterChains()) > 1000 })
		big := res.Listeners[i]
		settle(b)
		for n := 0; n < b.N; n++ {
			next := *res
			next.Listeners = slices.Clone(res.Listeners)
			l := shallow(big)
			l.FilterChains = slices.Clone(big.GetFilterChains())
			fc := proto.Clone(l.FilterChains[len(l.FilterChains)/2]).(*listenerv3.FilterChain)
			fc.Name = fmt.Sprint(fc.GetName(), "-", n)
			l.FilterChains[len(l.FilterChains)/2] = fc
			next.Listeners[i] = l
			if err := s.SetResources(ctx, &next); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// settle collects the garbage of a benchmark's setup (compiling the
// corpus, the first SetResources) so that the measured changes do not pay
// for it, and starts the timer, counting allocations.
func settle(b *testing.B) {
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
}

// shallow returns a new listener sharing l's fields but the filter chains.
func shallow(l *listenerv3.Listener) *listenerv3.Listener {
	out := &listenerv3.Listener{}
	chains := l.ProtoReflect().Descriptor().Fields().ByName("filter_chains")
	l.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd != chains {
			out.ProtoReflect().Set(fd, v)
		}
		return true
	})
	return out
}
