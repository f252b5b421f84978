package server

import (
	"fmt"
	"net"
	"strconv"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/internal/typedconfig"
)

// CheckStaticListeners returns an error when ls cannot be served as
// Options.StaticListeners: one is not valid (go-control-plane's Validate,
// of the listener and of each typed configuration it holds),
// two share a name or an address and port, or one has the name of a
// listener the configuration has (reserved: ingress_http, ingress_https).
func CheckStaticListeners(ls []*listenerv3.Listener, reserved ...string) error {
	seen, at := map[string]bool{}, map[string]string{}
	for _, r := range reserved {
		seen[r] = true
	}
	for _, l := range ls {
		if err := l.Validate(); err != nil {
			return fmt.Errorf("listener %q: %w", l.GetName(), err)
		}
		if err := typedconfig.Validate(l); err != nil {
			return fmt.Errorf("listener %q: %w", l.GetName(), err)
		}
		if seen[l.GetName()] {
			return fmt.Errorf("listener %q: the name is taken", l.GetName())
		}
		seen[l.GetName()] = true
		a := l.GetAddress().GetSocketAddress()
		where := net.JoinHostPort(a.GetAddress(), strconv.FormatUint(uint64(a.GetPortValue()), 10))
		if other, ok := at[where]; ok {
			return fmt.Errorf("listeners %q and %q: both on address %s", other, l.GetName(), where)
		}
		at[where] = l.GetName()
		if _, _, err := snapshot.Encode(l); err != nil {
			return fmt.Errorf("listener %q: %w", l.GetName(), err)
		}
	}
	return nil
}

// setStatic puts ls in the listener cache, beside what SetResources hands
// over, which never removes them (stale skips them).
func (s *Server) setStatic(ls []*listenerv3.Listener) {
	items := make([]snapshot.Item, len(ls))
	for i, l := range ls {
		items[i] = snapshot.Item{Name: l.GetName(), Resource: l}
	}
	for _, name := range s.putFixed(resourcev3.ListenerType, items) {
		s.static[name] = true
	}
}

// putFixed puts resources of type t that are not part of the resource sets
// (Options.Runtime and Options.StaticListeners) in its cache, and returns
// the names put. One that cannot be encoded is not served and the failure
// is logged (New's caller checks them first: CheckRuntime,
// CheckStaticListeners).
func (s *Server) putFixed(t string, items []snapshot.Item) []string {
	var put []wired
	var names []string
	for _, it := range items {
		b, v, err := snapshot.Encode(it.Resource)
		if err != nil {
			s.opts.Logger.Error("resource not served", "type", shortType(t), "name", it.Name, "error", err)
			continue
		}
		put = append(put, newWired(t, it.Name, snapshot.Encoding{Head: b, Version: v}))
		names = append(names, it.Name)
	}
	if len(put) > 0 {
		s.deltas[t].update(put, nil)
	}
	return names
}
