package translate

import (
	"regexp"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// Route metadata keys naming the source object, Contour's (#5534).
const (
	MetadataFilter    = "envoy.access_loggers.file"
	MetadataKind      = "io.projectcontour.kind"
	MetadataNamespace = "io.projectcontour.namespace"
	MetadataName      = "io.projectcontour.name"
)

// misdirectedBody is the answer of the catch-all virtual host of an HTTPS
// route configuration: the request's host is not the connection's SNI.
const misdirectedBody = "misdirected request: the Host does not match the TLS server name\n"

// routeConfigurations builds ingress_http and one https/<fqdn> per secure
// virtual host that routes HTTP.
func (t *translator) routeConfigurations() []*routev3.RouteConfiguration {
	insecure := &routev3.RouteConfiguration{Name: HTTPRoutes}
	for _, vh := range graph.SortedVirtualHosts(t.g) {
		insecure.VirtualHosts = append(insecure.VirtualHosts, t.virtualHost(vh))
	}
	out := []*routev3.RouteConfiguration{insecure}
	for _, vh := range graph.SortedSecureVirtualHosts(t.g) {
		if vh.TCPProxy != nil || vh.Passthrough || len(vh.Routes) == 0 {
			continue
		}
		out = append(out, &routev3.RouteConfiguration{
			Name: HTTPSRoutesPrefix + vh.Name,
			VirtualHosts: []*routev3.VirtualHost{
				t.virtualHost(&vh.VirtualHost),
				// A request whose Host is not this chain's SNI reaches the
				// catch-all and gets 421, as Contour answers.
				{Name: "misdirected", Domains: []string{"*"}, Routes: []*routev3.Route{{
					Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
					Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
						Status: 421, Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: misdirectedBody}},
					}},
				}}},
			},
		})
	}
	return out
}

// virtualHost translates one virtual host with its routes in Contour's order.
func (t *translator) virtualHost(vh *graph.VirtualHost) *routev3.VirtualHost {
	out := &routev3.VirtualHost{Name: vh.Name, Domains: []string{vh.Name}}
	var authority *routev3.HeaderMatcher
	if strings.HasPrefix(vh.Name, "*.") && vh.Name != "*" {
		authority = wildcardAuthority(vh.Name)
	}
	for _, r := range graph.SortedRoutes(vh) {
		er := t.route(r)
		if authority != nil {
			er.Match.Headers = append([]*routev3.HeaderMatcher{authority}, er.Match.Headers...)
		}
		out.Routes = append(out.Routes, er)
	}
	return out
}

// wildcardAuthority restricts a wildcard host to exactly one DNS label, as
// Contour does (Envoy's "*.example.com" would also match a.b.example.com).
func wildcardAuthority(name string) *routev3.HeaderMatcher {
	re := `^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?` + regexp.QuoteMeta(name[1:]) + `(:[0-9]+)?$`
	return &routev3.HeaderMatcher{Name: ":authority", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}},
	}}
}

// route translates the match, the action and the metadata of one route.
func (t *translator) route(r *graph.Route) *routev3.Route {
	md, ok := t.metadata[r.Source]
	if !ok {
		md = sourceMetadata(r)
		t.metadata[r.Source] = md
	}
	out := &routev3.Route{Match: routeMatch(r), Metadata: md}
	switch {
	case r.HTTPSRedirect:
		out.Action = &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
			SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
		}}
	case r.Redirect != nil:
		out.Action = &routev3.Route_Redirect{Redirect: redirect(r.Redirect)}
	case r.DirectResponse != nil:
		out.Action = &routev3.Route_DirectResponse{DirectResponse: directResponse(r.DirectResponse.Code, r.DirectResponse.Body)}
	case len(r.Backends) == 0:
		// Every service of the route is missing: Contour answers 503.
		out.Action = &routev3.Route_DirectResponse{DirectResponse: directResponse(503, "")}
	default:
		out.Action = &routev3.Route_Route{Route: t.routeAction(r)}
		out.RequestHeadersToAdd, out.RequestHeadersToRemove = headers(r.RequestHeaders)
		out.ResponseHeadersToAdd, out.ResponseHeadersToRemove = headers(r.ResponseHeaders)
	}
	return out
}

func directResponse(code int, body string) *routev3.DirectResponseAction {
	d := &routev3.DirectResponseAction{Status: uint32(code)}
	if body != "" {
		d.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: body}}
	}
	return d
}

func redirect(r *graph.Redirect) *routev3.RedirectAction {
	out := &routev3.RedirectAction{HostRedirect: r.Host, PortRedirect: r.Port}
	if r.Scheme != "" {
		out.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: r.Scheme}
	}
	switch {
	case r.Path != "":
		out.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: r.Path}
	case r.Prefix != "":
		out.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: r.Prefix}
	}
	switch r.Code {
	case 302:
		out.ResponseCode = routev3.RedirectAction_FOUND
	case 303:
		out.ResponseCode = routev3.RedirectAction_SEE_OTHER
	case 307:
		out.ResponseCode = routev3.RedirectAction_TEMPORARY_REDIRECT
	case 308:
		out.ResponseCode = routev3.RedirectAction_PERMANENT_REDIRECT
	}
	return out
}

// sourceMetadata records the route's source object for access logs and the
// simulator.
func sourceMetadata(r *graph.Route) *corev3.Metadata {
	if r.Source.Kind == "" {
		return nil
	}
	return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{MetadataFilter: {Fields: map[string]*structpb.Value{
		MetadataKind:      structpb.NewStringValue(r.Source.Kind),
		MetadataNamespace: structpb.NewStringValue(r.Source.Namespace),
		MetadataName:      structpb.NewStringValue(r.Source.Name),
	}}}}
}
