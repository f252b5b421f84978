package graph

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

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
	cluster Cluster
	err     error
}

// lookupService resolves namespace/name and port (a number, or a port name)
// to a new Cluster with the Service's protocol and circuit breakers. The
// caller sets route-level options (load balancer, health check,
// validation). Answers are memoised: many routes name the same Service.
func (b *builder) lookupService(namespace, name string, port intstr.IntOrString) (*Cluster, error) {
	k := serviceKey{namespace, name, port}
	l, ok := b.services[k]
	if !ok {
		c, err := b.resolveService(namespace, name, port)
		if c != nil {
			l.cluster = *c
		}
		l.err = err
		if b.services == nil {
			b.services = map[serviceKey]serviceLookup{}
		}
		b.services[k] = l
	}
	if l.err != nil {
		return nil, l.err
	}
	c := l.cluster
	return &c, nil
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
		return nil, &LookupError{Reason: ReasonServicePortInvalid,
			Message: fmt.Sprintf("port %q on service %q uses protocol %s; only TCP can be routed", port.String(), namespace+"/"+name, sp.Protocol)}
	}
	c := &Cluster{Namespace: namespace, Service: name, Port: sp, LoadBalancer: RoundRobin}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		if !b.opts.EnableExternalName {
			return nil, &LookupError{Reason: ReasonServiceUnresolved,
				Message: fmt.Sprintf("service %q is of type ExternalName, which is disabled (enable it with --enable-external-name)", namespace+"/"+name)}
		}
		c.ExternalName = svc.Spec.ExternalName
	}
	c.Protocol = upstreamProtocol(svc, sp)
	c.CircuitBreakers = circuitBreakers(svc.Annotations)
	return c, nil
}

// findPort finds the Service port a reference names: by port number, or by
// name when the reference is a string.
func findPort(svc *corev1.Service, port intstr.IntOrString) (corev1.ServicePort, bool) {
	for _, sp := range svc.Spec.Ports {
		if port.Type == intstr.Int && sp.Port == port.IntVal {
			return sp, true
		}
		if port.Type == intstr.String && sp.Name == port.StrVal {
			return sp, true
		}
	}
	// A string that is a number names a port number.
	if port.Type == intstr.String {
		if n, err := strconv.Atoi(port.StrVal); err == nil {
			return findPort(svc, intstr.FromInt32(int32(n)))
		}
	}
	return corev1.ServicePort{}, false
}

// upstreamProtocol reads projectcontour.io/upstream-protocol.{h2,h2c,tls}
// (and the heptio-era prefix), whose values list port names or numbers, then
// the port's appProtocol.
func upstreamProtocol(svc *corev1.Service, sp corev1.ServicePort) string {
	for _, proto := range []string{"h2", "h2c", "tls"} {
		for _, prefix := range []string{annotationUpstreamPrefix, legacyUpstreamPrefix} {
			v, ok := svc.Annotations[prefix+proto]
			if !ok {
				continue
			}
			for _, p := range strings.Split(v, ",") {
				p = strings.TrimSpace(p)
				if p != "" && (p == sp.Name || p == strconv.Itoa(int(sp.Port))) {
					return proto
				}
			}
		}
	}
	if sp.AppProtocol != nil {
		switch *sp.AppProtocol {
		case "h2", "kubernetes.io/h2":
			return "h2"
		case "h2c", "kubernetes.io/h2c":
			return "h2c"
		case "tls", "https", "kubernetes.io/tls":
			return "tls"
		}
	}
	return ""
}

// circuitBreakers reads the circuit-breaker annotations; bad numbers are
// ignored.
func circuitBreakers(ann map[string]string) CircuitBreakers {
	get := func(key string) uint32 {
		for _, prefix := range []string{annotationPrefixContour, annotationPrefixLegacy} {
			if v, ok := ann[prefix+key]; ok {
				n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
				if err == nil {
					return uint32(n)
				}
			}
		}
		return 0
	}
	return CircuitBreakers{
		MaxConnections:        get(annotationMaxConnections),
		MaxPendingRequests:    get(annotationMaxPending),
		MaxRequests:           get(annotationMaxRequests),
		MaxRetries:            get(annotationMaxRetries),
		PerHostMaxConnections: get(annotationPerHostMaxConns),
	}
}
