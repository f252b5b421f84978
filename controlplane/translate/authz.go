package translate

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// extAuthzFilter is the ext_authz HTTP filter of a secure virtual host
// with an authorization server (nil without).
func (t *translator) extAuthzFilter(vh *graph.SecureVirtualHost) *hcmv3.HttpFilter {
	return t.extAuthz(vh.Authorization)
}

// extAuthz is the ext_authz HTTP filter calling a (nil without), as
// Contour writes it: a gRPC or HTTP call to the ExtensionService's cluster
// (registered here) with the check's timeout, 403 when the server fails
// (unless failing open), the route cache cleared after the check (the
// server may change headers), the client's certificate included, and the
// request body when asked.
func (t *translator) extAuthz(a *graph.ExternalAuthorization) *hcmv3.HttpFilter {
	if a == nil {
		return nil
	}
	name := t.cluster(a.Cluster)
	cfg := &extauthzv3.ExtAuthz{
		TransportApiVersion:    corev3.ApiVersion_V3,
		FailureModeAllow:       a.FailOpen,
		ClearRouteCache:        true,
		StatusOnError:          &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
		IncludePeerCertificate: true,
	}
	if a.HTTP != nil {
		httpAuthzService(cfg, name, a)
	} else {
		authority := strings.ReplaceAll(name, "/", ".")
		if a.Cluster.SNI != "" {
			authority = a.Cluster.SNI
		}
		cfg.Services = &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: name, Authority: authority}},
			Timeout:         a.Timeout.Proto(),
		}}
	}
	if b := a.Body; b != nil {
		cfg.WithRequestBody = &extauthzv3.BufferSettings{MaxRequestBytes: b.MaxRequestBytes, AllowPartialMessage: b.AllowPartialMessage, PackAsBytes: b.PackAsBytes}
	}
	return &hcmv3.HttpFilter{Name: envoy.ExtAuthzFilter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: envoy.Any(cfg)}}
}

// routeAuthorization adds to the per-filter configuration of a route of
// an authorized host what Contour writes there: on the port-80 redirect
// to https, the check disabled; on others, the check disabled when the
// route disables it, else the context entries it sends, if any. Plain
// redirects get nothing (as in Contour: they are checked).
func routeAuthorization(out *routev3.Route, r *graph.Route) {
	ra := r.Authorization
	if ra == nil || r.Redirect != nil && !r.HTTPSRedirect {
		return
	}
	var per *extauthzv3.ExtAuthzPerRoute
	switch {
	case r.HTTPSRedirect || ra.Disabled:
		per = &extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_Disabled{Disabled: true}}
	case len(ra.Context) > 0:
		per = &extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{
			CheckSettings: &extauthzv3.CheckSettings{ContextExtensions: ra.Context}}}
	default:
		return
	}
	setPerFilter(&out.TypedPerFilterConfig, envoy.ExtAuthzFilter, envoy.Any(per))
}

// httpAuthzService makes cfg call the HTTP authorization server of
// cluster as Contour does: the URI only satisfies Envoy (the cluster
// decides where the check goes), no timeout is 0 (none), the path prefix,
// and the allowed client headers (all of the filter's requests) and
// server headers (put on the request sent upstream).
func httpAuthzService(cfg *extauthzv3.ExtAuthz, cluster string, a *graph.ExternalAuthorization) {
	timeout := a.Timeout.Proto()
	if timeout == nil {
		timeout = durationpb.New(0)
	}
	svc := &extauthzv3.HttpService{
		ServerUri:  &corev3.HttpUri{Uri: "http://dummy/", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: cluster}, Timeout: timeout},
		PathPrefix: a.HTTP.PathPrefix,
	}
	if h := a.HTTP.AllowedAuthorizationHeaders; len(h) > 0 {
		cfg.AllowedHeaders = &matcherv3.ListStringMatcher{Patterns: headerNameMatchers(h)}
	}
	if h := a.HTTP.AllowedUpstreamHeaders; len(h) > 0 {
		svc.AuthorizationResponse = &extauthzv3.AuthorizationResponse{AllowedUpstreamHeaders: &matcherv3.ListStringMatcher{Patterns: headerNameMatchers(h)}}
	}
	cfg.Services = &extauthzv3.ExtAuthz_HttpService{HttpService: svc}
}

// headerNameMatchers are Envoy's string matchers of header names, in
// order.
func headerNameMatchers(in []graph.HeaderNameMatch) []*matcherv3.StringMatcher {
	out := make([]*matcherv3.StringMatcher, len(in))
	for i, h := range in {
		m := &matcherv3.StringMatcher{IgnoreCase: h.IgnoreCase}
		switch h.Kind {
		case "exact":
			m.MatchPattern = &matcherv3.StringMatcher_Exact{Exact: h.Value}
		case "prefix":
			m.MatchPattern = &matcherv3.StringMatcher_Prefix{Prefix: h.Value}
		case "suffix":
			m.MatchPattern = &matcherv3.StringMatcher_Suffix{Suffix: h.Value}
		default:
			m.MatchPattern = &matcherv3.StringMatcher_Contains{Contains: h.Value}
		}
		out[i] = m
	}
	return out
}
