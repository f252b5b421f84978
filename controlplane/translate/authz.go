package translate

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// extAuthzFilter is the ext_authz HTTP filter of a secure virtual host
// with an authorization server (nil without).
func (t *translator) extAuthzFilter(vh *graph.SecureVirtualHost) *hcmv3.HttpFilter {
	return t.extAuthz(vh.Authorization)
}

// extAuthz is the ext_authz HTTP filter calling a (nil without), as
// Contour writes it: a gRPC call to the ExtensionService's cluster
// (registered here) with the check's timeout, 403 when the server fails
// (unless failing open), the route cache cleared after the check (the
// server may change headers), the client's certificate included, and the
// request body when asked.
func (t *translator) extAuthz(a *graph.ExternalAuthorization) *hcmv3.HttpFilter {
	if a == nil {
		return nil
	}
	name := t.cluster(a.Cluster)
	authority := strings.ReplaceAll(name, "/", ".")
	if a.Cluster.SNI != "" {
		authority = a.Cluster.SNI
	}
	cfg := &extauthzv3.ExtAuthz{
		Services: &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: name, Authority: authority}},
			Timeout:         a.Timeout.Proto(),
		}},
		TransportApiVersion:    corev3.ApiVersion_V3,
		FailureModeAllow:       a.FailOpen,
		ClearRouteCache:        true,
		StatusOnError:          &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
		IncludePeerCertificate: true,
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
