package server

import (
	"hash/maphash"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	runtimev3 "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	streamv3 "github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// xdsServer is go-control-plane's server (incremental streams, REST) with
// state-of-the-world streams, ADS and per type, served by sotwStreams.
type xdsServer struct {
	serverv3.Server
	sotw *sotwStreams
}

// StreamAggregatedResources serves state-of-the-world ADS.
func (x *xdsServer) StreamAggregatedResources(st discoverygrpc.AggregatedDiscoveryService_StreamAggregatedResourcesServer) error {
	return x.sotw.serve(st, resourcev3.AnyType)
}

// StreamListeners serves state-of-the-world LDS.
func (x *xdsServer) StreamListeners(st listenerservice.ListenerDiscoveryService_StreamListenersServer) error {
	return x.sotw.serve(st, resourcev3.ListenerType)
}

// StreamRoutes serves state-of-the-world RDS.
func (x *xdsServer) StreamRoutes(st routeservice.RouteDiscoveryService_StreamRoutesServer) error {
	return x.sotw.serve(st, resourcev3.RouteType)
}

// StreamClusters serves state-of-the-world CDS.
func (x *xdsServer) StreamClusters(st clusterservice.ClusterDiscoveryService_StreamClustersServer) error {
	return x.sotw.serve(st, resourcev3.ClusterType)
}

// StreamEndpoints serves state-of-the-world EDS.
func (x *xdsServer) StreamEndpoints(st endpointservice.EndpointDiscoveryService_StreamEndpointsServer) error {
	return x.sotw.serve(st, resourcev3.EndpointType)
}

// StreamSecrets serves state-of-the-world SDS.
func (x *xdsServer) StreamSecrets(st secretservice.SecretDiscoveryService_StreamSecretsServer) error {
	return x.sotw.serve(st, resourcev3.SecretType)
}

// StreamRuntime serves state-of-the-world RTDS.
func (x *xdsServer) StreamRuntime(st runtimev3.RuntimeDiscoveryService_StreamRuntimeServer) error {
	return x.sotw.serve(st, resourcev3.RuntimeType)
}

// StreamHandler serves a state-of-the-world stream of typeURL.
func (x *xdsServer) StreamHandler(st streamv3.Stream, typeURL string) error {
	return x.sotw.serve(st, typeURL)
}

// sotwStreams serves state-of-the-world streams from the server's caches.
// go-control-plane's own handler builds a map of the names a request asks
// for from every request, ACKs included, and keeps it per stream: Envoy
// names every cluster in each endpoints request, so at S10k that is 20,000
// names, about 1.5 MB per stream rebuilt on every ACK. Here the names of a
// request are hashed, and a set of names is built once per distinct
// subscription and shared by every stream that asks for the same names
// (all the Envoys of a fleet do); a stream's state per type is that set,
// the mark of its last answer and that answer's nonce. What to answer is
// deltaCache's (see sotw.go).
type sotwStreams struct {
	s   *Server
	ids atomic.Int64
}

// sotwTypes are the types state-of-the-world streams are served: typeOrder
// and the runtime layer (VHDS is incremental only).
var sotwTypes = append(slices.Clip(typeOrder), resourcev3.RuntimeType)

// maxTypes is the number of sotwTypes (serve selects on each by hand).
const maxTypes = 6

// sotwType is one type's state on a stream.
type sotwType struct {
	sub    *streamSub
	out    chan cachev3.Response // the open watch's; nil when none is open
	cancel func()
	nonce  string // of the last answer
}

// serve runs one stream; defaultType is the type of a per-type service
// (resourcev3.AnyType for ADS, whose requests must name theirs).
func (h *sotwStreams) serve(st streamv3.Stream, defaultType string) error {
	id := h.ids.Add(1)
	streams := h.s.metrics.streams.WithLabelValues("sotw")
	streams.Inc()
	var types [maxTypes]sotwType
	defer func() {
		for i := range types {
			h.close(&types[i])
		}
		h.s.sentSotW.forget(id)
		streams.Dec()
	}()
	reqs := make(chan *discoverygrpc.DiscoveryRequest)
	go func() {
		for {
			req, err := st.Recv()
			if err != nil {
				close(reqs) // the client went away or the stream broke: nothing to tell it
				return
			}
			select {
			case reqs <- req:
			case <-st.Context().Done():
				if set := takeRequestNames(req); set != nil {
					sotwNames.release(set)
				}
				return
			}
		}
	}()
	var node string
	var nonce int64
	for {
		var resp cachev3.Response
		var t int
		select {
		case <-st.Context().Done():
			return nil
		case req, ok := <-reqs:
			if !ok {
				return nil
			}
			if req.GetNode() != nil {
				node = req.GetNode().GetId()
			}
			if err := h.request(id, node, req, defaultType, &types); err != nil {
				return err
			}
			continue
		case resp = <-types[0].out:
		case resp = <-types[1].out:
			t = 1
		case resp = <-types[2].out:
			t = 2
		case resp = <-types[3].out:
			t = 3
		case resp = <-types[4].out:
			t = 4
		case resp = <-types[5].out:
			t = 5
		}
		nonce++
		if err := h.send(st, id, &types[t], resp, strconv.FormatInt(nonce, 10)); err != nil {
			return err
		}
	}
}

// request takes one request: an ACK or NACK of the type's last answer, a
// new subscription, or both; it opens the type's next watch.
func (h *sotwStreams) request(id int64, node string, req *discoverygrpc.DiscoveryRequest, defaultType string, types *[maxTypes]sotwType) error {
	set := takeRequestNames(req) // wireCodec's, when it knew the names: held for this request
	defer func() {
		if set != nil {
			sotwNames.release(set)
		}
	}()
	typ := req.GetTypeUrl()
	switch {
	case typ == "" && defaultType == resourcev3.AnyType:
		return status.Error(codes.InvalidArgument, "type URL is required for ADS")
	case typ == "":
		typ = defaultType
		req.TypeUrl = typ
	}
	h.s.answer(&h.s.sentSotW, id, typ, req.GetResponseNonce(), req.GetErrorDetail(),
		"xDS NACK", "node", node, "version", req.GetVersionInfo())
	i := typeIndex(typ)
	c := h.s.deltas[typ]
	if i < 0 || c == nil {
		return status.Error(codes.InvalidArgument, "no resources of type "+typ)
	}
	ts := &types[i]
	if ts.nonce != "" && req.GetResponseNonce() != ts.nonce {
		return nil // an answer to an older response: the protocol says to ignore it
	}
	h.stop(ts)
	ts.sub, set = h.subscribe(typ, ts.sub, req.GetResourceNames(), set), nil // the subscription holds it now
	ts.out = make(chan cachev3.Response, 1)
	cancel, err := c.createSotwWatch(req, ts.sub, ts.out)
	if err != nil {
		return err
	}
	ts.cancel = cancel
	return nil
}

// send writes an answer and records it as the type's state.
func (h *sotwStreams) send(st streamv3.Stream, id int64, ts *sotwType, resp cachev3.Response, nonce string) error {
	out, err := resp.GetDiscoveryResponse()
	if err != nil {
		return err
	}
	out.Nonce = nonce
	ts.sub.returned = resp.GetReturnedResources()
	ts.nonce, ts.out, ts.cancel = nonce, nil, nil
	h.s.metrics.pushes.WithLabelValues(shortType(out.GetTypeUrl())).Inc()
	if r, ok := resp.(*sotwResponse); ok {
		h.s.sentSotW.record(id, out.GetTypeUrl(), nonce, r.rev)
	}
	return st.Send(out)
}

// stop cancels the type's open watch, if any.
func (h *sotwStreams) stop(ts *sotwType) {
	if ts.cancel != nil {
		ts.cancel()
	}
	ts.out, ts.cancel = nil, nil
}

// close stops the type's watch and lets its names go.
func (h *sotwStreams) close(ts *sotwType) {
	h.stop(ts)
	if ts.sub != nil && ts.sub.set != nil {
		sotwNames.release(ts.sub.set)
	}
}

// subscribe returns the subscription after a request naming names (or,
// when wireCodec knew them, the set of them it holds for the request, which
// the subscription takes): the protocol's rules for wildcards (a first
// request naming nothing is a wildcard until one names something; "*" is
// one), with the names shared through sotwNames.
func (h *sotwStreams) subscribe(typ string, was *streamSub, names []string, set *nameSet) *streamSub {
	sub := &streamSub{}
	named := len(names) > 0 || set != nil
	if was != nil {
		*sub = *was
	} else {
		sub.legacy = !named
	}
	if sub.legacy && !named {
		sub.wildcard = true
		return sub
	}
	sub.legacy, sub.wildcard = false, false
	if set == nil {
		explicit := names[:0:0]
		for _, n := range names {
			if n == "*" {
				sub.wildcard = true
			} else {
				explicit = append(explicit, n)
			}
		}
		if len(explicit) == len(names) {
			explicit = names // no "*": hash the request's own slice
		}
		set = sotwNames.acquire(typ, explicit)
	}
	if sub.set != nil {
		sotwNames.release(sub.set)
	}
	sub.set = set
	return sub
}

// typeIndex returns the position of typ in sotwTypes, -1 if absent.
func typeIndex(typ string) int {
	for i, t := range sotwTypes {
		if t == typ {
			return i
		}
	}
	return -1
}

// streamSub is a stream's subscription to one type, as deltaCache reads
// it (cachev3.Subscription): a wildcard, or a shared set of names; and
// the mark of its last answer.
type streamSub struct {
	wildcard bool
	legacy   bool // a wildcard by naming nothing, until a request names something
	set      *nameSet
	returned map[string]string
}

var noNames = map[string]struct{}{}

// ReturnedResources returns the mark of the last answer.
func (s *streamSub) ReturnedResources() map[string]string { return s.returned }

// SubscribedResources returns the names asked for (shared: read only).
func (s *streamSub) SubscribedResources() map[string]struct{} {
	if s.set == nil {
		return noNames
	}
	return s.set.names
}

// IsWildcard reports whether every resource of the type is asked for.
func (s *streamSub) IsWildcard() bool { return s.wildcard }

// namesDigest returns the digest of the names asked for, which the set
// carries: deltaCache need not read them again.
func (s *streamSub) namesDigest() uint64 {
	if s.set == nil {
		return namesDigest(0, 0)
	}
	return s.set.digest
}

// sotwNames holds the sets of names of every state-of-the-world stream in
// the process (wireCodec looks them up as it reads requests).
var sotwNames = nameSets{seed: maphash.MakeSeed(), sets: map[nameSetKey]*nameSet{}}

// nameSets interns the sets of names streams ask for, by type and digest,
// counting the subscriptions (and requests in flight) that hold each.
type nameSets struct {
	mu   sync.Mutex
	seed maphash.Seed
	sets map[nameSetKey]*nameSet
}

// keyOf returns the key of a set of n names whose hashes sum to sum.
func keyOf(typ string, sum uint64, n int) nameSetKey {
	return nameSetKey{typ, namesDigest(sum, n), n}
}

type nameSetKey struct {
	typ    string
	digest uint64
	n      int
}

// nameSet is one set of names and the number of subscriptions holding it.
type nameSet struct {
	key    nameSetKey
	digest uint64
	names  map[string]struct{}
	refs   int
}

// held returns the set of key with one more holder, nil when no one holds
// it.
func (ns *nameSets) held(key nameSetKey) *nameSet {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	set, ok := ns.sets[key]
	if !ok {
		return nil
	}
	set.refs++
	return set
}

// acquire returns the shared set of names (one more holder).
func (ns *nameSets) acquire(typ string, names []string) *nameSet {
	var sum uint64
	for _, n := range names {
		sum += maphash.String(ns.seed, n)
	}
	key := keyOf(typ, sum, len(names))
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if set, ok := ns.sets[key]; ok {
		set.refs++
		return set
	}
	set := &nameSet{key: key, digest: key.digest, names: make(map[string]struct{}, len(names)), refs: 1}
	for _, n := range names {
		set.names[n] = struct{}{}
	}
	ns.sets[key] = set
	return set
}

// release drops one holder of set, and the set with the last.
func (ns *nameSets) release(set *nameSet) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if set.refs--; set.refs == 0 {
		delete(ns.sets, set.key)
	}
}
