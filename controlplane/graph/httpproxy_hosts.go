package graph

// rootHosts are the virtual hosts of the fqdn of one root HTTPProxy. Roots
// own distinct fqdns, and nothing adds a virtual host before them, so each
// root's are built apart from the graph, on the root's goroutine
// (buildHosts), then put in it (placeHosts).
type rootHosts struct {
	fqdn     string
	insecure *VirtualHost
	secure   *SecureVirtualHost
	// routes is how many routes the hosts are made for.
	routes int
}

// vh returns the insecure virtual host, creating it.
func (h *rootHosts) vh() *VirtualHost {
	if h.insecure == nil {
		h.insecure = &VirtualHost{Name: h.fqdn, Routes: make(map[MatchKey]*Route, h.routes)}
	}
	return h.insecure
}

// svh returns the secure virtual host, creating it.
func (h *rootHosts) svh() *SecureVirtualHost {
	if h.secure == nil {
		h.secure = &SecureVirtualHost{VirtualHost: VirtualHost{Name: h.fqdn, Routes: make(map[MatchKey]*Route, h.routes)}}
	}
	return h.secure
}

// buildHosts builds the virtual hosts of a plan's fqdn, reporting route
// conflicts. It neither reads nor writes the graph.
func (b *builder) buildHosts(plan rootPlan) rootHosts {
	h := rootHosts{fqdn: plan.fqdn, routes: len(plan.routes)}
	if plan.svh != nil {
		h.svh().takeTLS(plan.svh)
	}
	if plan.tcp != nil {
		h.svh().TCPProxy = plan.tcp
	}
	secure := plan.secureRoutes()
	b.reserveRedirects(plan)
	for _, pr := range plan.routes {
		switch {
		case secure:
			b.addSecureRoute(&h.svh().VirtualHost, h.vh(), pr.route.Key(), pr.route, pr.permitInsecure)
		case plan.tls: // TLS passed through, or to a tcpproxy: port 80 only
			b.addInsecureRoute(h.vh(), pr.route.Key(), pr.route, pr.permitInsecure)
		default:
			b.addTo(h.vh(), pr.route.Key(), pr.route)
		}
	}
	if len(plan.routes) > 0 && (plan.rateLimit != nil || plan.cors != nil || len(plan.globalRateLimits) > 0) {
		// As Contour, on the insecure host too (also when it only
		// redirects to https).
		vh := h.vh()
		vh.RateLimit, vh.CORS, vh.GlobalRateLimits = plan.rateLimit, plan.cors, plan.globalRateLimits
		if secure {
			svh := h.svh()
			svh.RateLimit, svh.CORS, svh.GlobalRateLimits = plan.rateLimit, plan.cors, plan.globalRateLimits
		}
	}
	if plan.ipFilter == nil {
		return h
	}
	// The policy goes on the hosts the root serves HTTP on: the insecure
	// one (its HTTPS redirects too, as in Contour) and the secure one.
	if h.insecure != nil {
		h.insecure.IPFilter = plan.ipFilter
	}
	if secure {
		h.svh().IPFilter = plan.ipFilter
	}
	return h
}

// reserveRedirects makes room in newRoute's block for the redirect copies
// a plan's routes need (one per route of a TLS host that does not permit
// insecure requests), allocated at once.
func (b *builder) reserveRedirects(plan rootPlan) {
	if !plan.tls {
		return
	}
	n := 0
	for _, pr := range plan.routes {
		if !b.insecureAllowed(pr.permitInsecure) {
			n++
		}
	}
	if len(b.routes) < n {
		b.routes = make([]Route, n)
	}
}

// placeHosts puts a root's virtual hosts in the graph, which has none for
// its fqdn yet.
func (b *builder) placeHosts(h rootHosts) {
	if h.insecure != nil {
		b.g.VirtualHosts[h.fqdn] = h.insecure
	}
	if h.secure != nil {
		b.g.SecureVirtualHosts[h.fqdn] = h.secure
	}
}
