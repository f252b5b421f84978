package graph

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/isobar-dev/isobar/controlplane/source"
)

// Reasons for service lookups, Contour's names.
const (
	ReasonServiceUnresolved   = "ServiceUnresolvedReference"
	ReasonServicePortInvalid  = "ServicePortInvalid"
	ReasonUnsupportedProtocol = "UnsupportedProtocol"
)

// LookupError explains why a reference could not be resolved. Reason is a
// Contour status reason; Message is for people.
type LookupError struct {
	Reason  string
	Message string
}

func (e *LookupError) Error() string { return e.Message }

// Service annotations read by the core.
const (
	annotationUpstreamPrefix  = "projectcontour.io/upstream-protocol."
	legacyUpstreamPrefix      = "contour.heptio.com/upstream-protocol."
	annotationMaxConnections  = "max-connections"
	annotationMaxPending      = "max-pending-requests"
	annotationMaxRequests     = "max-requests"
	annotationMaxRetries      = "max-retries"
	annotationPerHostMaxConns = "per-host-max-connections"
	annotationPrefixContour   = "projectcontour.io/"
	annotationPrefixLegacy    = "contour.heptio.com/"
)

// serviceKey names one port of one Service as a route refers to it.
type serviceKey struct {
	namespace, name string
	port            intstr.IntOrString
}

// serviceLookup is a memoised resolveService answer.
type serviceLookup struct {
	cluster *Cluster
	err     error
}

// serviceMemo memoises resolveService for the objects a Build processes
// in turn (Ingresses, IngressRoutes, ExtensionServices); the builders of
// root HTTPProxies, which plan on several goroutines, keep only their own
// recentServices. A nil *serviceMemo memoises nothing. It is not safe for
// concurrent use.
type serviceMemo struct {
	answers map[serviceKey]serviceLookup
}

// newServiceMemo returns a memo for a full build of idx, sized for the
// Services its serial processors are likely to name: all of them, or two
// per object when there are fewer objects (an index may hold many Services
// no route names).
func newServiceMemo(idx *source.Index) *serviceMemo {
	hint := min(len(idx.Services), 2*(len(idx.IngressRoutes)+len(idx.Ingresses)+len(idx.ExtensionServices)))
	return &serviceMemo{answers: make(map[serviceKey]serviceLookup, hint)}
}

func (m *serviceMemo) get(k serviceKey) (serviceLookup, bool) {
	if m == nil {
		return serviceLookup{}, false
	}
	l, ok := m.answers[k]
	return l, ok
}

func (m *serviceMemo) put(k serviceKey, l serviceLookup) {
	if m == nil {
		return
	}
	if m.answers == nil {
		m.answers = map[serviceKey]serviceLookup{}
	}
	m.answers[k] = l
}

// lookupServicePort is lookupService of a port number, which must be a
// port (1-65535): another number is a ServicePortInvalid error, never
// truncated to 32 bits (4294967376 is not port 80).
func (b *builder) lookupServicePort(namespace, name string, port int) (*Cluster, error) {
	if !validPort(port) {
		return nil, &LookupError{Reason: ReasonServicePortInvalid,
			Message: fmt.Sprintf("service %q: port %d must be in the range 1-65535", namespace+"/"+name, port)}
	}
	return b.lookupService(namespace, name, intstr.FromInt32(int32(port)))
}

// validPort reports whether n is a port number.
func validPort(n int) bool { return n >= 1 && n <= 65535 }

// lookupService resolves namespace/name and port (a number, or a port name)
// to the Cluster of that Service port with its protocol and circuit
// breakers and default route-level options. Answers are memoised: many
// routes name the same Service, and those that leave the options at their
// defaults share its one Cluster. The Cluster is therefore SHARED and never
// modified: a caller that sets route-level options (load balancer, health
// check, validation...) works on a copy (see withOptions).
func (b *builder) lookupService(namespace, name string, port intstr.IntOrString) (*Cluster, error) {
	k := serviceKey{namespace, name, port}
	l, ok := b.recent.get(k)
	if !ok {
		if l, ok = b.services.get(k); !ok {
			l.cluster, l.err = b.resolveService(namespace, name, port)
			b.services.put(k, l)
		}
		b.recent.put(k, l)
	}
	if l.err != nil {
		return nil, l.err
	}
	return l.cluster, nil
}

// recentServices is a builder's own memo of its last lookupService
// answers, in front of its serviceMemo if any: the routes of one root
// mostly name the same few Service ports, and a hit here hashes nothing.
// The builders of roots have only this one: Services are rarely shared
// between roots, and a memo they shared would cost a lock and a hash per
// lookup (two roots resolving the same Service port get equal Clusters).
// The zero value is ready.
type recentServices struct {
	entries [recentSize]recentService
	n       int // answers put so far
}

// recentSize is how many answers recentServices keeps.
const recentSize = 4

type recentService struct {
	k serviceKey
	l serviceLookup
}

func (r *recentServices) get(k serviceKey) (serviceLookup, bool) {
	for i := range min(r.n, recentSize) {
		if r.entries[i].k == k {
			return r.entries[i].l, true
		}
	}
	return serviceLookup{}, false
}

// put keeps k's answer, in place of the oldest when full.
func (r *recentServices) put(k serviceKey, l serviceLookup) {
	r.entries[r.n%recentSize] = recentService{k, l}
	r.n++
}

// clusterOptions are the options a route sets on the clusters of its
// services, over those of the Service port.
type clusterOptions struct {
	LoadBalancer   LoadBalancer
	HealthCheck    *HealthCheck
	SlowStart      *SlowStart
	HealthPort     *corev1.ServicePort
	IdleConnection *time.Duration
}

// withOptions returns c with the options o: c itself when it has them
// already (so that a shared Cluster stays shared), a copy otherwise.
func (c *Cluster) withOptions(o clusterOptions) *Cluster {
	if c.LoadBalancer == o.LoadBalancer && c.HealthCheck == o.HealthCheck && c.SlowStart == o.SlowStart &&
		c.HealthPort == o.HealthPort && c.IdleConnection == o.IdleConnection {
		return c
	}
	cc := *c
	cc.LoadBalancer, cc.HealthCheck, cc.SlowStart, cc.HealthPort, cc.IdleConnection =
		o.LoadBalancer, o.HealthCheck, o.SlowStart, o.HealthPort, o.IdleConnection
	return &cc
}

// resolveService does lookupService's work.
func (b *builder) resolveService(namespace, name string, port intstr.IntOrString) (*Cluster, error) {
	svc, ok := b.idx.Services[source.Key(namespace, name)]
	if !ok {
		return nil, &LookupError{Reason: ReasonServiceUnresolved,
			Message: fmt.Sprintf("unresolved service reference: service %q not found", namespace+"/"+name)}
	}
	sp, ok := findPort(svc, port)
	if !ok {
		return nil, &LookupError{Reason: ReasonServiceUnresolved,
			Message: fmt.Sprintf("unresolved service reference: port %q on service %q not matched", port.String(), namespace+"/"+name)}
	}
	if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
		return nil, &LookupError{Reason: ReasonServiceUnresolved,
			Message: fmt.Sprintf("port %q on service %q uses protocol %s; only TCP can be routed", port.String(), namespace+"/"+name, sp.Protocol)}
	}
	c := &Cluster{Namespace: namespace, Service: name, Port: sp, LoadBalancer: RoundRobin}
	if svc.Type == corev1.ServiceTypeExternalName {
		if !b.opts.EnableExternalName {
			return nil, &LookupError{Reason: ReasonServiceUnresolved,
				Message: fmt.Sprintf("service %q is of type ExternalName, which is disabled (enable it with --enable-external-name)", namespace+"/"+name)}
		}
		if to := reachesEnvoy(svc.ExternalName); to != "" {
			return nil, &LookupError{Reason: ReasonServiceUnresolved,
				Message: fmt.Sprintf("service %q is an ExternalName service that points to %s (%q, which would reach Envoy itself or its node), this is not allowed", namespace+"/"+name, to, svc.ExternalName)}
		}
		if other, ok := serviceNamespace(svc.ExternalName); ok && other != namespace {
			return nil, &LookupError{Reason: ReasonServiceUnresolved,
				Message: fmt.Sprintf("service %q is an ExternalName Service for %q, a Service of namespace %q; routes reach other namespaces only through includes or delegation", namespace+"/"+name, svc.ExternalName, other)}
		}
		if err := externalNameValid(svc.ExternalName); err != nil {
			return nil, &LookupError{Reason: ReasonServiceUnresolved,
				Message: fmt.Sprintf("service %q is an ExternalName Service whose externalName %s", namespace+"/"+name, err)}
		}
		c.ExternalName = svc.ExternalName
	}
	c.Protocol = upstreamProtocol(svc, sp)
	c.CircuitBreakers = circuitBreakers(svc.Annotations)
	b.opts.Upstream.applyTo(c)
	c.ClientCertificate = b.clientCert
	return c, nil
}

// findPort finds the Service port a reference names: by port number, or by
// name when the reference is a string.
func findPort(svc *source.Service, port intstr.IntOrString) (corev1.ServicePort, bool) {
	for _, sp := range svc.Ports {
		if port.Type == intstr.Int && sp.Port == port.IntVal {
			return sp, true
		}
		if port.Type == intstr.String && sp.Name == port.StrVal {
			return sp, true
		}
	}
	// A string that is a number names a port number.
	if port.Type == intstr.String {
		if n, err := strconv.Atoi(port.StrVal); err == nil && validPort(n) {
			return findPort(svc, intstr.FromInt32(int32(n)))
		}
	}
	return corev1.ServicePort{}, false
}

// upstreamProtocols pairs each upstream-protocol annotation (current and
// heptio-era prefix) with the protocol it selects, the one that wins first
// (a port listed under several: tls over h2c over h2, as in Contour).
var upstreamProtocols = [...]struct{ key, proto string }{
	{annotationUpstreamPrefix + "tls", "tls"}, {legacyUpstreamPrefix + "tls", "tls"},
	{annotationUpstreamPrefix + "h2c", "h2c"}, {legacyUpstreamPrefix + "h2c", "h2c"},
	{annotationUpstreamPrefix + "h2", "h2"}, {legacyUpstreamPrefix + "h2", "h2"},
}

// upstreamProtocol is the protocol Envoy speaks to Service port sp, as
// Contour decides it. A port with an appProtocol takes it from there only
// (appProtocolUpstream). Otherwise the projectcontour.io/upstream-protocol.
// {h2,h2c,tls} annotations (and the heptio-era prefix), whose values list
// port names or numbers, are read: a listing of the port's name before one
// of its number.
func upstreamProtocol(svc *source.Service, sp corev1.ServicePort) string {
	if sp.AppProtocol != nil {
		return appProtocolUpstream(*sp.AppProtocol)
	}
	if len(svc.Annotations) == 0 {
		return ""
	}
	for _, key := range [...]string{sp.Name, strconv.Itoa(int(sp.Port))} {
		if key == "" {
			continue
		}
		for _, a := range upstreamProtocols {
			for p := range strings.SplitSeq(svc.Annotations[a.key], ",") {
				if strings.TrimSpace(p) == key {
					return a.proto
				}
			}
		}
	}
	return ""
}

// appProtocolUpstream maps a Service port's appProtocol to an upstream
// protocol with Contour's table: kubernetes.io/h2c is h2c, https is tls,
// and every other value (http, kubernetes.io/ws, kubernetes.io/wss, h2,
// ...) plain HTTP/1.1 ("").
func appProtocolUpstream(appProtocol string) string {
	switch appProtocol {
	case "kubernetes.io/h2c":
		return "h2c"
	case "https":
		return "tls"
	}
	return ""
}

// circuitBreakerKeys lists, for each circuit-breaker setting, its
// annotation under the current and the heptio-era prefix.
var circuitBreakerKeys = func() (keys [5][2]string) {
	for i, k := range []string{annotationMaxConnections, annotationMaxPending, annotationMaxRequests,
		annotationMaxRetries, annotationPerHostMaxConns} {
		keys[i] = [2]string{annotationPrefixContour + k, annotationPrefixLegacy + k}
	}
	return keys
}()

// circuitBreakers reads the circuit-breaker annotations; bad numbers are
// ignored.
func circuitBreakers(ann map[string]string) CircuitBreakers {
	var v [5]uint32
	if len(ann) == 0 {
		return CircuitBreakers{}
	}
	for i, keys := range circuitBreakerKeys {
		for _, key := range keys {
			if s, ok := ann[key]; ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32); err == nil {
					v[i] = uint32(n)
					break
				}
			}
		}
	}
	return CircuitBreakers{
		MaxConnections:        v[0],
		MaxPendingRequests:    v[1],
		MaxRequests:           v[2],
		MaxRetries:            v[3],
		PerHostMaxConnections: v[4],
	}
}

// NeverUpstream reports whether Envoy must never be sent to a: the
// unspecified address, loopback, link-local unicast or multicast (IPv4,
// IPv6, or IPv4 mapped into IPv6). Those reach Envoy itself (its admin
// interface listens on loopback), its node, or a cloud's metadata service
// (169.254.169.254); the API server refuses them in v1 Endpoints, but
// manifests read offline and ExternalNames are not checked there.
func NeverUpstream(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsUnspecified() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()
}

// externalNameValid checks an ExternalName Service's name as the API
// server does (a DNS-1123 subdomain, a trailing dot allowed): Envoy
// resolves it and, to a TLS upstream, sends it as the server name, which
// TLS limits to 255 bytes. Manifests read offline meet no API server.
func externalNameValid(name string) error {
	trimmed := strings.TrimSuffix(name, ".")
	if trimmed == "" {
		return errors.New("is empty")
	}
	if len(trimmed) > 253 {
		return fmt.Errorf("is %d characters long; a DNS name has at most 253", len(trimmed))
	}
	if !dnsSubdomain(trimmed) {
		return fmt.Errorf("%q is not a DNS name: %s", name, strings.Join(validation.IsDNS1123Subdomain(trimmed), "; "))
	}
	return nil
}

// reachesEnvoy says what an ExternalName names of the machine Envoy runs
// on, in Contour's words where Contour refuses it too: "localhost" (the
// name in any form, and Contour's local.projectcontour.io), "a loopback,
// link-local or unspecified IP address" (an address NeverUpstream refuses),
// or such an address through wildcard DNS ("app.127.0.0.1.nip.io",
// "www-127-0-0-1.sslip.io"); "" for any other name.
func reachesEnvoy(name string) string {
	n := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	if strings.Contains(n, "localhost") || n == "local.projectcontour.io" {
		return "localhost"
	}
	if a, err := netip.ParseAddr(n); err == nil {
		if NeverUpstream(a) {
			return "a loopback, link-local or unspecified IP address"
		}
		return ""
	}
	labels := strings.Split(n, ".")
	refused := embedsRefused(labels)
	for _, l := range labels {
		refused = refused || embedsRefused(strings.Split(l, "-"))
	}
	if refused {
		return "a loopback, link-local or unspecified IP address through wildcard DNS"
	}
	return ""
}

// embedsRefused reports whether four consecutive parts form an IPv4
// address NeverUpstream refuses.
func embedsRefused(parts []string) bool {
	for i := 0; i+4 <= len(parts); i++ {
		if a, err := netip.ParseAddr(strings.Join(parts[i:i+4], ".")); err == nil && NeverUpstream(a) {
			return true
		}
	}
	return false
}

// serviceNamespace returns the namespace an ExternalName names when it is
// a cluster Service's DNS name (<service>.<namespace>.svc[.<cluster domain>]).
func serviceNamespace(name string) (string, bool) {
	labels := strings.Split(strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), "."), ".")
	for i := 2; i < len(labels); i++ {
		if labels[i] == "svc" {
			return labels[i-1], true
		}
	}
	return "", false
}
