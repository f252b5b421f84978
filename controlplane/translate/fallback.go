package translate

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// fallbackHosts are those of sorted, secure virtual hosts in name order,
// that enabled the fallback certificate.
func fallbackHosts(sorted []*graph.SecureVirtualHost) []*graph.SecureVirtualHost {
	var out []*graph.SecureVirtualHost
	for _, vh := range sorted {
		if vh.Fallback != nil {
			out = append(out, vh)
		}
	}
	return out
}

// fallbackRoutes is the ingress_fallbackcert route configuration, nil when
// no host of all (the secure virtual hosts, sorted) enabled the
// fallback certificate: the virtual hosts of those that route HTTP, the very
// messages of their https/<fqdn> configurations (secure are the hosts that
// route HTTP, translated their translations).
// Unlike those, it has no catch-all: a Host that no fallback host serves
// gets 404, as in Contour. It exists, empty, when only TCP proxies enabled
// the fallback certificate, so that the chain's connection manager always
// finds its configuration.
func fallbackRoutes(all, secure []*graph.SecureVirtualHost, translated []*routev3.VirtualHost) *routev3.RouteConfiguration {
	if len(fallbackHosts(all)) == 0 {
		return nil
	}
	var vhs []*routev3.VirtualHost
	for i, vh := range secure {
		if vh.Fallback != nil {
			vhs = append(vhs, translated[i])
		}
	}
	return RouteConfiguration(FallbackRoutes, byHostName(vhs))
}

// fallbackChain is ingress_https's filter chain for TLS clients that send
// no server name, as Contour builds it: it matches any TLS connection no
// other chain takes, presents the fallback certificate with the listener's
// TLS settings (no host's own versions), and routes with ingress_fallbackcert
// (with ingress_http's extra filters: the global authorization server's
// and the rate limit service's); nil when no host enabled the fallback
// certificate.
func (t *translator) fallbackChain(hosts []*graph.SecureVirtualHost) *listenerv3.FilterChain {
	if len(hosts) == 0 {
		return nil
	}
	tls := envoy.DownstreamTLSContext(t.secret(hosts[0].Fallback), tlsParams(t.kit.tls, &graph.SecureVirtualHost{}), t.kit.tls.ALPN, nil)
	h := envoy.HostSettings{}
	for _, vh := range hosts {
		h.CookieRewrite = h.CookieRewrite || vh.TCPProxy == nil && rewritesCookies(&vh.VirtualHost)
	}
	fc := envoy.FilterChain(nil, tls, t.kit.managers.Filter(HTTPSListener, FallbackRoutes, h, t.httpFilters()...))
	fc.Name = FallbackChain
	fc.FilterChainMatch = &listenerv3.FilterChainMatch{TransportProtocol: "tls"}
	return fc
}
