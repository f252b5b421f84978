package translate

import (
	"fmt"
	"math"
	"strings"
	"sync"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// listeners builds ingress_http (always, so a request to an empty or broken
// configuration gets 404 rather than a refused connection) and ingress_https
// (when there is a secure virtual host): one filter chain per host, sorted
// by server name. routeConfigurations must have run (it registers clusters
// and secrets).
func (t *translator) listeners() []*listenerv3.Listener {
	out := []*listenerv3.Listener{envoy.Listener(HTTPListener, t.kit.listener.HTTPAddress, t.g.HTTPPort, t.kit.listener, []*listenerv3.FilterChain{
		// ingress_http's one connection manager always holds the cookie
		// rewrite script: whether a route of a plain host rewrites cookies
		// must not change the listener.
		envoy.FilterChain(nil, nil, t.kit.managers.Filter(HTTPListener, HTTPRoutes, envoy.HostSettings{CookieRewrite: true}, t.httpFilters()...)),
	})}
	vhosts := graph.SortedSecureVirtualHosts(t.g)
	if len(vhosts) == 0 {
		return out
	}
	chains := make([]*listenerv3.FilterChain, len(vhosts))
	t.forEachForked(workersFor(len(vhosts)), len(vhosts), func(f *translator, i int) { chains[i] = f.filterChain(vhosts[i]) })
	if fc := t.fallbackChain(fallbackHosts(vhosts)); fc != nil {
		chains = append(chains, fc) // last, as Contour orders it
	}
	return append(out, envoy.Listener(HTTPSListener, t.kit.listener.HTTPSAddress, t.g.HTTPSPort, t.kit.listener, chains, envoy.TLSInspector(t.kit.listener)))
}

// httpFilters are the filters ingress_http's connection manager adds to
// the common ones, in Contour's order: the global authorization server's
// ext_authz filter and the ratelimit filter, when configured.
func (t *translator) httpFilters() []*hcmv3.HttpFilter {
	var out []*hcmv3.HttpFilter
	if f := t.extAuthz(t.g.GlobalAuthorization); f != nil {
		out = append(out, f)
	}
	if f := t.rateLimitFilter(); f != nil {
		out = append(out, f)
	}
	return out
}

// filterChain serves one secure virtual host: TLS termination (unless
// passthrough) and either an HTTP connection manager or a TCP proxy.
func (t *translator) filterChain(vh *graph.SecureVirtualHost) *listenerv3.FilterChain {
	var tls *tlsv3.DownstreamTlsContext
	if !vh.Passthrough && vh.Secret != nil {
		var cv *envoy.ClientValidation
		if v := vh.ClientValidation; v != nil {
			cv = &envoy.ClientValidation{SkipVerify: v.SkipVerify, Optional: v.Optional, CRL: v.CRL, OnlyLeafCRL: v.OnlyLeafCRL}
			if v.CA != nil {
				cv.CA = v.CA.CA
			}
		}
		protos := t.kit.tls.ALPN
		if vh.TCPProxy != nil { // the backend's ServerHello offers its own
			protos = nil
		}
		tls = envoy.DownstreamTLSContext(t.secret(vh.Secret), tlsParams(t.kit.tls, vh), protos, cv)
	}
	names := []string{vh.Name}
	if vh.TCPProxy != nil {
		return envoy.FilterChain(names, tls, envoy.TCPProxy(HTTPSListener, t.weighted(vh.TCPProxy.Backends), t.kit.tcp))
	}
	var extra []*hcmv3.HttpFilter
	if f := t.jwtFilter(vh); f != nil {
		extra = append(extra, f)
	}
	if f := t.extAuthzFilter(vh); f != nil {
		extra = append(extra, f)
	}
	if f := t.rateLimitFilter(); f != nil { // Contour's order: after ext_authz
		extra = append(extra, f)
	}
	h := envoy.HostSettings{CookieRewrite: rewritesCookies(&vh.VirtualHost), CheckServerName: isWildcard(vh.Name)}
	if v := vh.ClientValidation; v != nil && v.Forward != nil {
		f := v.Forward
		h.ForwardClientCert = &envoy.ForwardClientCert{Subject: f.Subject, Cert: f.Cert, Chain: f.Chain, DNS: f.DNS, URI: f.URI}
	}
	return envoy.FilterChain(names, tls, t.kit.managers.Filter(HTTPSListener, HTTPSRoutesPrefix+vh.Name, h, extra...))
}

// isWildcard reports whether a host name is a wildcard (*.example.com),
// whose filter chain takes every server name under it.
func isWildcard(name string) bool { return strings.HasPrefix(name, "*.") }

// listenerKit is what every connection manager and TCP proxy of a
// translation shares: the connection managers (with their access loggers
// and connection settings), the access loggers of TCP proxies (tcp), and
// the TLS settings of ingress_https and the options of both listeners.
type listenerKit struct {
	managers *envoy.ConnectionManagers
	tcp      []*accesslogv3.AccessLog
	tls      graph.ListenerTLS
	listener envoy.ListenerOptions
	// sourceMetadata says whether routes carry the metadata naming their
	// source object (graph.AccessLog.SourceMetadata).
	sourceMetadata bool
}

// kits memoises listenerKit per setting (immutable once built).
var kits sync.Map // kitKey → listenerKit

type kitKey struct {
	log  graph.AccessLog
	conn graph.Connections
}

// kitFor returns the listener kit of a log setting and connection settings;
// an error names a setting that is not valid.
func kitFor(a graph.AccessLog, c graph.Connections) (listenerKit, error) {
	key := kitKey{a.Defaults(), c}
	if v, ok := kits.Load(key); ok {
		return v.(listenerKit), nil
	}
	conn, err := c.Envoy()
	if err != nil {
		return listenerKit{}, fmt.Errorf("connection settings: %w", err)
	}
	tls, err := c.TLS()
	if err != nil {
		return listenerKit{}, fmt.Errorf("listener settings: %w", err)
	}
	lo, err := c.Listener()
	if err != nil {
		return listenerKit{}, fmt.Errorf("listener settings: %w", err)
	}
	a = key.log
	fields, err := a.Fields()
	if err != nil {
		return listenerKit{}, fmt.Errorf("access log: %w", err)
	}
	log := envoy.LogSettings{Format: a.Format, Path: a.Path, Level: a.Level, Text: a.Text, JSONFields: fields}
	managers := envoy.NewConnectionManagers(envoy.AccessLogs(log, false), envoy.NewConnectionSettings(conn))
	v, _ := kits.LoadOrStore(key, listenerKit{managers, envoy.AccessLogs(log, true), tls, lo, a.SourceMetadata()})
	return v.(listenerKit), nil
}

// tlsParams are the TLS parameters of vh's filter chain: the listener's
// versions and cipher suites, where vh may raise the minimum version and
// lower the maximum (as Contour). When vh's minimum is above the listener's
// maximum, vh's minimum is both: the host asked for at least that version,
// and a context whose minimum is above its maximum would accept nothing.
func tlsParams(l graph.ListenerTLS, vh *graph.SecureVirtualHost) envoy.TLSParams {
	p := envoy.TLSParams{Min: envoy.TLSVersion(l.Min), Max: envoy.TLSVersion(l.Max), CipherSuites: l.CipherSuites, Curves: l.Curves}
	p.Min = max(p.Min, envoy.TLSVersion(vh.MinTLS))
	if vh.MaxTLS != "" {
		p.Max = min(p.Max, envoy.TLSVersion(vh.MaxTLS))
	}
	p.Max = max(p.Max, p.Min)
	return p
}

// weighted registers backends' clusters and returns their normalised weights.
func (t *translator) weighted(backends []graph.Backend) []envoy.WeightedCluster {
	ws := normalizeWeights(backends)
	out := make([]envoy.WeightedCluster, 0, len(backends))
	for i, b := range backends {
		if ws[i] == 0 {
			continue
		}
		out = append(out, envoy.WeightedCluster{Name: t.cluster(b.Cluster), Weight: ws[i]})
	}
	return out
}

// normalizeWeights gives every backend an equal share when no weight is set,
// and otherwise keeps the weights as given (backends with weight 0 get no
// traffic and are left out of the split).
func normalizeWeights(backends []graph.Backend) []uint32 {
	return fillWeights(make([]uint32, 0, len(backends)), backends)
}

// fillWeights is normalizeWeights, in out's backing array when it has room
// (a caller's array on the stack keeps them off the heap).
func fillWeights(out []uint32, backends []graph.Backend) []uint32 {
	out = out[:0]
	for _, b := range backends {
		out = append(out, b.Weight)
	}
	var total uint64
	for _, w := range out {
		total += uint64(w)
	}
	switch {
	case total == 0:
		for i := range out {
			out[i] = 1
		}
	case total > math.MaxUint32:
		// Envoy refuses weights that add up to more than 2^32-1: the same
		// proportions, scaled down (rounding down keeps the sum in range).
		for i, w := range out {
			out[i] = uint32(uint64(w) * math.MaxUint32 / total)
		}
	}
	return out
}
