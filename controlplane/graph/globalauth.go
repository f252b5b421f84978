package graph

import (
	"errors"
	"fmt"
	"strings"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// FindingGlobalAuthServiceNotFound says the global authorization setting
// names an ExtensionService that does not exist or is not valid.
const FindingGlobalAuthServiceNotFound = "GlobalAuthServiceNotFound"

// GlobalAuthorization is Contour's globalExtAuth setting, as its
// configuration file writes it: every request of an HTTPProxy virtual host
// (and every request on ingress_http) is checked by a gRPC authorization
// server unless a virtual host or route disables it or the host has its
// own server.
type GlobalAuthorization struct {
	// ExtensionService is the server, namespace/name.
	ExtensionService string `json:"extensionService"`
	// ServiceType is "grpc" (or empty) or "http", and HTTPServerSettings
	// tune the requests to an http server.
	ServiceType        contourv1.AuthorizationServiceType         `json:"serviceType,omitempty"`
	HTTPServerSettings *contourv1.HTTPAuthorizationServerSettings `json:"httpSettings,omitempty"`
	// AuthPolicy is the default of every virtual host and route: checks
	// disabled, or context sent with them.
	AuthPolicy *contourv1.AuthorizationPolicy `json:"authPolicy,omitempty"`
	// ResponseTimeout bounds a check (a duration or "infinity"; empty:
	// the ExtensionService's response timeout).
	ResponseTimeout string `json:"responseTimeout,omitempty"`
	// FailOpen lets requests through when the server fails.
	FailOpen bool `json:"failOpen,omitempty"`
	// WithRequestBody sends (part of) the request body with the check.
	WithRequestBody *contourv1.AuthorizationServerBufferSettings `json:"withRequestBody,omitempty"`
}

// ParseGlobalAuthorization reads a globalExtAuth setting given as JSON
// (unknown fields refused) and checks it.
func ParseGlobalAuthorization(s string) (*GlobalAuthorization, error) {
	var a GlobalAuthorization
	if err := decodeSetting(s, &a); err != nil {
		return nil, fmt.Errorf("not a global authorization setting: %w", err)
	}
	return &a, a.Check()
}

// Check returns an error naming the first part of a that is not valid.
func (a *GlobalAuthorization) Check() error {
	if _, _, err := parseExtensionServiceRef(a.ExtensionService); err != nil {
		return fmt.Errorf("extensionService: %w", err)
	}
	if _, warning, err := httpAuthorization("globalExtAuth", a.ServiceType, a.HTTPServerSettings, a.AuthPolicy); err != nil {
		return err
	} else if warning != "" {
		return errors.New(warning)
	}
	if a.ResponseTimeout != "" {
		if _, _, err := parseTimeout(a.ResponseTimeout); err != nil {
			return fmt.Errorf("responseTimeout %q: not a duration or \"infinity\"", a.ResponseTimeout)
		}
	}
	return nil
}

// globalAuth is the global authorization of a build: the server (nil when
// its ExtensionService cannot be used) and the default policy.
type globalAuth struct {
	az    *ExternalAuthorization
	ext   *Extension // az's server
	scope authScope
	name  string // namespace/name
}

// resolveGlobalAuth resolves Options.GlobalAuthorization; nil when none is
// set.
func (b *builder) resolveGlobalAuth() *globalAuth {
	a := b.opts.GlobalAuthorization
	if a == nil {
		return nil
	}
	out := &globalAuth{name: a.ExtensionService}
	if pol := a.AuthPolicy; pol != nil {
		out.scope = authScope{disabled: pol.Disabled, context: pol.Context}
	}
	ns, name, _ := strings.Cut(a.ExtensionService, "/")
	ext, ok := b.extension(ns, name)
	if !ok {
		return out
	}
	out.ext = ext
	out.az = &ExternalAuthorization{Cluster: ext.Cluster, FailOpen: a.FailOpen, Timeout: ext.Timeout, Body: authorizationBody(a.WithRequestBody)}
	if d, inf, _ := parseTimeout(a.ResponseTimeout); d > 0 || inf {
		out.az.Timeout = Timeout{Duration: d, Infinite: inf}
	}
	out.az.HTTP, _, _ = httpAuthorization("globalExtAuth", a.ServiceType, a.HTTPServerSettings, a.AuthPolicy) // checked by Check
	out.scope.http = out.az.HTTP != nil
	return out
}

// globalAuthService resolves the global authorization for the build: the
// graph gets its server (ingress_http's connection manager calls it), and
// a server that cannot be used is a finding.
func (b *builder) globalAuthService() {
	b.global = b.resolveGlobalAuth()
	if b.global == nil {
		return
	}
	if b.global.az == nil {
		ns, name, _ := strings.Cut(b.global.name, "/")
		b.report.Find(status.Finding{Code: FindingGlobalAuthServiceNotFound, Severity: status.SeverityError,
			Objects: []status.Ref{{Kind: status.KindExtensionService, Namespace: ns, Name: name}},
			Message: fmt.Sprintf("globalExtAuth.extensionService: ExtensionService %s does not exist or is not valid: the HTTPProxies "+
				"that do not disable authorization are invalid, and ingress_http checks nothing (Contour refuses to start)", b.global.name)})
		return
	}
	b.g.GlobalAuthorization = b.global.az
	if b.global.az.HTTP == nil {
		b.findNotHTTP2(b.global.ext, "globalExtAuth")
	}
}

// findNotHTTP2 reports, as a finding on x, a global setting (use) calling
// x with gRPC over HTTP/1.1.
func (b *builder) findNotHTTP2(x *Extension, use string) {
	if why := notHTTP2(x, use); why != "" {
		b.report.Find(status.Finding{Code: ReasonExtensionNotHTTP2, Severity: status.SeverityWarning,
			Objects: []status.Ref{{Kind: status.KindExtensionService, Namespace: x.Cluster.Namespace, Name: x.Cluster.Extension.Name}},
			Message: why})
	}
}

// globalAuthorization is virtualHostAuthorization for root p when it has
// no server of its own and a global one is set: a (the root's
// authorization without extensionRef, nil when none) replaces the global
// default policy, as in Contour; a root that does not disable checks is
// invalid while the global server cannot be used.
func (b *builder) globalAuthorization(ref status.Ref, p *contourv1.HTTPProxy, svh *SecureVirtualHost, a *contourv1.AuthorizationServer) (*ExternalAuthorization, *authScope, bool) {
	scope := b.global.scope
	if a != nil {
		scope = authScope{http: scope.http}
		if pol := a.AuthPolicy; pol != nil {
			scope.disabled, scope.context = pol.Disabled, pol.Context
			if scope.http && len(pol.Context) > 0 {
				b.report.Warning(ref, status.SpecError, ReasonIgnoredField,
					"Spec.VirtualHost.Authorization.AuthPolicy.Context is not sent: the global authorization server is an HTTP one (context goes to grpc servers only)")
			}
		}
	}
	if b.global.az == nil && !scope.disabled {
		b.report.Error(ref, status.AuthError, ReasonExtensionServiceNotFound,
			"globalExtAuth: extension service %q not found (or not valid: see its status)", b.global.name)
		return nil, nil, false
	}
	// A tcpproxy root's routes (port 80 only) take the policy too; its
	// secure host has no HTTP to check (planRoot gives it no server).
	var az *ExternalAuthorization
	if svh != nil {
		az = b.global.az
	}
	return az, &scope, true
}
