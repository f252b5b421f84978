package server

import (
	"context"
	"errors"
	"fmt"
	"sort"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// SetResources replaces the whole resource set, updating only resources
// whose content changed, in make-before-break order (additions and changes
// of secrets, clusters, endpoints, listeners, routes; then removals in the
// reverse order). A set that refers to a resource it does not hold is
// refused (the error wraps snapshot.ErrInconsistent) and the previous set
// keeps being served. The first call opens the port.
//
// The cost follows what changed since the last set: a resource handed over
// again as the same message is taken as unchanged without being looked at
// (see snapshot.Diff: a resource handed over must never be mutated
// afterwards). A new message is encoded and versioned by a
// snapshot.Encoder: a big route configuration or listener costs its new
// virtual hosts or filter chains, whose pieces the caches then share with
// the kept ones. It is sent, framed around those pieces, when its version
// differs from what the caches hold; only those resources and the removed
// names are checked for dangling references, and of a big route
// configuration, only its new virtual hosts are walked (snapshot.RefCache).
// The first call, and the one after a failure half way through handing a
// set over, encode and check everything. With Options.VHDS, the split route
// configuration's new and changed virtual hosts go to the VirtualHost cache
// after the route configurations, and its removed ones before them.
func (s *Server) SetResources(_ context.Context, res *xds.Resources) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	full, prev := s.applied == nil, s.applied
	diff, next := snapshot.Diff(s.applied, res)
	updates, err := s.encodeChanges(diff, full)
	if err != nil {
		return err
	}
	changed := map[string][]encoded{}
	removals := map[string][]string{}
	var put []snapshot.Node
	var remove []snapshot.Ref
	for _, u := range updates {
		if u.push {
			changed[u.typ] = append(changed[u.typ], u.enc)
		}
		if u.push || full {
			put = append(put, snapshot.Node{Ref: snapshot.Ref{Kind: kindOf(u.typ), Name: u.item.Name}, Resource: u.item.Resource, Out: u.out})
		}
	}
	var split vhdsChange
	if s.vhds != nil {
		if split, err = s.vhds.changes(next.Resources(), s.deltas[resourcev3.VirtualHostType], full); err != nil {
			s.forgetNew(updates)
			return err
		}
		changed[resourcev3.VirtualHostType], removals[resourcev3.VirtualHostType] = split.changed, split.removed
	}
	tracker := s.tracker
	if full {
		tracker = &snapshot.Tracker{}
	}
	for _, t := range typeOrder {
		if full {
			removals[t] = s.stale(t, next)
		} else {
			removals[t] = diff[kindOf(t)].Removed
		}
		for _, n := range removals[t] {
			remove = append(remove, snapshot.Ref{Kind: kindOf(t), Name: n})
		}
	}
	if err := tracker.Apply(put, remove); err != nil {
		s.forgetNew(updates)
		return fmt.Errorf("refusing an inconsistent resource set: %w", err)
	}
	if err := s.handOver(changed, removals); err != nil {
		return err
	}
	s.applied, s.tracker = next, tracker
	for _, t := range typeOrder {
		s.metrics.resources.WithLabelValues(shortType(t)).Set(float64(countOf(next.Resources(), kindOf(t))))
	}
	if s.vhds != nil {
		s.vhds.commit(split)
		s.metrics.resources.WithLabelValues(shortType(resourcev3.VirtualHostType)).Set(float64(len(split.hosts)))
	}
	if s.opts.Freeze {
		// Before the port opens: what freezing lets go is part of the
		// first build's garbage that serve hands back to the system then.
		var was *xds.Resources
		if prev != nil {
			was = prev.Resources()
		}
		s.logFreezing(freezeUpdates(updates, was, s.vhds))
	}
	s.once.Do(func() { close(s.ready) })
	return nil
}

// handOver gives the caches changes and removals, in make-before-break
// order. Until it is done, the server holds no applied set, so that a
// failure half way makes the next SetResources start over.
func (s *Server) handOver(changed map[string][]encoded, removals map[string][]string) error {
	s.applied, s.tracker = nil, nil
	order := s.deliveryOrder()
	for _, t := range order {
		if err := s.apply(t, changed[t], nil); err != nil {
			return err
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		if err := s.apply(order[i], nil, removals[order[i]]); err != nil {
			return err
		}
	}
	return nil
}

// update is one resource snapshot.Diff reported, encoded.
type update struct {
	typ  string
	item snapshot.Item
	enc  encoded
	push bool // its content differs from what the caches hold
	// encoding is its encoding, as the encoder gave it; only its version
	// when it was pushed in one piece (then enc holds the bytes).
	encoding snapshot.Encoding
	out      [][]snapshot.Ref // what it refers to, when the tracker needs it
}

// encodeChanges encodes, in parallel, the resources diff reports, and
// returns them in type and name order, each marked for pushing when its
// version differs from the caches'. What a resource refers to is worked
// out when it is pushed, or for every resource when full.
func (s *Server) encodeChanges(diff snapshot.Changes, full bool) ([]update, error) {
	var updates []update
	for _, t := range typeOrder {
		for _, it := range diff[kindOf(t)].Changed {
			updates = append(updates, update{typ: t, item: it})
		}
	}
	errs := make([]error, len(updates))
	parallel.For(len(updates), 128, func(i int) {
		u := &updates[i]
		sent := s.sentForm(u.typ, u.item)
		enc, err := s.encoder.Encode(kindOf(u.typ), u.item.Name, sent)
		u.encoding = enc
		if err == nil && s.deltas[u.typ].version(u.item.Name) != enc.Version {
			u.push = true
			u.enc = encoded{sent, newWired(u.typ, u.item.Name, enc)}
			if len(enc.Elems) == 0 {
				// The wired copy is all that is read of it now
				// (wholeEncoding): a first build of S10k no longer
				// holds 9 MB of encodings twice until it is applied.
				u.encoding = snapshot.Encoding{Version: enc.Version}
			}
		}
		if err == nil && (u.push || full) {
			if u.out, err = s.refs.Outgoing(u.item.Resource); err != nil {
				err = fmt.Errorf("refusing an inconsistent resource set: %w", err)
			}
		}
		errs[i] = err
	})
	return updates, errors.Join(errs...)
}

// sentForm is the message the caches get for it: the resource itself,
// except the route configuration served through VHDS, whose stub they get
// (its virtual hosts go separately). What the tracker checks is the
// resource itself either way.
func (s *Server) sentForm(t string, it snapshot.Item) types.Resource {
	if s.vhds != nil && t == resourcev3.RouteType && it.Name == s.vhds.opts.RouteConfiguration {
		if rc, ok := it.Resource.(*routev3.RouteConfiguration); ok {
			return s.vhds.stubFor(rc)
		}
	}
	return it.Resource
}

// stale returns, in order, the names of type t the caches hold and next
// does not.
func (s *Server) stale(t string, next *snapshot.Set) []string {
	var out []string
	for _, name := range s.deltas[t].names() {
		if t == resourcev3.ListenerType && s.static[name] {
			continue // Options.StaticListeners stay
		}
		if !holds(next.Resources(), kindOf(t), name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// forgetNew drops the encoder's memory of the resources of a refused set
// that the caches do not hold.
func (s *Server) forgetNew(updates []update) {
	for _, u := range updates {
		if s.deltas[u.typ].version(u.item.Name) == "" {
			s.forget(u.typ, u.item.Name)
		}
	}
}

// forget drops what the server remembers to encode and check the
// resource of type t called name faster.
func (s *Server) forget(t, name string) {
	if t == resourcev3.VirtualHostType {
		return // encoded afresh each time: nothing remembered
	}
	s.encoder.Forget(kindOf(t), name)
	s.refs.Forget(kindOf(t), name)
}

// encoded is one changed resource: its message and its framed encoding.
type encoded struct {
	msg types.Resource
	wired
}

// apply hands changes and removals of type t to its cache.
func (s *Server) apply(t string, changed []encoded, removed []string) error {
	if len(changed) > 0 {
		resources := make([]wired, len(changed))
		for i, e := range changed {
			resources[i] = e.wired
		}
		s.deltas[t].update(resources, nil)
		s.metrics.updated.WithLabelValues(shortType(t)).Add(float64(len(changed)))
	}
	if len(removed) > 0 {
		s.deltas[t].update(nil, removed)
		for _, n := range removed {
			s.forget(t, n)
		}
	}
	return nil
}

// UpdateEndpoints replaces some ClusterLoadAssignments: the endpoint fast
// path. Only assignments whose content changed reach the streams. They
// also replace their names' assignments in the last set SetResources
// applied, so that the next SetResources compares its own assignments with
// these (and sends them again when they differ).
func (s *Server) UpdateEndpoints(_ context.Context, clas []*endpointv3.ClusterLoadAssignment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := resourcev3.EndpointType
	var changed []encoded
	var put []snapshot.Node
	have, pushed := s.deltas[t], map[string]string{}
	for _, c := range clas {
		enc, err := s.encoder.Encode(snapshot.KindEndpoint, c.GetClusterName(), c)
		if err != nil {
			return err
		}
		held, ok := pushed[c.GetClusterName()] // an assignment given twice
		if !ok {
			held = have.version(c.GetClusterName())
		}
		if held != enc.Version {
			pushed[c.GetClusterName()] = enc.Version
			changed = append(changed, encoded{c, newWired(t, c.GetClusterName(), enc)})
			put = append(put, snapshot.Node{Ref: snapshot.Ref{Kind: snapshot.KindEndpoint, Name: c.GetClusterName()}, Resource: c})
		}
	}
	if s.applied != nil {
		changedCLAs := make([]*endpointv3.ClusterLoadAssignment, len(changed))
		for i, e := range changed {
			changedCLAs[i] = e.msg.(*endpointv3.ClusterLoadAssignment)
		}
		s.applied.PutEndpoints(changedCLAs...)
		// Assignments refer to nothing: adding them cannot make a
		// reference dangle.
		if err := s.tracker.Apply(put, nil); err != nil {
			s.applied, s.tracker = nil, nil
		}
	}
	if err := s.apply(t, changed, nil); err != nil {
		s.applied, s.tracker = nil, nil
		return err
	}
	if s.opts.Freeze {
		todo := make([]freezing, len(changed))
		for i, e := range changed {
			todo[i] = freezing{e.msg, e.value()}
		}
		s.logFreezing(freezeAll(todo))
	}
	return nil
}

// kindOf returns the snapshot kind of a type URL.
func kindOf(t string) snapshot.Kind {
	switch t {
	case resourcev3.ListenerType:
		return snapshot.KindListener
	case resourcev3.RouteType:
		return snapshot.KindRoute
	case resourcev3.ClusterType:
		return snapshot.KindCluster
	case resourcev3.EndpointType:
		return snapshot.KindEndpoint
	}
	return snapshot.KindSecret
}

// holds reports whether the sorted set res has a resource of kind k
// called name.
func holds(res *xds.Resources, k snapshot.Kind, name string) bool {
	switch k {
	case snapshot.KindListener:
		return res.Listener(name) != nil
	case snapshot.KindRoute:
		return res.RouteConfiguration(name) != nil
	case snapshot.KindCluster:
		return res.Cluster(name) != nil
	case snapshot.KindEndpoint:
		return res.ClusterLoadAssignment(name) != nil
	}
	i := sort.Search(len(res.Secrets), func(i int) bool { return res.Secrets[i].GetName() >= name })
	return i < len(res.Secrets) && res.Secrets[i].GetName() == name
}

// countOf returns how many resources of kind k res has.
func countOf(res *xds.Resources, k snapshot.Kind) int {
	switch k {
	case snapshot.KindListener:
		return len(res.Listeners)
	case snapshot.KindRoute:
		return len(res.Routes)
	case snapshot.KindCluster:
		return len(res.Clusters)
	case snapshot.KindEndpoint:
		return len(res.Endpoints)
	}
	return len(res.Secrets)
}
