package graph

import (
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Options change how objects are read. The zero value is Contour's default.
type Options struct {
	// RootNamespaces, when not empty, are the only namespaces where root
	// HTTPProxies and IngressRoutes may live.
	RootNamespaces []string
	// IngressClass, when set, is the class processed, or a comma-separated
	// list of classes processed (as Contour's --ingress-class-name); when
	// empty, objects with no class or with class "contour" are processed.
	IngressClass string
	// DisablePermitInsecure ignores permitInsecure on every route.
	DisablePermitInsecure bool
	// HTTPPort and HTTPSPort are the listener ports (default 8080 and 8443).
	HTTPPort, HTTPSPort uint32
	// EnableExternalName allows routing to ExternalName Services (off by
	// default: GHSA-5ph6-qq5x-7jwc).
	EnableExternalName bool
	// IncludeGrants makes an include across namespaces need the included
	// namespace's consent (IncludeFromAnnotation on its Namespace); an
	// include refused answers 502 for its conditions, as a missing child
	// does. Off, an include may name any namespace, as in Contour.
	IncludeGrants bool
	// Excluded are HTTPProxies taken out of the configuration, with why
	// (serve --exclude-rejected: Envoy rejected what they built): each is
	// invalid with an EnvoyRejected error, so a root's host serves nothing
	// and an include of one answers 502 for its conditions.
	Excluded map[status.Ref]string
	// AccessLog is how Envoy's ingress listeners log requests.
	AccessLog AccessLog
	// Connections is how their connection managers keep connections
	// (Contour's timeouts and num-trusted-hops).
	Connections Connections
	// Upstream is how Envoy connects to upstreams (Contour's
	// timeouts.connect-timeout and cluster.dns-lookup-family).
	Upstream Upstream
	// Headers is Contour's global header policy.
	Headers GlobalHeaders
	// RateLimitService is Contour's rateLimitService: the service of
	// global rate limits (unconfigured: none, and global policies are
	// reported ignored).
	RateLimitService RateLimitService
	// FallbackCertificate, when set, is the namespace/name of the Secret
	// served to TLS clients that send no server name (Contour's
	// tls.fallback-certificate), for the roots that enable it: they must
	// be allowed to use it as any other Secret (TLSCertificateDelegation
	// when it lives in another namespace).
	FallbackCertificate string
	// ClientCertificate, when set, is the namespace/name of the TLS Secret
	// Envoy presents to the upstreams it reaches over TLS (Contour's
	// tls.envoy-client-certificate; no delegation needed).
	ClientCertificate string
	// GlobalAuthorization, when set, is Contour's globalExtAuth setting
	// (checked): the authorization server of every HTTPProxy virtual host
	// without one of its own, and of ingress_http's connection manager.
	GlobalAuthorization *GlobalAuthorization
	// Tracing, when set, is Contour's tracing setting (checked): every
	// connection manager traces requests to its collector.
	Tracing *Tracing
	// Now, when set, is the time serving certificates are checked against:
	// one expired or not yet valid gets a warning on the objects using it.
	// The core reads no clock; callers pass one (zero: no check).
	Now time.Time
}

// Defaults fills the zero fields of o.
func (o Options) Defaults() Options {
	if o.HTTPPort == 0 {
		o.HTTPPort = 8080
	}
	if o.HTTPSPort == 0 {
		o.HTTPSPort = 8443
	}
	o.AccessLog = o.AccessLog.Defaults()
	return o
}

// builder carries the state of one Build.
type builder struct {
	idx *source.Index
	// opts are the build's options, shared by the builders of all roots.
	opts   *Options
	g      *Graph
	report *status.Report
	// owners maps a claimed fqdn to the root that owns it (see claimHosts).
	owners map[string]status.Ref
	// secretChecks memoises Secret validation by content (string → error),
	// shared by the builders of all roots.
	secretChecks *sync.Map
	// services memoises lookupService, shared by the builders of all roots.
	services *serviceMemo
	// recent are this builder's last lookupService answers.
	recent recentServices
	// proxyRoots are the root HTTPProxies that own their fqdn, in claim
	// order (see claimHosts).
	proxyRoots []proxyRoot
	// routes are Routes allocated for newRoute, not handed out yet.
	routes []Route
	// backends is the block of Backends of the HTTPProxy being walked
	// (see backendSlots).
	backends []Backend
	// reads records the HTTPProxies a root's walk looked up, found or not.
	reads []types.NamespacedName
	// parts, when set, receives the reports split by unit (BuildParts).
	parts *Parts
	// global is the global authorization (Options.GlobalAuthorization),
	// resolved once per build; nil when none is set.
	global *globalAuth
	// clientCert is the client certificate (Options.ClientCertificate)
	// every cluster carries, resolved once per build; nil for none.
	clientCert *Secret
}

// processors run in this order; each may read what the earlier ones did.
var processors = []func(*builder){
	(*builder).indexNotes,
	(*builder).claimHosts,
	(*builder).clientCertificate,
	(*builder).processExtensionServices,
	(*builder).rateLimitService,
	(*builder).tracingService,
	(*builder).globalAuthService,
	(*builder).processHTTPProxies,
	(*builder).processIngressRoutes,
	(*builder).processIngresses,
	(*builder).findShadowedRoutes,
}

// Build returns the routing graph and the status of every object in idx.
// It never mutates idx.
func Build(idx *source.Index, opts Options) (*Graph, *status.Report) {
	opts = opts.Defaults()
	b := &builder{
		idx:    idx,
		opts:   &opts,
		g:      New(opts.HTTPPort, opts.HTTPSPort, opts.AccessLog),
		report: status.NewReportFor(idx.HTTPProxies.Len() + len(idx.IngressRoutes) + len(idx.Ingresses)),
		owners: map[string]status.Ref{},

		secretChecks: &sync.Map{},
		services:     newServiceMemo(idx),
	}
	b.g.Connections = opts.Connections
	for _, p := range processors {
		p(b)
	}
	b.prune()
	return b.g, b.report
}

// indexNotes copies the observations Load made into findings.
func (b *builder) indexNotes() {
	for _, f := range b.idx.Notes {
		b.report.Find(f)
	}
}

// prune drops virtual hosts left without routes (and, for secure ones,
// without a TCP proxy).
func (b *builder) prune() {
	for name, vh := range b.g.VirtualHosts {
		if len(vh.Routes) == 0 {
			delete(b.g.VirtualHosts, name)
		}
	}
	for name, vh := range b.g.SecureVirtualHosts {
		if len(vh.Routes) == 0 && vh.TCPProxy == nil {
			delete(b.g.SecureVirtualHosts, name)
		}
	}
}

// ageOf returns the age of an object from its metadata.
func ageOf(m metav1.Object) Age { return Age{Created: m.GetCreationTimestamp().Time} }

// rootNamespaceAllowed reports whether a root may live in ns.
func (b *builder) rootNamespaceAllowed(ns string) bool {
	return len(b.opts.RootNamespaces) == 0 || slices.Contains(b.opts.RootNamespaces, ns)
}
