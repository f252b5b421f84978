package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
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
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/types/known/anypb"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/parallel"
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
	caches  map[string]*cachev3.LinearCache // state of the world
	deltas  map[string]*deltaCache          // incremental
	metrics *Metrics

	mu       sync.Mutex
	versions map[string]map[string]string // type → name → content hash
	refs     map[string]snapshot.Refs     // listener version → what it refers to
	ready    chan struct{}
	once     sync.Once
	addr     net.Addr
	listened chan struct{}

	nackCount atomic.Int64
	sent      sentResponses // per delta stream and type: the last response's nonce and revision
	sentSotW  sentResponses // the same for state-of-the-world streams
	linear    linearVersions
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
	s := &Server{opts: opts, caches: map[string]*cachev3.LinearCache{}, deltas: map[string]*deltaCache{}, versions: map[string]map[string]string{},
		ready: make(chan struct{}), listened: make(chan struct{})}
	for _, t := range typeOrder {
		s.caches[t] = cachev3.NewLinearCache(t)
		s.deltas[t] = newDeltaCache(t)
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
// reverse order). Each resource is encoded once, to hash it; changed ones
// are sent with those bytes. The first call opens the port.
func (s *Server) SetResources(_ context.Context, res *xds.Resources) error {
	want := map[string]map[string]types.Resource{
		resourcev3.ListenerType: named(res.Listeners, func(i int) string { return res.Listeners[i].GetName() }),
		resourcev3.RouteType:    named(res.Routes, func(i int) string { return res.Routes[i].GetName() }),
		resourcev3.ClusterType:  named(res.Clusters, func(i int) string { return res.Clusters[i].GetName() }),
		resourcev3.EndpointType: named(res.Endpoints, func(i int) string { return res.Endpoints[i].GetClusterName() }),
		resourcev3.SecretType:   named(res.Secrets, func(i int) string { return res.Secrets[i].GetName() }),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := map[string][]encoded{}
	removals := map[string][]string{}
	for _, t := range typeOrder {
		c, r, err := s.changes(t, want[t])
		if err != nil {
			return err
		}
		changed[t], removals[t] = c, r
	}
	refs, next := s.listenerRefs(changed[resourcev3.ListenerType])
	if err := snapshot.ConsistentWith(res, refs); err != nil {
		return fmt.Errorf("refusing an inconsistent resource set: %w", err)
	}
	s.refs = next
	for _, t := range typeOrder {
		if err := s.apply(t, changed[t], nil); err != nil {
			return err
		}
	}
	for i := len(typeOrder) - 1; i >= 0; i-- {
		t := typeOrder[i]
		if err := s.apply(t, nil, removals[t]); err != nil {
			return err
		}
		s.metrics.resources.WithLabelValues(shortType(t)).Set(float64(len(want[t])))
	}
	s.once.Do(func() { close(s.ready) })
	return nil
}

// listenerRefs returns References for the consistency check, remembered by
// listener version: the HTTPS listener holds a filter chain per host, and
// decoding them all again on every build would cost more than the rest of
// the snapshot.
func (s *Server) listenerRefs(changed []encoded) (func(*listenerv3.Listener) (snapshot.Refs, error), map[string]snapshot.Refs) {
	versions := map[string]string{}
	for _, e := range changed {
		versions[e.res.GetName()] = e.res.GetVersion()
	}
	next := map[string]snapshot.Refs{}
	return func(l *listenerv3.Listener) (snapshot.Refs, error) {
		v, ok := versions[l.GetName()]
		if !ok {
			v = s.versions[resourcev3.ListenerType][l.GetName()]
		}
		if r, ok := s.refs[v]; ok {
			next[v] = r
			return r, nil
		}
		r, err := snapshot.References(l)
		if err == nil {
			next[v] = r
		}
		return r, err
	}, next
}

// encoded is one changed resource: the message for state-of-the-world
// streams and its encodings for incremental ones.
type encoded struct {
	msg types.Resource
	wired
}

// encode wraps a resource's deterministic encoding b and version v for the
// caches.
func encode(t, name, v string, msg types.Resource, b []byte) (encoded, error) {
	w, err := newWired(&discoverygrpc.Resource{Name: name, Version: v, Resource: &anypb.Any{TypeUrl: t, Value: b}})
	return encoded{msg, w}, err
}

// apply hands changes and removals of type t to both caches.
func (s *Server) apply(t string, changed []encoded, removed []string) error {
	if len(changed) > 0 {
		msgs := make(map[string]types.Resource, len(changed))
		resources := make([]wired, len(changed))
		for i, e := range changed {
			msgs[e.res.GetName()] = e.msg
			resources[i] = e.wired
			s.versions[t][e.res.GetName()] = e.res.GetVersion()
		}
		s.deltas[t].update(resources, nil)
		s.linear.updated(t, s.deltas[t].revision())
		if err := s.caches[t].UpdateResources(msgs, nil); err != nil {
			return err
		}
		s.metrics.updated.WithLabelValues(shortType(t)).Add(float64(len(changed)))
	}
	if len(removed) > 0 {
		s.deltas[t].update(nil, removed)
		s.linear.updated(t, s.deltas[t].revision())
		if err := s.caches[t].UpdateResources(nil, removed); err != nil {
			return err
		}
		for _, n := range removed {
			delete(s.versions[t], n)
		}
	}
	return nil
}

// changes encodes the resources of type t (in parallel) and returns those
// whose content differs from what the caches hold, and the names no longer
// wanted.
func (s *Server) changes(t string, want map[string]types.Resource) ([]encoded, []string, error) {
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	have := s.versions[t]
	out := make([]*encoded, len(names))
	errs := make([]error, len(names))
	parallel.For(len(names), 128, func(i int) {
		b, v, err := snapshot.Encode(want[names[i]])
		if err == nil && have[names[i]] != v {
			var e encoded
			e, err = encode(t, names[i], v, want[names[i]], b)
			out[i] = &e
		}
		errs[i] = err
	})
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	var changed []encoded
	for _, e := range out {
		if e != nil {
			changed = append(changed, *e)
		}
	}
	var removed []string
	for name := range have {
		if _, ok := want[name]; !ok {
			removed = append(removed, name)
		}
	}
	sort.Strings(removed)
	return changed, removed, nil
}

// UpdateEndpoints replaces some ClusterLoadAssignments: the endpoint fast
// path. Only assignments whose content changed reach the streams.
func (s *Server) UpdateEndpoints(_ context.Context, clas []*endpointv3.ClusterLoadAssignment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := resourcev3.EndpointType
	var changed []encoded
	have := s.versions[t]
	for _, c := range clas {
		b, v, err := snapshot.Encode(c)
		if err != nil {
			return err
		}
		if have[c.GetClusterName()] != v {
			have[c.GetClusterName()] = v
			e, err := encode(t, c.GetClusterName(), v, c, b)
			if err != nil {
				return err
			}
			changed = append(changed, e)
		}
	}
	return s.apply(t, changed, nil)
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
		grpc.ForceServerCodecV2(wireCodec{}),
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
	xs := serverv3.NewServer(ctx, &splitCache{sotw: mux, delta: s.deltas}, s.callbacks())
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
