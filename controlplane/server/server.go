package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/xds"
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
}

// typeOrder is make-before-break: what others refer to is sent first.
var typeOrder = []string{resourcev3.SecretType, resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType}

// Server serves xDS. Create it with New, feed it with SetResources and
// UpdateEndpoints, and run it with Run.
type Server struct {
	opts    Options
	caches  map[string]*cachev3.LinearCache
	metrics *Metrics

	mu       sync.Mutex
	versions map[string]map[string]string // type → name → content hash
	ready    chan struct{}
	once     sync.Once
	addr     net.Addr
	listened chan struct{}

	nackCount atomic.Int64
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
	s := &Server{opts: opts, caches: map[string]*cachev3.LinearCache{}, versions: map[string]map[string]string{},
		ready: make(chan struct{}), listened: make(chan struct{})}
	for _, t := range typeOrder {
		s.caches[t] = cachev3.NewLinearCache(t)
		s.versions[t] = map[string]string{}
	}
	s.metrics = newMetrics(opts.Registry)
	return s
}

// Metrics returns the server's metrics (for the serve command's builds).
func (s *Server) Metrics() *Metrics { return s.metrics }

// SetResources replaces the whole resource set, updating only resources
// whose content changed, in make-before-break order (additions and changes
// of secrets, clusters, endpoints, listeners, routes; then removals in the
// reverse order). The first call opens the port.
func (s *Server) SetResources(_ context.Context, res *xds.Resources) error {
	if err := snapshot.Consistent(res); err != nil {
		return fmt.Errorf("refusing an inconsistent resource set: %w", err)
	}
	want := map[string]map[string]types.Resource{
		resourcev3.ListenerType: named(res.Listeners, func(i int) string { return res.Listeners[i].GetName() }),
		resourcev3.RouteType:    named(res.Routes, func(i int) string { return res.Routes[i].GetName() }),
		resourcev3.ClusterType:  named(res.Clusters, func(i int) string { return res.Clusters[i].GetName() }),
		resourcev3.EndpointType: named(res.Endpoints, func(i int) string { return res.Endpoints[i].GetClusterName() }),
		resourcev3.SecretType:   named(res.Secrets, func(i int) string { return res.Secrets[i].GetName() }),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	removals := map[string][]string{}
	for _, t := range typeOrder {
		changed, removed, err := s.changes(t, want[t])
		if err != nil {
			return err
		}
		removals[t] = removed
		if len(changed) > 0 {
			if err := s.caches[t].UpdateResources(changed, nil); err != nil {
				return err
			}
			s.metrics.updated.WithLabelValues(shortType(t)).Add(float64(len(changed)))
		}
	}
	for i := len(typeOrder) - 1; i >= 0; i-- {
		t := typeOrder[i]
		if len(removals[t]) > 0 {
			if err := s.caches[t].UpdateResources(nil, removals[t]); err != nil {
				return err
			}
			for _, n := range removals[t] {
				delete(s.versions[t], n)
			}
		}
		s.metrics.resources.WithLabelValues(shortType(t)).Set(float64(len(want[t])))
	}
	s.once.Do(func() { close(s.ready) })
	return nil
}

// changes returns the resources of type t whose content differs from what
// the cache holds, and the names no longer wanted.
func (s *Server) changes(t string, want map[string]types.Resource) (map[string]types.Resource, []string, error) {
	changed := map[string]types.Resource{}
	have := s.versions[t]
	for name, r := range want {
		v, err := snapshot.Version(r)
		if err != nil {
			return nil, nil, err
		}
		if have[name] != v {
			changed[name] = r
			have[name] = v
		}
	}
	var removed []string
	for name := range have {
		if _, ok := want[name]; !ok {
			removed = append(removed, name)
		}
	}
	return changed, removed, nil
}

// UpdateEndpoints replaces some ClusterLoadAssignments: the endpoint fast
// path. Only assignments whose content changed reach the streams.
func (s *Server) UpdateEndpoints(_ context.Context, clas []*endpointv3.ClusterLoadAssignment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := map[string]types.Resource{}
	have := s.versions[resourcev3.EndpointType]
	for _, c := range clas {
		v, err := snapshot.Version(c)
		if err != nil {
			return err
		}
		if have[c.GetClusterName()] != v {
			changed[c.GetClusterName()] = c
			have[c.GetClusterName()] = v
		}
	}
	if len(changed) == 0 {
		return nil
	}
	s.metrics.updated.WithLabelValues("endpoints").Add(float64(len(changed)))
	return s.caches[resourcev3.EndpointType].UpdateResources(changed, nil)
}

func named[T types.Resource](list []T, name func(int) string) map[string]types.Resource {
	out := make(map[string]types.Resource, len(list))
	for i, r := range list {
		out[name(i)] = r
	}
	return out
}

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
		grpc.MaxConcurrentStreams(1 << 20),
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
	mux := &cachev3.MuxCache{
		Classify:      func(r *cachev3.Request) string { return r.GetTypeUrl() },
		ClassifyDelta: func(r *cachev3.DeltaRequest) string { return r.GetTypeUrl() },
		Caches:        map[string]cachev3.Cache{},
	}
	for t, c := range s.caches {
		mux.Caches[t] = c
	}
	xs := serverv3.NewServer(ctx, mux, s.callbacks())
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(gs, xs)
	listenerservice.RegisterListenerDiscoveryServiceServer(gs, xs)
	routeservice.RegisterRouteDiscoveryServiceServer(gs, xs)
	clusterservice.RegisterClusterDiscoveryServiceServer(gs, xs)
	endpointservice.RegisterEndpointDiscoveryServiceServer(gs, xs)
	secretservice.RegisterSecretDiscoveryServiceServer(gs, xs)
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
