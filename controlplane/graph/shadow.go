package graph

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// FindingShadowedRoute: a route can never be reached because an earlier
// route in Envoy's order matches every request it would.
const FindingShadowedRoute = "ShadowedRoute"

// maxShadowRoutes bounds the pairwise check per virtual host.
const maxShadowRoutes = 2000

// findShadowedRoutes reports, for every virtual host, routes that an earlier
// route (in the order Envoy tries them) always wins over: an earlier route
// whose path covers the later one's and whose header and query conditions
// are a subset of the later one's. With Contour's order (exact, then regex,
// then prefixes, longer first) this mostly happens when a broad regex sorts
// before prefixes. Redirect copies on port 80 are skipped, so each conflict
// is reported once.
func (b *builder) findShadowedRoutes() {
	check := func(vh *VirtualHost) {
		routes := SortedRoutes(vh)
		if len(routes) > maxShadowRoutes {
			return
		}
		for j, later := range routes {
			if later.HTTPSRedirect {
				continue
			}
			for _, earlier := range routes[:j] {
				if earlier.HTTPSRedirect || !covers(earlier, later) {
					continue
				}
				b.reportShadow(vh, earlier, later)
				break
			}
		}
	}
	for _, vh := range SortedVirtualHosts(b.g) {
		check(vh)
	}
	for _, vh := range SortedSecureVirtualHosts(b.g) {
		check(&vh.VirtualHost)
	}
}

func (b *builder) reportShadow(vh *VirtualHost, earlier, later *Route) {
	who := "the same object"
	if earlier.Source != later.Source {
		who = earlier.Source.String()
	}
	b.report.Find(status.Finding{Code: FindingShadowedRoute, Severity: status.SeverityWarning,
		Objects: []status.Ref{earlier.Source, later.Source},
		Message: fmt.Sprintf("host %q: %s of %s can never match: %s of %s comes first in Envoy's order and matches every request it would",
			vh.Name, describeMatch(later), later.Source, describeMatch(earlier), who)})
}

// covers reports whether every request later matches also matches earlier.
func covers(earlier, later *Route) bool {
	if !subset(headerKeys(earlier.Headers), headerKeys(later.Headers)) || !subset(queryKeys(earlier.Query), queryKeys(later.Query)) {
		return false
	}
	e, l := earlier.Path, later.Path
	if l.Kind == PathRegex {
		return false // regex against regex: undecidable here
	}
	switch e.Kind {
	case PathPrefix:
		return strings.HasPrefix(l.Value, e.Value)
	case PathSegmentPrefix:
		return l.Kind != PathPrefix && (l.Value == e.Value || strings.HasPrefix(l.Value, e.Value+"/"))
	case PathRegex:
		re, err := regexp.Compile(`^(?:` + e.Value + `)$`)
		if err != nil {
			return false
		}
		if l.Kind == PathExact {
			return re.MatchString(l.Value)
		}
		// A prefix route is shadowed when the regex accepts the prefix
		// followed by anything (probed with a few typical continuations).
		for _, tail := range []string{"", "/", "/x", "/x/y.z", "-x"} {
			if !re.MatchString(l.Value + tail) {
				return false
			}
		}
		return true
	}
	return false
}

// subset reports whether every element of a is in b (both sorted).
func subset(a, b []string) bool {
	i := 0
	for _, x := range b {
		if i < len(a) && a[i] == x {
			i++
		}
	}
	return i == len(a)
}
