package translate

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Host is what Translate makes of one host name's virtual hosts: its entry
// in ingress_http, its https/<fqdn> route configuration, its filter chain
// on ingress_https, and the clusters and secrets these refer to.
type Host struct {
	// Insecure is the host's virtual host in ingress_http; nil when none.
	Insecure *routev3.VirtualHost
	// Routes is https/<fqdn>; nil when the secure host routes no HTTP.
	Routes *routev3.RouteConfiguration
	// Chain is the host's filter chain on ingress_https; nil when the host
	// has no secure virtual host.
	Chain *listenerv3.FilterChain
	// Clusters and Secrets are referred to by the above, by Envoy name.
	// Clusters of a Host split from a Translation have nil values.
	Clusters map[string]*graph.Cluster
	Secrets  map[string]*graph.Secret
}

// TranslateHost translates the virtual hosts of one host name on their own,
// as Translate would among all the others, and validates what it builds.
// Either may be nil; with both nil the answer is an empty Host. log and
// conn are the graph's access log and connection settings (Graph.AccessLog,
// Graph.Connections), rl its rate limit service (Graph.RateLimit).
func TranslateHost(idx *source.Index, insecure *graph.VirtualHost, secure *graph.SecureVirtualHost, log graph.AccessLog, conn graph.Connections, rl *graph.GlobalRateLimit) (*Host, error) {
	kit, err := kitFor(log, conn)
	if err != nil {
		return nil, err
	}
	t := &translator{idx: idx, clusters: map[string]*graph.Cluster{}, secrets: map[string]*graph.Secret{},
		names: map[*graph.Cluster]string{}, sources: newSourceMemo(0, kit.sourceMetadata), kit: kit, rateLimit: rl}
	h := &Host{}
	if insecure != nil {
		h.Insecure = t.virtualHost(insecure)
		if err := h.Insecure.Validate(); err != nil {
			return nil, fmt.Errorf("route configuration %q virtual host %q is not valid (this is an Isobar bug): %w", HTTPRoutes, insecure.Name, err)
		}
	}
	if secure != nil {
		if routesHTTP(secure) {
			h.Routes = secureRoutes(secure.Name, t.virtualHost(&secure.VirtualHost))
			if err := h.Routes.Validate(); err != nil {
				return nil, fmt.Errorf("route configuration %q is not valid (this is an Isobar bug): %w", h.Routes.GetName(), err)
			}
		}
		h.Chain = t.filterChain(secure)
		if err := h.Chain.Validate(); err != nil {
			return nil, fmt.Errorf("listener %q filter chain %q is not valid (this is an Isobar bug): %w", HTTPSListener, secure.Name, err)
		}
	}
	h.Clusters, h.Secrets = t.clusters, t.secrets
	return h, nil
}

// routesHTTP reports whether a secure virtual host gets an https/<fqdn>
// route configuration.
func routesHTTP(vh *graph.SecureVirtualHost) bool {
	return vh.TCPProxy == nil && !vh.Passthrough && len(vh.Routes) > 0
}

// secureRoutes is the https/<fqdn> route configuration of a secure host
// whose virtual host translated to vh.
func secureRoutes(fqdn string, vh *routev3.VirtualHost) *routev3.RouteConfiguration {
	return RouteConfiguration(HTTPSRoutesPrefix+fqdn, []*routev3.VirtualHost{vh, misdirectedHost()})
}

// misdirectedHost returns the catch-all virtual host of an https/<fqdn>
// route configuration: a request whose Host is not the chain's server name
// reaches it and gets 421, as Contour answers. A wildcard host's chain
// takes many names, which its virtual host matches as well: its connection
// manager compares the Host with the connection's server name itself
// (envoy.HostSettings.CheckServerName). Each route configuration has a
// message of its own, which the xDS server may freeze
// (xds.FreezeVirtualHost), but they all share misdirectedRoutes.
func misdirectedHost() *routev3.VirtualHost {
	return &routev3.VirtualHost{Name: "misdirected", Domains: misdirectedDomains, Routes: misdirectedRoutes}
}

// misdirectedDomains and misdirectedRoutes are the domains and routes of
// every catch-all host: shared, never modified.
var (
	misdirectedDomains = []string{"*"}
	misdirectedRoutes  = []*routev3.Route{{
		Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
			Status: 421, Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: envoy.MisdirectedBody}},
		}},
	}}
)

// isMisdirected reports whether vh is a catch-all host (misdirectedHost).
func isMisdirected(vh *routev3.VirtualHost) bool {
	r := vh.GetRoutes()
	return len(r) == 1 && r[0] == misdirectedRoutes[0]
}

// RouteConfiguration is the route configuration called name holding vhosts.
// As Contour's, it adds x-request-start (t=<seconds.milliseconds> of when
// Envoy started the request) to every request sent upstream: what
// application monitors read queueing time from; and it picks a virtual
// host ignoring any port in the Host header, which still reaches the
// upstream as the client sent it.
func RouteConfiguration(name string, vhosts []*routev3.VirtualHost) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: name, VirtualHosts: vhosts, RequestHeadersToAdd: requestStart, IgnorePortInHostMatching: true}
}

// requestStart is the header every route configuration adds; shared, never
// modified.
var requestStart = []*corev3.HeaderValueOption{{
	Header:       &corev3.HeaderValue{Key: "x-request-start", Value: "t=%START_TIME(%s.%3f)%"},
	AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
}}

// Translation is everything Translate builds, with the cluster registry it
// built them from.
type Translation struct {
	Resources *xds.Resources
	// Findings say which endpoint source was chosen when both existed.
	Findings []status.Finding
	// Clusters are the graph clusters of Resources.Clusters, by Envoy name.
	Clusters map[string]*graph.Cluster
}

// Split returns, for each of hosts, what tr holds for it (as TranslateHost
// would build it), and in rest what every other host refers to: the
// clusters and secrets of the virtual hosts of g not in hosts, the
// clusters of its ExtensionServices (which Envoy gets even when unused),
// the client certificate upstreams are shown (any cluster may name it),
// and what the fallback certificate's chain and route configuration refer
// to (that of several hosts).
func Split(tr *Translation, g *graph.Graph, hosts map[string]bool) (parts map[string]*Host, rest *Host) {
	parts = make(map[string]*Host, len(hosts))
	rest = &Host{Clusters: map[string]*graph.Cluster{}, Secrets: map[string]*graph.Secret{}}
	at := func(name string) *Host {
		if !hosts[name] {
			return rest
		}
		h, ok := parts[name]
		if !ok {
			h = &Host{Clusters: map[string]*graph.Cluster{}, Secrets: map[string]*graph.Secret{}}
			parts[name] = h
		}
		return h
	}
	var chains []*listenerv3.FilterChain
	for _, rc := range tr.Resources.Routes {
		if rc.GetName() == HTTPRoutes {
			for _, vh := range rc.GetVirtualHosts() {
				h := at(vh.GetDomains()[0]) // its fqdn (its name may be a hash)
				if h != rest {
					h.Insecure = vh
				}
				addClusters(h.Clusters, vh)
			}
			continue
		}
		if rc.GetName() == FallbackRoutes { // the hosts' own, shared with rest
			for _, vh := range rc.GetVirtualHosts() {
				addClusters(rest.Clusters, vh)
			}
			continue
		}
		fqdn := rc.GetName()[len(HTTPSRoutesPrefix):]
		h := at(fqdn)
		if h != rest {
			h.Routes = rc
		}
		addClusters(h.Clusters, rc.GetVirtualHosts()[0])
	}
	for _, l := range tr.Resources.Listeners {
		if l.GetName() == HTTPSListener {
			chains = l.GetFilterChains()
		}
	}
	for _, fc := range chains {
		if fc.GetName() == FallbackChain {
			continue
		}
		if h := at(fc.GetFilterChainMatch().GetServerNames()[0]); h != rest {
			h.Chain = fc
		}
	}
	for name, vh := range g.SecureVirtualHosts {
		addChainRefs(at(name), vh, g.RateLimit)
	}
	for _, c := range g.Extensions {
		rest.Clusters[ClusterName(c)] = nil
	}
	if s := g.ClientCertificate; s != nil {
		rest.Secrets[SecretName(s)] = s
	}
	if fb := fallbackHosts(graph.SortedSecureVirtualHosts(g)); len(fb) > 0 { // the fallback chain
		rest.Secrets[SecretName(fb[0].Fallback)] = fb[0].Fallback
		if g.RateLimit != nil {
			rest.Clusters[ClusterName(g.RateLimit.Cluster)] = nil
		}
	}
	return parts, rest
}

// addChainRefs records in h the secret and clusters the filter chain of
// vh refers to: its certificate, and its TCP proxy's backends or its
// connection manager's JWT, authorization and rate limit services (rl).
func addChainRefs(h *Host, vh *graph.SecureVirtualHost, rl *graph.GlobalRateLimit) {
	if !vh.Passthrough && vh.Secret != nil {
		h.Secrets[SecretName(vh.Secret)] = vh.Secret
	}
	if vh.TCPProxy != nil {
		ws := normalizeWeights(vh.TCPProxy.Backends)
		for i, b := range vh.TCPProxy.Backends {
			if ws[i] != 0 {
				h.Clusters[ClusterName(b.Cluster)] = nil
			}
		}
		return
	}
	for _, p := range vh.JWTProviders {
		if p.Cluster != nil { // a local key set has none
			h.Clusters[ClusterName(p.Cluster)] = nil
		}
	}
	if a := vh.Authorization; a != nil {
		h.Clusters[ClusterName(a.Cluster)] = nil
	}
	if rl != nil {
		h.Clusters[ClusterName(rl.Cluster)] = nil
	}
}

// addClusters records the clusters the routes of vh forward or mirror to.
func addClusters(into map[string]*graph.Cluster, vh *routev3.VirtualHost) {
	for _, r := range vh.GetRoutes() {
		a := r.GetRoute()
		if a == nil {
			continue
		}
		if c := a.GetCluster(); c != "" {
			into[c] = nil
		}
		for _, w := range a.GetWeightedClusters().GetClusters() {
			into[w.GetName()] = nil
		}
		for _, m := range a.GetRequestMirrorPolicies() {
			into[m.GetCluster()] = nil
		}
	}
}

// HTTPSListenerOf is ingress_https on port with chains (sorted by server
// name) and the listener settings of c; nil when there is no chain. Only
// the listener itself is validated: each chain is checked where it is
// built.
func HTTPSListenerOf(port uint32, c graph.Connections, chains []*listenerv3.FilterChain) (*listenerv3.Listener, error) {
	if len(chains) == 0 {
		return nil, nil
	}
	o, err := c.Listener()
	if err != nil {
		return nil, fmt.Errorf("listener settings: %w", err)
	}
	if err := envoy.Listener(HTTPSListener, o.HTTPSAddress, port, o, nil, envoy.TLSInspector(o)).Validate(); err != nil {
		return nil, fmt.Errorf("listener %q is not valid (this is an Isobar bug): %w", HTTPSListener, err)
	}
	return envoy.Listener(HTTPSListener, o.HTTPSAddress, port, o, chains, envoy.TLSInspector(o)), nil
}

// ClusterResource is the validated Envoy cluster called name for c.
func ClusterResource(name string, c *graph.Cluster) (*clusterv3.Cluster, error) {
	out := clusterResource(name, c)
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("cluster %q is not valid (this is an Isobar bug): %w", name, err)
	}
	return out, nil
}

// SecretResource is the validated SDS secret called name for s.
func SecretResource(name string, s *graph.Secret) (*tlsv3.Secret, error) {
	out := envoy.TLSCertificateSecret(name, s.Cert, s.Key)
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("secret %q is not valid (this is an Isobar bug): %w", name, err)
	}
	return out, nil
}
