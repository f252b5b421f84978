package graph

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// ExtensionService reasons, Contour's names.
const (
	ReasonInconsistentProtocol   = "InconsistentProtocol"
	ReasonUnsupportedServiceType = "UnsupportedServiceType"
)

// ReasonExtensionNotHTTP2 is Isobar's warning (and finding code) for an
// ExtensionService of protocol http/1.1 called with gRPC, which needs
// HTTP/2 (Contour says nothing): a gRPC authorization server, the rate
// limit service or the tracing collector. An HTTP authorization server
// (serviceType http) may speak HTTP/1.1.
const ReasonExtensionNotHTTP2 = "ExtensionNotHTTP2"

// notHTTP2 is what to say when use, a gRPC client of x, reaches x over
// HTTP/1.1 (its calls will fail); "" when x speaks HTTP/2.
func notHTTP2(x *Extension, use string) string {
	if x.Cluster.Protocol != "" {
		return ""
	}
	return fmt.Sprintf("%s calls ExtensionService %s/%s with gRPC, which needs HTTP/2, but its Spec.Protocol is http/1.1: "+
		"its calls will fail (use h2 or h2c)", use, x.Cluster.Namespace, x.Cluster.Extension.Name)
}

// ExtensionUpstream is what an ExtensionService balances over: Services of
// its own namespace, each with a relative weight.
type ExtensionUpstream struct {
	// Name is the ExtensionService's name (its namespace is the
	// cluster's).
	Name string
	// Targets are the Services, in the object's order.
	Targets []ExtensionTarget
}

// ExtensionTarget is one Service port of an ExtensionService.
type ExtensionTarget struct {
	Service string
	Port    corev1.ServicePort
	// Weight is the Service's share; 0 everywhere means equal shares.
	Weight uint32
}

// Extension is a valid ExtensionService: its cluster and the default time
// to wait for its answer (spec.timeoutPolicy.response).
type Extension struct {
	Cluster *Cluster
	// Timeout is the response timeout (Infinite: none; neither set: the
	// filter's default).
	Timeout Timeout
}

// Timeout is a duration that may be unset (zero and not Infinite) or
// disabled (Infinite).
type Timeout struct {
	Duration time.Duration
	Infinite bool
}

// Proto is Envoy's timeout for t: none (Envoy's default) when unset, 0
// (no timeout) when infinite.
func (t Timeout) Proto() *durationpb.Duration {
	switch {
	case t.Infinite:
		return durationpb.New(0)
	case t.Duration > 0:
		return durationpb.New(t.Duration)
	}
	return nil
}

// processExtensionServices computes the status of every ExtensionService
// (Contour's ExtensionServiceProcessor) and lists the clusters of the
// valid ones in the graph. Virtual hosts build their own copy (see
// extension), so that a host can be built on its own.
func (b *builder) processExtensionServices() {
	for _, key := range source.SortedKeys(b.idx.ExtensionServices) {
		if x, ok := b.buildExtension(b.idx.ExtensionServices[key], b.report); ok {
			b.g.Extensions = append(b.g.Extensions, x.Cluster)
		}
	}
}

// extension returns the ExtensionService namespace/name as a cluster,
// false when it does not exist or is not valid (its own status says why).
func (b *builder) extension(namespace, name string) (*Extension, bool) {
	e, ok := b.idx.ExtensionServices[source.Key(namespace, name)]
	if !ok {
		return nil, false
	}
	return b.buildExtension(e, status.NewReport())
}

// buildExtension validates e into report and returns its cluster, false
// when e has an error.
func (b *builder) buildExtension(e *contourv1alpha1.ExtensionService, report *status.Report) (*Extension, bool) {
	ref := status.Ref{Kind: status.KindExtensionService, Namespace: e.Namespace, Name: e.Name}
	report.Valid(ref)
	ok := true
	c := &Cluster{Namespace: e.Namespace, Protocol: "h2", LoadBalancer: loadBalancer(e.Spec.LoadBalancerPolicy),
		Extension: &ExtensionUpstream{Name: e.Name}}
	b.opts.Upstream.applyTo(c)
	c.ClientCertificate = b.clientCert
	if c.LoadBalancer == Cookie || c.LoadBalancer == RequestHash {
		report.Warning(ref, status.SpecError, ReasonIgnoredField,
			"ignoring field %q; %s load balancer policy is not supported for ExtensionClusters", ".Spec.LoadBalancerPolicy", c.LoadBalancer)
		c.LoadBalancer = RoundRobin
	}
	proto := "h2"
	if p := e.Spec.Protocol; p != nil && *p != "" {
		proto = *p
	}
	switch proto {
	case "h2", "h2c":
		c.Protocol = proto
	case "http/1.1": // Contour's CRD allows it: a plain HTTP/1 cluster (an HTTP authorization server's; gRPC users are warned)
		c.Protocol = ""
	default:
		report.Error(ref, status.SpecError, ReasonUnsupportedProtocol, "Spec.Protocol %q is not supported: use h2 or h2c", proto)
		ok = false
	}
	if cb := e.Spec.CircuitBreakerPolicy; cb != nil {
		c.CircuitBreakers = CircuitBreakers{cb.MaxConnections, cb.MaxPendingRequests, cb.MaxRequests, cb.MaxRetries, cb.PerHostMaxConnections}
	}
	x := &Extension{Cluster: c}
	if !extensionTimeouts(e, x, ref, report) {
		ok = false
	}
	if v := e.Spec.UpstreamValidation; v != nil {
		uv, err := b.upstreamValidation(v, e.Namespace)
		if err != nil {
			var le *LookupError
			if errors.As(err, &le) && le.Reason == ReasonCACertificateNotDelegated {
				report.Error(ref, status.TLSError, ReasonCACertificateNotDelegated, "Spec.UpstreamValidation: %s", le.Message)
			} else {
				report.Error(ref, status.SpecError, ReasonTLSUpstreamValidation, "TLS upstream validation policy error: %s", err)
			}
			return nil, false
		}
		if len(uv.SubjectNames[0]) > maxServerName {
			report.Error(ref, status.SpecError, ReasonTLSUpstreamValidation,
				"TLS upstream validation policy error: the subject name (%d bytes) is sent as the server name (SNI), which TLS limits to %d bytes", len(uv.SubjectNames[0]), maxServerName)
			return nil, false
		}
		c.Validation, c.SNI = uv, uv.SubjectNames[0]
		if proto != "h2" {
			report.Error(ref, status.SpecError, ReasonInconsistentProtocol, "upstream TLS validation not supported for %q protocol", proto)
			ok = false
		}
	}
	if !b.extensionTargets(e, c.Extension, ref, report) {
		ok = false
	}
	if !ok {
		return nil, false
	}
	return x, true
}

// extensionTimeouts reads spec.timeoutPolicy: response is the default
// authorization timeout, idleConnection the idle timeout of the cluster's
// connections, idle is not supported (the filter has none).
func extensionTimeouts(e *contourv1alpha1.ExtensionService, x *Extension, ref status.Ref, report *status.Report) bool {
	t := e.Spec.TimeoutPolicy
	if t == nil {
		return true
	}
	if t.Response != "" {
		d, inf, err := parseTimeout(t.Response)
		if err != nil {
			report.Error(ref, status.SpecError, ReasonTimeoutPolicyNotValid,
				"Spec.TimeoutPolicy.Response %q is not a duration or \"infinity\"", t.Response)
			return false
		}
		x.Timeout = Timeout{Duration: d, Infinite: inf}
	}
	if t.Idle != "" {
		report.Warning(ref, status.SpecError, ReasonIgnoredField,
			"ignoring field %q; idle timeouts are not supported for ExtensionClusters", ".Spec.TimeoutPolicy.Idle")
	}
	idle, err := idleConnection(t)
	if err != nil {
		report.Error(ref, status.SpecError, ReasonTimeoutPolicyNotValid,
			"Spec.TimeoutPolicy.IdleConnection %q is not a duration or \"infinity\"", t.IdleConnection)
		return false
	}
	x.Cluster.IdleConnection = idle // of the cluster's connections, as a route's
	return true
}

// extensionTargets resolves the Services of e (of its own namespace only,
// as Contour: a reference elsewhere could reach what the proxy's owner
// may not). Each unresolved one is an error.
func (b *builder) extensionTargets(e *contourv1alpha1.ExtensionService, up *ExtensionUpstream, ref status.Ref, report *status.Report) bool {
	ok := true
	if len(e.Spec.Services) == 0 {
		report.Error(ref, status.ServiceError, ReasonServiceUnresolved, "Spec.Services must name at least one Service")
		return false
	}
	for i, t := range e.Spec.Services {
		if b.externalNameService(e.Namespace, t.Name, t.Port) {
			// Whether or not ExternalName Services are enabled, as in
			// Contour: an extension cluster balances over endpoints.
			report.Error(ref, status.ServiceError, ReasonUnsupportedServiceType,
				"Spec.Services[%d]: Service %q is of unsupported type %q", i, e.Namespace+"/"+t.Name, corev1.ServiceTypeExternalName)
			ok = false
			continue
		}
		c, err := b.lookupServicePort(e.Namespace, t.Name, t.Port)
		if err != nil {
			report.Error(ref, status.ServiceError, err.(*LookupError).Reason, "Spec.Services[%d]: %s", i, err)
			ok = false
			continue
		}
		up.Targets = append(up.Targets, ExtensionTarget{Service: t.Name, Port: c.Port, Weight: t.Weight})
	}
	return ok
}

// externalNameService reports whether namespace/name is an ExternalName
// Service with the given TCP port (without it, the reference is
// unresolved, as any other).
func (b *builder) externalNameService(namespace, name string, port int) bool {
	svc, ok := b.idx.Services[source.Key(namespace, name)]
	if !ok || svc.Type != corev1.ServiceTypeExternalName || !validPort(port) {
		return false
	}
	sp, ok := findPort(svc, intstr.FromInt32(int32(port)))
	return ok && (sp.Protocol == "" || sp.Protocol == corev1.ProtocolTCP)
}

// ExtensionClusterName is the Envoy cluster (and ClusterLoadAssignment)
// name of the ExtensionService namespace/name, Contour's.
func ExtensionClusterName(namespace, name string) string {
	return fmt.Sprintf("extension/%s/%s", namespace, name)
}
