package server

import (
	"fmt"
	"net"
	"strconv"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
)

// CheckStaticListeners returns an error when ls cannot be served as
// Options.StaticListeners: one is not valid (go-control-plane's Validate),
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
// over, which never removes them (stale skips them). A listener that
// cannot be encoded is not served and the failure is logged (New's caller
// checks them first).
func (s *Server) setStatic(ls []*listenerv3.Listener) {
	t := resourcev3.ListenerType
	var put []wired
	for _, l := range ls {
		b, v, err := snapshot.Encode(l)
		if err != nil {
			s.opts.Logger.Error("static listener not served", "listener", l.GetName(), "error", err)
			continue
		}
		put = append(put, newWired(t, l.GetName(), snapshot.Encoding{Head: b, Version: v}))
		s.versions[t][l.GetName()] = v
		s.static[l.GetName()] = true
	}
	if len(put) > 0 {
		s.deltas[t].update(put, nil)
	}
}
