package translate

import (
	"fmt"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// A validation is Envoy's validation of a list of items (every emitted
// resource is checked: an error is an Isobar bug), running from
// runValidation or startValidation until wait. The error wait reports is
// that of the first item in order, so the answer does not depend on
// scheduling.
type validation struct {
	items []validationItem
	errs  []error
	done  chan struct{}
}

// runValidation validates items and returns once all are checked.
func runValidation(items []validationItem) *validation {
	v := newValidation(items)
	v.run()
	return v
}

// newValidation is a validation of items, not started.
func newValidation(items []validationItem) *validation {
	return &validation{items: items, errs: make([]error, len(items)), done: make(chan struct{})}
}

// startValidation validates items in the background, on one goroutine,
// beside whatever the caller does next: Translate checks its route
// configurations while it builds the other resources, so that the core its
// one-core steps (sorting names, listing assignments) leave idle does this
// work instead of idling (one goroutine, not one per core: spread over
// every core, it would be over before those steps come). The caller must
// not touch the items' messages until wait has returned (checking a
// virtual host writes its routes for a moment).
func startValidation(items []validationItem) *validation {
	v := newValidation(items)
	go func() {
		defer close(v.done)
		check := v.checker()
		for i := range v.items {
			check(i)
		}
	}()
	return v
}

// run checks every item, on every CPU, and closes done.
func (v *validation) run() {
	defer close(v.done)
	parallel.Workers(len(v.items), 256, v.checker)
}

// checker returns a function that checks item i, with scratch space of
// its own: it must be called from one goroutine.
func (v *validation) checker() func(i int) {
	var scratch hostScratch
	return func(i int) {
		if vh, ok := v.items[i].v.(*routev3.VirtualHost); ok {
			v.errs[i] = validateVirtualHost(vh, &scratch)
		} else {
			v.errs[i] = v.items[i].v.Validate()
		}
	}
}

// wait waits for the validation to end and returns the error of its first
// item that has one.
func (v *validation) wait() error {
	<-v.done
	return firstError(v.items, v.errs)
}

// firstError returns the error of the first item that has one (errs[i]
// is items[i]'s), naming the item.
func firstError(items []validationItem, errs []error) error {
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("%s is not valid (this is an Isobar bug): %w", items[i].describe(), err)
		}
	}
	return nil
}

// validateResources validates res, whose route configurations a
// validation started with startValidation (routeValidationItems of
// res.Routes, sorted by SortRoutes) is checking, on every CPU, and waits
// for both: the error reported is that of the first resource in order
// (listeners, route configurations, clusters, assignments, secrets).
func validateResources(res *xds.Resources, routes *validation) error {
	items := listenerItems(nil, res.Listeners)
	listeners := len(items)
	rest := runValidation(otherItems(items, res))
	routesErr := routes.wait()
	if err := firstError(rest.items[:listeners], rest.errs[:listeners]); err != nil {
		return err
	}
	if routesErr != nil {
		return routesErr
	}
	return firstError(rest.items[listeners:], rest.errs[listeners:])
}

// validateVirtualHost is vh.Validate(), except that a message several
// routes share is validated once rather than once per route: each source
// metadata (shared by the routes of an object), each action met again in
// the host (routes to one plain cluster share theirs, see forwardAction;
// the HTTPS redirect and the 503 answer are one message each), and each
// header condition, once for every host s checks (the routes of a
// translation share one message per distinct condition, see
// translator.headerMatcher, and a wildcard host's authority condition is
// on all its routes). The shared messages are set aside while vh is
// validated (a repeated action stands in as an empty, valid one; a route's
// header conditions are taken from its match), then put back; s is
// scratch space reused from host to host. vh is not handed out yet and a
// validation checks each host on one goroutine, so nothing else reads the
// routes meanwhile; a route without metadata, repeated action or header
// condition (such as those of the shared catch-all host) is not written.
// Checking a message apart gives Validate's verdict: Envoy's rules each
// concern one message's own fields.
func validateVirtualHost(vh *routev3.VirtualHost, s *hostScratch) error {
	routes := vh.GetRoutes()
	saved, seen := s.saved[:0], s.seen[:0]
	var last *corev3.Metadata
	var err error
	for i, r := range routes {
		keep := setAside{route: r, metadata: r.Metadata}
		if md := keep.metadata; md != nil {
			if md != last && err == nil {
				if e := md.Validate(); e != nil {
					err = fmt.Errorf("route %d metadata: %w", i, e)
				}
				last = md
			}
			r.Metadata = nil
		}
		switch r.Action.(type) {
		case *routev3.Route_Route, *routev3.Route_Redirect, *routev3.Route_DirectResponse: // the kinds restore puts back
			if a := any(r.Action); slices.Contains(seen, a) {
				keep.action, r.Action = a, standInAction
			} else if len(seen) < maxSeenActions {
				seen = append(seen, a)
			}
		}
		if m := r.GetMatch(); m != nil && len(m.Headers) > 0 {
			if e := s.checkHeaders(m.Headers); e != nil && err == nil {
				err = fmt.Errorf("route %d header condition: %w", i, e)
			}
			keep.headers, m.Headers = m.Headers, nil
		}
		if keep.metadata != nil || keep.action != nil || keep.headers != nil {
			saved = append(saved, keep)
		}
	}
	if e := vh.Validate(); err == nil {
		err = e
	}
	for _, k := range saved {
		k.restore()
	}
	s.saved, s.seen = saved, seen
	return err
}

// hostScratch is validateVirtualHost's scratch space: what it set aside of
// the routes, the actions met in the host, and the header conditions
// checked in any host.
type hostScratch struct {
	saved   []setAside
	seen    []any
	headers map[*routev3.HeaderMatcher]bool
}

// checkHeaders validates the header conditions in hs not checked before
// with s, and returns the error of the first invalid one.
func (s *hostScratch) checkHeaders(hs []*routev3.HeaderMatcher) error {
	var err error
	for _, h := range hs {
		if s.headers[h] {
			continue
		}
		if s.headers == nil {
			s.headers = map[*routev3.HeaderMatcher]bool{}
		}
		s.headers[h] = true
		if e := h.Validate(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// maxSeenActions is how many distinct actions validateVirtualHost looks
// for again in a host.
const maxSeenActions = 8

// setAside is what validateVirtualHost took from a route: its metadata,
// its action when that was met before in the host, and its header
// conditions.
type setAside struct {
	route    *routev3.Route
	metadata *corev3.Metadata
	action   any
	headers  []*routev3.HeaderMatcher
}

// restore puts back in the route what was taken from it.
func (k setAside) restore() {
	if k.metadata != nil {
		k.route.Metadata = k.metadata
	}
	if k.headers != nil {
		k.route.Match.Headers = k.headers
	}
	switch a := k.action.(type) {
	case *routev3.Route_Route:
		k.route.Action = a
	case *routev3.Route_Redirect:
		k.route.Action = a
	case *routev3.Route_DirectResponse:
		k.route.Action = a
	}
}

// standInAction replaces, while its host is validated, a route's action
// validated already: the smallest valid action. Shared, never modified.
var standInAction = &routev3.Route_NonForwardingAction{NonForwardingAction: &routev3.NonForwardingAction{}}

// validationItem is one message validate checks: a whole resource, or a
// virtual host of the route configuration called config (checked on its
// own so that ingress_http, which holds most of them, is spread over the
// workers; its configuration is then checked without them).
type validationItem struct {
	v      validator
	config string // the route configuration of a virtual host
}

// validationItems lists the messages of res in resource order, as
// validateResources checks them (see routeValidationItems for the route
// configurations).
func validationItems(res *xds.Resources) []validationItem {
	items := listenerItems(nil, res.Listeners)
	items = append(items, routeValidationItems(res.Routes)...)
	return otherItems(items, res)
}

// listenerItems appends the listeners to items.
func listenerItems(items []validationItem, listeners []*listenerv3.Listener) []validationItem {
	for _, r := range listeners {
		items = append(items, validationItem{v: r})
	}
	return items
}

// otherItems appends the clusters, assignments and secrets of res to
// items.
func otherItems(items []validationItem, res *xds.Resources) []validationItem {
	items = slices.Grow(items, len(res.Clusters)+len(res.Endpoints)+len(res.Secrets))
	for _, r := range res.Clusters {
		items = append(items, validationItem{v: r})
	}
	for _, r := range res.Endpoints {
		items = append(items, validationItem{v: r})
	}
	for _, r := range res.Secrets {
		items = append(items, validationItem{v: r})
	}
	return items
}

// routeValidationItems lists the route configurations, each followed by
// its virtual hosts. The shared catch-all host of the https/<fqdn>
// configurations is listed once, and the hosts of ingress_fallbackcert
// (theirs too) not again: a validation may check two items at once, and
// checking a host writes its routes.
func routeValidationItems(routes []*routev3.RouteConfiguration) []validationItem {
	n := 0
	for _, r := range routes {
		n += 1 + len(r.GetVirtualHosts())
	}
	items := make([]validationItem, 0, n)
	shells := make([]routev3.RouteConfiguration, len(routes))
	listed := false // misdirected
	for i, r := range routes {
		shells[i].Name, shells[i].RequestHeadersToAdd = r.GetName(), r.GetRequestHeadersToAdd()
		items = append(items, validationItem{v: &shells[i]})
		if r.GetName() == FallbackRoutes {
			continue // its hosts are those of https/<fqdn> configurations, checked there
		}
		for _, vh := range r.GetVirtualHosts() {
			if isMisdirected(vh) {
				if listed {
					continue
				}
				listed = true
			}
			items = append(items, validationItem{v: vh, config: r.GetName()})
		}
	}
	return items
}

// describe names the item for an error message.
func (it validationItem) describe() string {
	switch m := it.v.(type) {
	case *listenerv3.Listener:
		return fmt.Sprintf("listener %q", m.GetName())
	case *routev3.RouteConfiguration:
		return fmt.Sprintf("route configuration %q", m.GetName())
	case *routev3.VirtualHost:
		return fmt.Sprintf("route configuration %s virtual host %q", it.config, m.GetName())
	case *clusterv3.Cluster:
		return fmt.Sprintf("cluster %q", m.GetName())
	case *endpointv3.ClusterLoadAssignment:
		return fmt.Sprintf("cluster load assignment %q", m.GetClusterName())
	case *tlsv3.Secret:
		return fmt.Sprintf("secret %q", m.GetName())
	}
	return fmt.Sprintf("%T", it.v)
}
