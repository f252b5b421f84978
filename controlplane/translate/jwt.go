package translate

import (
	"sort"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// jwtFilter is the jwt_authn HTTP filter of a secure virtual host with JWT
// providers (nil without), as Contour writes it: every provider under its
// name, with its key set inline or fetched through its JWKS cluster
// (registered here),
// and one requirement per provider, of the same name, that a route's
// per-filter configuration names. There are no rules: a request is
// verified only on a route that requires a provider.
func (t *translator) jwtFilter(vh *graph.SecureVirtualHost) *hcmv3.HttpFilter {
	if len(vh.JWTProviders) == 0 {
		return nil
	}
	cfg := &jwtv3.JwtAuthentication{
		Providers:      make(map[string]*jwtv3.JwtProvider, len(vh.JWTProviders)),
		RequirementMap: make(map[string]*jwtv3.JwtRequirement, len(vh.JWTProviders)),
	}
	for _, p := range vh.JWTProviders {
		cfg.Providers[p.Name] = t.jwksSource(&jwtv3.JwtProvider{Issuer: p.Issuer, Audiences: p.Audiences, Forward: p.ForwardJWT}, p)
		cfg.RequirementMap[p.Name] = &jwtv3.JwtRequirement{
			RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: p.Name},
		}
	}
	return &hcmv3.HttpFilter{Name: envoy.JWTAuthnFilter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: envoy.Any(cfg)}}
}

// jwksSource sets where out, provider p, takes its keys from: inline
// (localJWKS, as Contour writes it) or fetched from its URI through its
// cluster; it returns out.
func (t *translator) jwksSource(out *jwtv3.JwtProvider, p graph.JWTProvider) *jwtv3.JwtProvider {
	if p.LocalJWKS != "" {
		out.JwksSourceSpecifier = &jwtv3.JwtProvider_LocalJwks{LocalJwks: &corev3.DataSource{
			Specifier: &corev3.DataSource_InlineString{InlineString: p.LocalJWKS}}}
		return out
	}
	remote := &jwtv3.RemoteJwks{HttpUri: &corev3.HttpUri{
		Uri:              p.URI,
		HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: t.cluster(p.Cluster)},
		Timeout:          durationpb.New(p.Timeout),
	}}
	if p.CacheDuration > 0 {
		remote.CacheDuration = durationpb.New(p.CacheDuration)
	}
	out.JwksSourceSpecifier = &jwtv3.JwtProvider_RemoteJwks{RemoteJwks: remote}
	return out
}

// routeJWT adds to a forwarding route's per-filter configuration the
// requirement of the provider its route requires, if any. Contour writes
// nothing for a route that does not require one (verification disabled,
// or no default provider): the filter has no rules, so such a route is not
// verified.
func routeJWT(out *routev3.Route, r *graph.Route) {
	if r.JWTProvider == "" {
		return
	}
	setPerFilter(&out.TypedPerFilterConfig, envoy.JWTAuthnFilter, envoy.Any(&jwtv3.PerRouteConfig{
		RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: r.JWTProvider},
	}))
}

// dnsNameClusterName is the Envoy name of a DNS-name cluster (a remote
// JWKS): Contour's dnsname/<scheme>/<host> when it is the plain cluster of
// its URI (the scheme's port, no validation, the default DNS lookup
// family), and otherwise that name followed by a hash of what differs, so
// that two different clusters never share a name (Contour's would: its
// first one would win).
func dnsNameClusterName(c *graph.Cluster) string {
	name := "dnsname/" + c.DNSNameScheme + "/" + c.ExternalName
	if opts := dnsNameOptions(c); opts != "" {
		name += "/" + shortHash(opts)
	}
	return name
}

// dnsNameOptions is the canonical string of what sets a DNS-name cluster
// apart from the plain one of its scheme and host; empty for that one.
func dnsNameOptions(c *graph.Cluster) string {
	var parts []string
	if port := c.Port.Port; !(c.DNSNameScheme == "http" && port == 80 || c.DNSNameScheme == "https" && port == 443) {
		parts = append(parts, "port="+strconv.Itoa(int(port)))
	}
	if v := c.Validation; v != nil {
		names := append([]string(nil), v.SubjectNames...)
		sort.Strings(names)
		parts = append(parts, "ca="+shortHash(string(v.CA.CA)), "san="+strings.Join(names, ","))
	}
	if c.DNSLookupFamily != "" {
		parts = append(parts, "dns="+c.DNSLookupFamily)
	}
	return strings.Join(parts, ";")
}
