package graph

import (
	"fmt"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// Finding codes and reasons for route conflicts.
const (
	// FindingDuplicateRoute: two routes on one host have identical match
	// conditions; only one can ever be used.
	FindingDuplicateRoute = "DuplicateRoute"
	// ReasonRouteConflict is the warning on the object whose route lost.
	ReasonRouteConflict = "RouteConflict"
)

// addRoute adds r to the host fqdn. With tls, r goes to the secure virtual
// host, and the insecure host gets either r itself (permitInsecure, unless
// disabled globally) or a copy answering 301 to https. Without tls, r goes to
// the insecure host only. Duplicate match conditions are resolved by
// VirtualHost.AddRoute (oldest object wins) and reported here.
func (b *builder) addRoute(fqdn string, tls bool, r *Route, permitInsecure bool) {
	if !tls {
		b.addTo(b.g.VirtualHost(fqdn), r.Key(), r)
		return
	}
	b.addSecureRoute(&b.g.SecureVirtualHost(fqdn).VirtualHost, b.g.VirtualHost(fqdn), r.Key(), r, permitInsecure)
}

// addSecureRoute adds r, a route of a TLS host whose match key is key, to
// the host's secure virtual host, and to its insecure one either itself
// (permitInsecure, unless disabled globally) or as a copy answering 301 to
// https.
func (b *builder) addSecureRoute(secure, insecure *VirtualHost, key MatchKey, r *Route, permitInsecure bool) {
	b.addTo(secure, key, r)
	b.addInsecureRoute(insecure, key, r, permitInsecure)
}

// addInsecureRoute adds the port-80 copy of route r of a TLS host to
// insecure: r itself when it permits insecure requests (and that is
// allowed), otherwise a redirect to https with r's match.
func (b *builder) addInsecureRoute(insecure *VirtualHost, key MatchKey, r *Route, permitInsecure bool) {
	if b.insecureAllowed(permitInsecure) {
		b.addTo(insecure, key, r)
		return
	}
	redirect := b.newRoute()
	*redirect = *r
	redirect.HTTPSRedirect = true
	b.addTo(insecure, key, redirect)
}

// insecureAllowed reports whether a TLS host's route that permits
// insecure requests (or not) is served as such on port 80.
func (b *builder) insecureAllowed(permitInsecure bool) bool {
	return permitInsecure && !b.opts.DisablePermitInsecure
}

// routeBlock is how many Routes newRoute allocates at once.
const routeBlock = 64

// newRoute returns a zero Route, allocated with routeBlock-1 others.
func (b *builder) newRoute() *Route {
	if len(b.routes) == 0 {
		b.routes = make([]Route, routeBlock)
	}
	r := &b.routes[0]
	b.routes = b.routes[1:]
	return r
}

// addTo adds r, whose match key is key, to vh and reports a conflict if a
// route with the same match conditions was already there.
func (b *builder) addTo(vh *VirtualHost, key MatchKey, r *Route) {
	loser := vh.addRoute(key, r)
	if loser == nil {
		return
	}
	winner := vh.Routes[key]
	if loser.Source == winner.Source {
		b.report.Warning(loser.Source, status.RouteError, ReasonRouteConflict,
			"host %q: two routes match %s with the same conditions; the first one is used", vh.Name, describeMatch(loser))
		b.report.Find(status.Finding{Code: FindingDuplicateRoute, Severity: status.SeverityWarning,
			Objects: []status.Ref{loser.Source},
			Message: fmt.Sprintf("host %q: %s has two routes matching %s with the same conditions; the second is never used",
				vh.Name, loser.Source, describeMatch(loser))})
		return
	}
	why := "it is older"
	if winner.Age.Created.Equal(loser.Age.Created) {
		why = "both have the same creationTimestamp"
		if winner.Age.Created.IsZero() {
			why = "neither has a creationTimestamp"
		}
		why += ", so the namespace/name order decides"
	}
	b.report.Warning(loser.Source, status.RouteError, ReasonRouteConflict,
		"host %q: %s is also claimed by %s, which keeps it (%s)", vh.Name, describeMatch(loser), winner.Source, why)
	b.report.Find(status.Finding{Code: FindingDuplicateRoute, Severity: status.SeverityError,
		Objects: []status.Ref{winner.Source, loser.Source},
		Message: fmt.Sprintf("host %q: %s is claimed by both %s and %s; %s keeps it (%s), %s gets no traffic for it",
			vh.Name, describeMatch(loser), winner.Source, loser.Source, winner.Source, why, loser.Source)})
}

// describeMatch renders a route's conditions for messages.
func describeMatch(r *Route) string {
	s := "path " + r.MatchString()
	for _, h := range r.Headers {
		not := ""
		if h.Invert {
			not = "not "
		}
		s += fmt.Sprintf(" header %s %s%s %q", h.Name, not, h.Kind, h.Value)
	}
	for _, q := range r.Query {
		s += fmt.Sprintf(" query %s %s %q", q.Name, q.Kind, q.Value)
	}
	return s
}
