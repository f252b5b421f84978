package graph

import (
	"maps"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// External authorization reasons, Contour's names, and Isobar's warning
// for a route whose requests are not checked on port 80.
const (
	ReasonAuthNotPermitted           = "AuthNotPermitted"
	ReasonExtensionServiceNotFound   = "ExtensionServiceNotFound"
	ReasonAuthResponseTimeoutInvalid = "AuthResponseTimeoutInvalid"
	ReasonAuthBadResourceVersion     = "AuthBadResourceVersion"
	ReasonAuthNotCheckedOverHTTP     = "AuthNotCheckedOverHTTP"
)

// defaultAuthMaxRequestBytes is how much of a request body is sent to the
// authorization server when withRequestBody sets no size (Contour's).
const defaultAuthMaxRequestBytes = 1024

// ExternalAuthorization is how a secure virtual host's requests are
// checked by an authorization server (HTTPProxy
// spec.virtualhost.authorization): Envoy's ext_authz filter calling an
// ExtensionService's cluster, over gRPC or HTTP, before routing.
type ExternalAuthorization struct {
	// Cluster is the ExtensionService's cluster (Extension is set).
	Cluster *Cluster
	// FailOpen lets requests through when the server fails or does not
	// answer.
	FailOpen bool
	// Timeout bounds the check (the authorization's responseTimeout, else
	// the ExtensionService's timeoutPolicy.response).
	Timeout Timeout
	// Body, when set, sends the request body with the check.
	Body *AuthorizationBody
	// HTTP, when set, makes the server an HTTP one (serviceType http);
	// nil is Envoy's gRPC authorization API.
	HTTP *HTTPAuthorization
}

// AuthorizationBody is how much of the request body a check carries.
type AuthorizationBody struct {
	MaxRequestBytes                  uint32
	AllowPartialMessage, PackAsBytes bool
}

// RouteAuthorization is a route's part of its host's authorization: it
// disables the check, or adds Context to what the server is sent.
type RouteAuthorization struct {
	Disabled bool
	Context  map[string]string
}

// authScope is what the routes of a root with authorization inherit: the
// virtual host's policy.
type authScope struct {
	disabled bool
	context  map[string]string
	http     bool // the server is an HTTP one: context is not sent
}

// virtualHostAuthorization validates the authorization of root p (svh is
// its secure virtual host, nil without TLS). Without one it answers nil
// and true; an invalid one is reported and answers false (the root then
// serves nothing, as in Contour).
func (b *builder) virtualHostAuthorization(ref status.Ref, p *contourv1.HTTPProxy, svh *SecureVirtualHost) (*ExternalAuthorization, *authScope, bool) {
	a := p.Spec.VirtualHost.Authorization
	if b.global != nil && (a == nil || a.ExtensionServiceRef.Name == "") {
		return b.globalAuthorization(ref, p, svh, a)
	}
	if a == nil {
		return nil, nil, true
	}
	if a.ExtensionServiceRef.Name == "" {
		b.report.Warning(ref, status.SpecError, ReasonIgnoredField,
			"Spec.VirtualHost.Authorization is ignored: extensionRef.name names no ExtensionService")
		return nil, nil, true
	}
	if svh == nil {
		b.report.Error(ref, status.AuthError, ReasonAuthNotPermitted,
			"Spec.VirtualHost.Authorization.ExtensionServiceRef can only be defined for root HTTPProxies that terminate TLS")
		return nil, nil, false
	}
	if p.Spec.VirtualHost.TLS.EnableFallbackCertificate {
		b.report.Error(ref, status.TLSError, ReasonTLSIncompatibleFeatures,
			"Spec.VirtualHost.TLS: enableFallbackCertificate cannot be combined with authorization")
		return nil, nil, false
	}
	if p.Spec.TCPProxy != nil || svh.Passthrough {
		why := "the tcpproxy takes the whole TLS connection"
		if p.Spec.TCPProxy == nil {
			why = "TLS is passed through"
		}
		b.report.Warning(ref, status.SpecError, ReasonIgnoredField,
			"Spec.VirtualHost.Authorization checks HTTP requests and is ignored: %s, and port 80 checks nothing", why)
		return nil, nil, true
	}
	ext, ok := b.authorizationServer(ref, p.Namespace, a.ExtensionServiceRef)
	if !ok {
		return nil, nil, false
	}
	az := &ExternalAuthorization{Cluster: ext.Cluster, FailOpen: a.FailOpen, Timeout: ext.Timeout}
	if a.ResponseTimeout != "" {
		d, inf, err := parseTimeout(a.ResponseTimeout)
		if err != nil {
			b.report.Error(ref, status.AuthError, ReasonAuthResponseTimeoutInvalid,
				"Spec.Virtualhost.Authorization.ResponseTimeout is invalid: %q is not a duration or \"infinity\"", a.ResponseTimeout)
			return nil, nil, false
		}
		if d > 0 || inf { // 0s is no setting (Contour's): the ExtensionService's applies
			az.Timeout = Timeout{Duration: d, Infinite: inf}
		}
	}
	http, warning, perr := httpAuthorization("Spec.Virtualhost.Authorization", a.ServiceType, a.HTTPServerSettings, a.AuthPolicy)
	if perr != nil {
		b.report.Error(ref, status.AuthError, perr.reason, "%s", perr)
		return nil, nil, false
	}
	if warning != "" {
		b.report.Warning(ref, status.SpecError, ReasonIgnoredField, "%s", warning)
	}
	if why := notHTTP2(ext, "Spec.VirtualHost.Authorization"); why != "" && http == nil {
		b.report.Warning(ref, status.AuthError, ReasonExtensionNotHTTP2, "%s", why)
	}
	az.HTTP, az.Body = http, authorizationBody(a.WithRequestBody)
	as := &authScope{http: http != nil}
	if pol := a.AuthPolicy; pol != nil {
		as.disabled, as.context = pol.Disabled, pol.Context
	}
	return az, as, true
}

// authorizationBody is how much of the request body a check sends (nil:
// none), Contour's 1,024 bytes when the setting gives no size.
func authorizationBody(w *contourv1.AuthorizationServerBufferSettings) *AuthorizationBody {
	if w == nil {
		return nil
	}
	body := &AuthorizationBody{MaxRequestBytes: w.MaxRequestBytes, AllowPartialMessage: w.AllowPartialMessage, PackAsBytes: w.PackAsBytes}
	if body.MaxRequestBytes == 0 {
		body.MaxRequestBytes = defaultAuthMaxRequestBytes
	}
	return body
}

// authorizationServer resolves an extensionRef (namespace defaults to the
// HTTPProxy's) to a valid ExtensionService.
func (b *builder) authorizationServer(ref status.Ref, ns string, r contourv1.ExtensionServiceReference) (*Extension, bool) {
	if r.APIVersion != "" && r.APIVersion != contourv1alpha1.GroupVersion.String() {
		b.report.Error(ref, status.AuthError, ReasonAuthBadResourceVersion,
			"Spec.Virtualhost.Authorization.extensionRef specifies an unsupported resource version %q", r.APIVersion)
		return nil, false
	}
	if r.Namespace != "" {
		ns = r.Namespace
	}
	ext, ok := b.extension(ns, r.Name)
	if !ok {
		b.report.Error(ref, status.AuthError, ReasonExtensionServiceNotFound,
			"Spec.Virtualhost.Authorization.ServiceRef extension service %q not found (or not valid: see its status)", ns+"/"+r.Name)
		return nil, false
	}
	return ext, true
}

// routeAuthorization sets the authorization of route r from its policy
// and the root's (as): a route's disabled overrides the virtual host's,
// its context entries are added to (and override) the virtual host's. A
// policy on a route whose root has no authorization is reported as
// ignored.
func (b *builder) routeAuthorization(r *Route, p *contourv1.HTTPProxy, spec *contourv1.Route, i int, as *authScope) {
	pol := spec.AuthPolicy
	if as == nil {
		if pol != nil {
			b.report.Warning(proxyRef(p), status.SpecError, ReasonIgnoredField,
				"Spec.Routes[%d].AuthPolicy is ignored: the root HTTPProxy has no authorization server", i)
		}
		return
	}
	ra := &RouteAuthorization{Disabled: as.disabled}
	ctx := maps.Clone(as.context)
	if pol != nil {
		ra.Disabled = pol.Disabled
		if len(pol.Context) > 0 {
			if ctx == nil {
				ctx = map[string]string{}
			}
			maps.Copy(ctx, pol.Context)
		}
	}
	if len(ctx) > 0 {
		ra.Context = ctx
	}
	if as.http && pol != nil && len(pol.Context) > 0 {
		b.report.Warning(proxyRef(p), status.SpecError, ReasonIgnoredField,
			"Spec.Routes[%d].AuthPolicy.Context is not sent: the authorization server is an HTTP one (context goes to grpc servers only)", i)
	}
	r.Authorization = ra
	if !ra.Disabled && spec.PermitInsecure && !b.opts.DisablePermitInsecure && b.global == nil {
		b.report.Warning(proxyRef(p), status.AuthError, ReasonAuthNotCheckedOverHTTP,
			"Spec.Routes[%d]: permitInsecure also serves the route over HTTP, where the authorization server is not called", i)
	}
}
