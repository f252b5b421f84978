package graph

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// Graph is the routing graph one Build produces.
type Graph struct {
	// HTTPPort and HTTPSPort are the ports of the ingress_http and
	// ingress_https listeners.
	HTTPPort, HTTPSPort uint32
	// AccessLog is how those listeners log requests.
	AccessLog AccessLog
	// Connections is how their connection managers keep connections.
	Connections Connections
	// VirtualHosts are the insecure virtual hosts keyed by name (a
	// lower-case fqdn, a wildcard "*.example.com", or "*" for Ingress rules
	// without a host).
	VirtualHosts map[string]*VirtualHost
	// SecureVirtualHosts are the virtual hosts served on ingress_https,
	// keyed by fqdn.
	SecureVirtualHosts map[string]*SecureVirtualHost
	// Extensions are the clusters of the valid ExtensionServices, sorted
	// by namespace and name: Envoy gets them whether or not a virtual host
	// uses them, as from Contour.
	Extensions []*Cluster
	// RateLimit, when set, is the rate limit service every HTTP connection
	// manager asks (Options.RateLimitService, when its ExtensionService
	// is valid).
	RateLimit *GlobalRateLimit
	// GlobalAuthorization, when set, is the authorization server
	// ingress_http's connection manager (and the fallback certificate's)
	// calls (Options.GlobalAuthorization, when its ExtensionService is
	// valid); secure virtual hosts carry theirs.
	GlobalAuthorization *ExternalAuthorization
	// ClientCertificate, when set, is the certificate Envoy presents to
	// upstreams over TLS (Options.ClientCertificate): an SDS secret the
	// clusters' TLS contexts name.
	ClientCertificate *Secret
}

// New returns an empty graph with the given listener ports and access log.
func New(httpPort, httpsPort uint32, log AccessLog) *Graph {
	return &Graph{
		HTTPPort:           httpPort,
		HTTPSPort:          httpsPort,
		AccessLog:          log,
		VirtualHosts:       map[string]*VirtualHost{},
		SecureVirtualHosts: map[string]*SecureVirtualHost{},
	}
}

// sizeFor makes room for about n virtual hosts of each kind in g, when it
// has none yet.
func (g *Graph) sizeFor(n int) {
	if len(g.VirtualHosts) == 0 {
		g.VirtualHosts = make(map[string]*VirtualHost, n)
	}
	if len(g.SecureVirtualHosts) == 0 {
		g.SecureVirtualHosts = make(map[string]*SecureVirtualHost, n)
	}
}

// VirtualHost returns the insecure virtual host called name, creating it.
func (g *Graph) VirtualHost(name string) *VirtualHost {
	vh, ok := g.VirtualHosts[name]
	if !ok {
		vh = &VirtualHost{Name: name, Routes: map[MatchKey]*Route{}}
		g.VirtualHosts[name] = vh
	}
	return vh
}

// SecureVirtualHost returns the secure virtual host called name, creating it.
func (g *Graph) SecureVirtualHost(name string) *SecureVirtualHost {
	vh, ok := g.SecureVirtualHosts[name]
	if !ok {
		vh = &SecureVirtualHost{VirtualHost: VirtualHost{Name: name, Routes: map[MatchKey]*Route{}}}
		g.SecureVirtualHosts[name] = vh
	}
	return vh
}

// VirtualHost is a set of routes served for one host name.
type VirtualHost struct {
	// Name is the host: a lower-case fqdn, "*.domain" or "*".
	Name string
	// Routes are keyed by their match conditions, so that two routes with
	// identical conditions cannot coexist (see AddRoute).
	Routes map[MatchKey]*Route
	// RateLimit, when set, limits the requests of every route of the host
	// (a route's own RateLimit replaces it).
	RateLimit *LocalRateLimit
	// GlobalRateLimits are the descriptors the host's requests send to the
	// rate limit service (HTTPProxy rateLimitPolicy.global), unless their
	// route has its own or ignores them (Route.IgnoreHostRateLimits).
	GlobalRateLimits []RateLimitDescriptor
	// CORS, when set, is the host's cross-origin policy (HTTPProxy
	// spec.virtualhost.corsPolicy); the secure and insecure virtual hosts of
	// one fqdn share it.
	CORS *CORSPolicy
	// IPFilter, when set, is the host's IP filter policy; a route's own
	// replaces it for that route.
	IPFilter *IPFilter
	// sorted is SortedRoutes's answer, kept by Build once the host's
	// routes are final; AddRoute drops it.
	sorted []*Route
}

// AddRoute adds r unless a route with the same match conditions is already
// there. When there is one, the route of the older source object (see
// Route.Age) is kept and the other is returned as the loser; for two routes of
// the same object the first added is kept. The caller reports the loser.
func (vh *VirtualHost) AddRoute(r *Route) (loser *Route) { return vh.addRoute(r.Key(), r) }

// addRoute is AddRoute, with r's match key computed by the caller.
func (vh *VirtualHost) addRoute(key MatchKey, r *Route) (loser *Route) {
	vh.sorted = nil
	have, ok := vh.Routes[key]
	if !ok {
		vh.Routes[key] = r
		return nil
	}
	if have.Source == r.Source || !r.Age.olderThan(have.Age, r.Source, have.Source) {
		return r
	}
	vh.Routes[key] = r
	return have
}

// SecureVirtualHost is a virtual host served over TLS on ingress_https.
type SecureVirtualHost struct {
	VirtualHost
	// Owner is the object that holds the TLS configuration.
	Owner status.Ref
	// Secret is the serving certificate; nil with Passthrough.
	Secret *Secret
	// MinTLS and MaxTLS are "1.2" or "1.3"; empty means the default
	// (1.2 and 1.3).
	MinTLS, MaxTLS string
	// Passthrough forwards the TLS stream untouched to TCPProxy.
	Passthrough bool
	// TCPProxy, when set, replaces HTTP routing for this host.
	TCPProxy *TCPProxy
	// ClientValidation, when set, requires (or asks for) client certificates.
	ClientValidation *ClientValidation
	// JWTProviders are the host's JWT providers (HTTPProxy
	// spec.virtualhost.jwtProviders), in the object's order; a route's
	// JWTProvider names one of them.
	JWTProviders []JWTProvider
	// Authorization, when set, checks every request with an external
	// authorization server (routes may disable it).
	Authorization *ExternalAuthorization
	// Fallback, when set, is the fallback certificate (Options.
	// FallbackCertificate) the host enabled: clients that send no server
	// name are served this certificate and the routes of every such host.
	Fallback *Secret
}

// ClientValidation configures downstream client certificate checks.
type ClientValidation struct {
	// CA is the PEM bundle client certificates must chain to.
	CA *Secret
	// SkipVerify accepts any client certificate.
	SkipVerify bool
	// Optional lets clients without a certificate through.
	Optional bool
	// CRL are PEM revocation lists client certificates are checked against
	// (crlSecret), the leaf's issuer's only with OnlyLeafCRL.
	CRL         []byte
	OnlyLeafCRL bool
	// Forward, when set, tells the upstream about the client certificate
	// in x-forwarded-client-cert (forwardClientCertificate).
	Forward *ForwardClientCert
}

// ForwardClientCert says which details of a client certificate Envoy puts
// in x-forwarded-client-cert (replacing any the client sent): its subject,
// the certificate and its chain (URL-encoded PEM), its DNS and URI SANs.
type ForwardClientCert struct {
	Subject, Cert, Chain, DNS, URI bool
}

// TCPProxy forwards a TLS connection (terminated or passed through) to
// weighted backends.
type TCPProxy struct {
	Backends []Backend
	Source   status.Ref
}

// Secret is a validated Kubernetes Secret used for TLS.
type Secret struct {
	Namespace, Name string
	// Cert and Key are the PEM tls.crt and tls.key; CA is ca.crt for CA
	// bundles (Cert and Key empty then).
	Cert, Key, CA []byte
	// NotBefore and NotAfter bound the validity of a serving certificate's
	// leaf (zero for CA bundles).
	NotBefore, NotAfter time.Time
}

// Age is the creation time of an object, used to decide which of two
// conflicting objects keeps what it claimed.
type Age struct {
	Created time.Time
}

// olderThan reports whether a (of object ra) is older than b (of object rb):
// earlier creationTimestamp first, then kind, namespace and name.
func (a Age) olderThan(b Age, ra, rb status.Ref) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	return ra.Less(rb)
}

// Older reports whether object ra created at a is older than object rb
// created at b by the oldest-object rule.
func Older(ra status.Ref, a Age, rb status.Ref, b Age) bool { return a.olderThan(b, ra, rb) }

// Cluster is one upstream: a Service port with the options that change how
// Envoy talks to it. Two routes to the same Service port with the same
// options share one Cluster (its Envoy cluster; often the same *Cluster
// too, see lookupService): a Cluster is never modified once built.
type Cluster struct {
	// Namespace and Service name the Kubernetes Service.
	Namespace, Service string
	// Port is the Service port routed to.
	Port corev1.ServicePort
	// ExternalName is the DNS name of an ExternalName Service; empty otherwise.
	ExternalName string
	// Protocol is "", "h2", "h2c" or "tls".
	Protocol string
	// LoadBalancer is the load-balancing strategy.
	LoadBalancer LoadBalancer
	// HealthCheck, when set, enables active HTTP (or TCP) health checks.
	HealthCheck *HealthCheck
	// Validation, when set, verifies the upstream's certificate.
	Validation *UpstreamValidation
	// CircuitBreakers come from the Service's annotations.
	CircuitBreakers CircuitBreakers
	// SNI is sent to TLS upstreams; empty means none.
	SNI string
	// SlowStart, when set, ramps traffic to new endpoints.
	SlowStart *SlowStart
	// HealthPort, when set, is the Service port that active health checks
	// go to instead of Port (a service's healthPort).
	HealthPort *corev1.ServicePort
	// IdleConnection, when set, closes upstream connections idle for that
	// long (0: never), the route's timeoutPolicy.idleConnection.
	IdleConnection *time.Duration
	// ConnectTimeout bounds connection attempts (0: Contour's 2 s) and
	// DNSLookupFamily is how an ExternalName is resolved ("": auto); both
	// come from Options.Upstream.
	ConnectTimeout  time.Duration
	DNSLookupFamily string
	// MaxRequestsPerConnection (0: no limit) and BufferLimit (bytes; 0:
	// Envoy's default) bound each upstream connection; both come from
	// Options.Upstream.
	MaxRequestsPerConnection, BufferLimit uint32
	// UpstreamTLSMin and UpstreamTLSMax ("1.2"/"1.3") and
	// UpstreamTLSCipherSuites (one a line) are the TLS parameters of the
	// cluster's TLS context, all "" for Envoy's defaults; from
	// Options.Upstream.
	UpstreamTLSMin, UpstreamTLSMax, UpstreamTLSCipherSuites string
	// UpstreamTLSCurves (one a line; "": Envoy's) are the ECDH curves of
	// that context, from Options.Upstream.
	UpstreamTLSCurves string
	// ClientCertificate, when set, is presented to the upstream when the
	// cluster originates TLS (Options.ClientCertificate).
	ClientCertificate *Secret
	// DNSNameScheme is "http" or "https" for a cluster that is a DNS name
	// and not a Kubernetes Service (a JWT provider's remote JWKS, Contour's
	// DNSNameCluster): ExternalName is the host, Port.Port the port,
	// Namespace and Service are empty, and with "https" Protocol is "tls"
	// and SNI the host. Empty for every Service cluster.
	DNSNameScheme string
	// Extension, when set, makes this the cluster of an ExtensionService
	// (extension/<namespace>/<name>), balancing over its Services:
	// Namespace is the ExtensionService's, Service and Port are empty.
	Extension *ExtensionUpstream
}

// LoadBalancer is an HTTPProxy/IngressRoute load-balancing strategy.
type LoadBalancer string

// Load-balancing strategies.
const (
	RoundRobin           LoadBalancer = "RoundRobin"
	WeightedLeastRequest LoadBalancer = "WeightedLeastRequest"
	Random               LoadBalancer = "Random"
	Cookie               LoadBalancer = "Cookie"
	RequestHash          LoadBalancer = "RequestHash"
)

// HealthCheck is an active health check. Path empty means a TCP check.
type HealthCheck struct {
	Path, Host                           string
	Interval, Timeout                    time.Duration
	UnhealthyThreshold, HealthyThreshold uint32
	ExpectedStatuses                     []StatusRange
}

// StatusRange is a half-open range of HTTP status codes [Start, End).
type StatusRange struct{ Start, End int64 }

// UpstreamValidation verifies a TLS upstream.
type UpstreamValidation struct {
	CA           *Secret
	SubjectNames []string
}

// CircuitBreakers are Envoy circuit-breaker thresholds; zero means unset.
type CircuitBreakers struct {
	MaxConnections, MaxPendingRequests, MaxRequests, MaxRetries, PerHostMaxConnections uint32
}

// Backend is a cluster with its share of a route's traffic.
type Backend struct {
	Cluster *Cluster
	// Weight is the relative weight; Translate normalises the set.
	Weight uint32
	// RequestHeaders and ResponseHeaders apply to this backend only.
	RequestHeaders, ResponseHeaders *HeadersPolicy
	// CookieRewrites apply to this backend's responses, over the route's
	// (an attribute the backend's rule for a cookie sets wins).
	CookieRewrites []CookieRewrite
}
