package server

import (
	"errors"
	"fmt"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// routeVirtualHosts is RouteConfiguration.virtual_hosts.
const routeVirtualHosts protowire.Number = 2

// freezing is one message to freeze (Options.Freeze) from enc, its
// encoding as the caches hold it; nil enc: encode it again.
type freezing struct {
	m   proto.Message
	enc []byte
}

// freezeUpdates freezes the ClusterLoadAssignments and the virtual hosts
// of the route configurations among updates that prev (the set the caches
// held before, or nil) did not hold, each from its bytes in the encoding
// the caches hold, which the frozen message then shares: a resource's
// framed encoding, or the piece of a route configuration encoded element
// by element. The route configuration served through VHDS, whose caches
// hold a stub, has its new hosts encoded again. What is already frozen is
// left as it is.
func freezeUpdates(updates []update, prev *xds.Resources, vhds *vhdsSplit) error {
	var todo []freezing
	seen := map[*routev3.VirtualHost]bool{}
	for _, u := range updates {
		switch m := u.item.Resource.(type) {
		case *endpointv3.ClusterLoadAssignment:
			todo = append(todo, freezing{m, wholeEncoding(u)})
		case *routev3.RouteConfiguration:
			hosts := m.GetVirtualHosts()
			var was []*routev3.VirtualHost
			if prev != nil {
				was = prev.RouteConfiguration(m.GetName()).GetVirtualHosts()
			}
			fresh := snapshot.NewElements(was, hosts)
			if len(fresh) == 0 {
				continue
			}
			enc := func(int) []byte { return nil } // encode again
			if vhds == nil || m.GetName() != vhds.opts.RouteConfiguration {
				enc = hostEncodings(u, len(hosts))
			}
			for _, i := range fresh {
				if !seen[hosts[i]] { // route configurations may share hosts
					seen[hosts[i]] = true
					todo = append(todo, freezing{hosts[i], enc(i)})
				}
			}
		}
	}
	return freezeAll(todo)
}

// logFreezing logs err, a failure to freeze some of what the caches took:
// an Isobar bug, which leaves those messages as they were (and costs only
// their memory).
func (s *Server) logFreezing(err error) {
	if err != nil {
		s.opts.Logger.Error("resources kept as messages", "error", err)
	}
}

// freezeAll freezes todo on every core.
func freezeAll(todo []freezing) error {
	errs := make([]error, len(todo))
	parallel.For(len(todo), 256, func(i int) {
		f := todo[i]
		if xds.Frozen(f.m) {
			return
		}
		if f.enc == nil {
			if f.enc, errs[i] = deterministic.Marshal(f.m); errs[i] != nil {
				return
			}
		}
		switch m := f.m.(type) {
		case *routev3.VirtualHost:
			errs[i] = xds.FreezeVirtualHost(m, f.enc)
		case *endpointv3.ClusterLoadAssignment:
			errs[i] = xds.FreezeClusterLoadAssignment(m, f.enc)
		}
		if errs[i] != nil {
			errs[i] = fmt.Errorf("freezing what the caches took: %w", errs[i])
		}
	})
	return errors.Join(errs...)
}

// wholeEncoding is u's encoding in one piece: the caches' copy when u was
// pushed, the encoder's answer otherwise.
func wholeEncoding(u update) []byte {
	if u.push {
		return u.enc.value()
	}
	if len(u.encoding.Elems) > 0 || len(u.encoding.Tail) > 0 {
		return nil
	}
	return u.encoding.Head
}

// hostEncodings returns a function giving the encoding of virtual host i
// of u's route configuration, which holds n, as a slice of what the caches
// hold (or, when u's content was already there, of the encoder's answer);
// nil when it cannot be found.
func hostEncodings(u update, n int) func(i int) []byte {
	none := func(int) []byte { return nil }
	if len(u.encoding.Elems) == 0 {
		all := snapshot.FieldValues(wholeEncoding(u), routeVirtualHosts)
		if len(all) != n {
			return none
		}
		return func(i int) []byte { return all[i] }
	}
	if len(u.encoding.Elems) != n {
		return none
	}
	// Element by element: each piece is one host, framed as the field.
	return func(i int) []byte {
		if v := snapshot.FieldValues(u.encoding.Elems[i], routeVirtualHosts); len(v) == 1 {
			return v[0]
		}
		return nil
	}
}
