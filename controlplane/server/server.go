package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	runtimev3 "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/isobar-dev/isobar/controlplane/bootstrap"
	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/translate"
)

// Options configure the server.
type Options struct {
	// Address and Port to listen on (default :8001).
	Address string
	Port    int
	// TLS, when set, requires mutual TLS; certificates are re-read when the
	// files change. Without it the server is plaintext, which callers must
	// ask for explicitly.
	TLS *TLSFiles
	// Logger receives NACKs and stream events (default: discard).
	Logger *slog.Logger
	// Registry receives the metrics (default: a private registry).
	Registry prometheus.Registerer
	// VHDS, when set, serves one route configuration's virtual hosts one
	// by one (see VHDS).
	VHDS *VHDS
	// Runtime, when set, is the runtime layer served over RTDS (type
	// Runtime, on ADS and on its own service) from the first resource set
	// on: the layer Envoy's bootstrap asks for by name (Isobar's and
	// Contour's, envoy.RuntimeLayerName). It never changes while the
	// server runs.
	Runtime *runtimev3.Runtime
	// StaticListeners are served to every Envoy beside the configuration's
	// listeners, from the first resource set on, and never change: the
	// stats listener Contour serves over LDS (bootstrap.StatsListenerAt),
	// which an Envoy started from Contour's bootstrap has no other way to
	// get.
	StaticListeners []*listenerv3.Listener
	// Freeze, when set, lets SetResources and UpdateEndpoints freeze, in
	// place, the ClusterLoadAssignments and virtual hosts of route
	// configurations they take, once the caches hold their
	// encodings (see xds.FreezeVirtualHost): they keep encoding to the
	// same bytes, but hold most of their fields as those bytes, a fraction
	// of the messages' memory. Afterwards the caller must read those
	// resources' fields only through xds's thawing functions (xds.Thaw,
	// xds.Thawed), from the goroutine that calls SetResources or once it
	// has returned; it may hand the same messages over again.
	Freeze bool
}

// typeOrder is make-before-break: what others refer to is sent first.
var typeOrder = []string{resourcev3.SecretType, resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType}

// servedTypes are all the types a server may serve, in delivery order:
// typeOrder, then virtual hosts (VHDS) after the route configurations that
// name their source, then the runtime layer (set once, refers to nothing).
var servedTypes = append(slices.Clip(typeOrder), resourcev3.VirtualHostType, resourcev3.RuntimeType)

// deliveryOrder is the types this server serves, in delivery order.
func (s *Server) deliveryOrder() []string { return s.order }

// Server serves xDS. Create it with New, feed it with SetResources and
// UpdateEndpoints, and run it with Run.
type Server struct {
	opts    Options
	deltas  map[string]*deltaCache // both variants, by type
	order   []string               // the types served, in delivery order (of servedTypes)
	static  map[string]bool        // names of Options.StaticListeners
	metrics *Metrics

	mu sync.Mutex
	// applied is the last resource set the caches took (with
	// UpdateEndpoints' assignments put in), and tracker its references;
	// nil when SetResources must start over (before the first set, and
	// after a failure half way through handing one over).
	applied *snapshot.Set
	tracker *snapshot.Tracker
	// encoder and refs remember the last encoding of big resources and
	// what the listeners' filter chains and the route configurations'
	// virtual hosts refer to.
	encoder snapshot.Encoder
	refs    snapshot.RefCache
	// vhds is the split of the route configuration served through VHDS
	// (nil without it).
	vhds     *vhdsSplit
	ready    chan struct{}
	once     sync.Once
	addr     net.Addr
	listened chan struct{}

	nackCount atomic.Int64
	sent      sentResponses // per delta stream and type: the last response's nonce and revision
	sentSotW  sentResponses // the same for state-of-the-world streams
	sotw      sotwStreams   // serves state-of-the-world streams
	// rejections are the NACKed revisions no Envoy accepted since.
	rejections rejections
}

// New returns a server with empty caches; the port opens in Run after the
// first SetResources.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s := &Server{opts: opts, deltas: map[string]*deltaCache{},
		ready: make(chan struct{}), listened: make(chan struct{}), rejections: newRejections()}
	if v := opts.VHDS; v != nil {
		s.vhds = &vhdsSplit{opts: *v}
		if s.vhds.opts.RouteConfiguration == "" {
			s.vhds.opts.RouteConfiguration = translate.HTTPRoutes
		}
		if s.vhds.opts.Cluster == "" {
			s.vhds.opts.Cluster = bootstrap.XDSCluster
		}
	}
	for _, t := range servedTypes {
		if (t == resourcev3.VirtualHostType && s.vhds == nil) || (t == resourcev3.RuntimeType && opts.Runtime == nil) {
			continue
		}
		s.order = append(s.order, t)
		s.deltas[t] = newDeltaCache(t)
	}
	s.metrics = newMetrics(opts.Registry)
	if opts.Runtime != nil {
		s.setRuntime(opts.Runtime)
	}
	s.static = map[string]bool{}
	s.setStatic(opts.StaticListeners)
	_ = opts.Registry.Register(revisions(s.deltas))
	_ = opts.Registry.Register(rejectedObjects{&s.rejections})
	return s
}

// Metrics returns the server's metrics (for the serve command's builds).
func (s *Server) Metrics() *Metrics { return s.metrics }

// Addr returns the listening address once Run listens (nil before).
func (s *Server) Addr() net.Addr {
	select {
	case <-s.listened:
		return s.addr
	default:
		return nil
	}
}

// Listening is closed once the port is open.
func (s *Server) Listening() <-chan struct{} { return s.listened }

// Run waits for the first resource set, listens, and serves until ctx ends,
// then stops gracefully (in-flight streams get a short grace period).
func (s *Server) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-s.ready:
	}
	gopts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(wireCodec{}),
		grpc.MaxConcurrentStreams(1 << 20),
		// A connection holds its 32 KiB write buffer only while it writes:
		// 1,000 idle Envoys would otherwise keep 32 MB.
		grpc.SharedWriteBuffer(true),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
	if s.opts.TLS != nil {
		cfg, err := s.opts.TLS.config()
		if err != nil {
			return err
		}
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(cfg)))
	}
	gs := grpc.NewServer(gopts...)
	s.sotw.s = s
	xs := &xdsServer{Server: serverv3.NewServer(ctx, &splitCache{delta: s.deltas}, s.callbacks()), sotw: &s.sotw}
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(gs, xs)
	listenerservice.RegisterListenerDiscoveryServiceServer(gs, xs)
	routeservice.RegisterRouteDiscoveryServiceServer(gs, xs)
	routeservice.RegisterVirtualHostDiscoveryServiceServer(gs, xs)
	clusterservice.RegisterClusterDiscoveryServiceServer(gs, xs)
	endpointservice.RegisterEndpointDiscoveryServiceServer(gs, xs)
	secretservice.RegisterSecretDiscoveryServiceServer(gs, xs)
	runtimev3.RegisterRuntimeDiscoveryServiceServer(gs, xs)
	lis, err := net.Listen("tcp", net.JoinHostPort(s.opts.Address, strconv.Itoa(s.opts.Port)))
	if err != nil {
		return err
	}
	s.addr = lis.Addr()
	close(s.listened)
	errc := make(chan error, 1)
	go func() { errc <- gs.Serve(lis) }()
	select {
	case <-ctx.Done():
		stopped := make(chan struct{})
		go func() { gs.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			gs.Stop()
		}
		return nil
	case err := <-errc:
		if errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return err
	}
}
