package graph

import (
	"fmt"
	"strings"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// RateLimitService is Contour's rateLimitService setting: the
// ExtensionService every connection manager asks, with Envoy's ratelimit
// filter, whether a request is over a limit of a global policy
// (HTTPProxy rateLimitPolicy.global). Unconfigured (Name empty), there is
// no filter, and global policies are reported ignored.
type RateLimitService struct {
	// Namespace and Name are the ExtensionService's.
	Namespace, Name string
	// Domain is the rate limit domain the filter sends.
	Domain string
	// FailOpen lets requests through when the service fails or does not
	// answer in time (Envoy's failure_mode_deny false).
	FailOpen bool
	// XRateLimitHeaders adds the X-RateLimit-* headers (draft 03) to
	// answers.
	XRateLimitHeaders bool
	// ResourceExhaustedCode answers limited gRPC requests
	// RESOURCE_EXHAUSTED instead of UNAVAILABLE.
	ResourceExhaustedCode bool
	// Default are the descriptors of Contour's defaultGlobalRateLimitPolicy
	// (see DefaultGlobalRateLimit): those of every virtual host that has no
	// global policy of its own and does not disable it.
	Default []RateLimitDescriptor
}

// DefaultGlobalRateLimit reads Contour's defaultGlobalRateLimitPolicy as
// an HTTPProxy's global policy is read (none when disabled); its errors
// name the field.
func DefaultGlobalRateLimit(p *contourv1.GlobalRateLimitPolicy) ([]RateLimitDescriptor, error) {
	d, _, err := globalRateLimit(&contourv1.RateLimitPolicy{Global: p}, "defaultGlobalRateLimitPolicy")
	return d, err
}

// Configured reports whether s names an ExtensionService.
func (s RateLimitService) Configured() bool { return s.Name != "" }

// ParseRateLimitService reads Contour's extensionService value,
// "namespace/name" (both DNS labels), into s's Namespace and Name.
func (s *RateLimitService) ParseRateLimitService(v string) error {
	ns, name, err := parseExtensionServiceRef(v)
	if err == nil {
		s.Namespace, s.Name = ns, name
	}
	return err
}

// parseExtensionServiceRef reads the "namespace/name" (both DNS labels)
// by which Contour's configuration names an ExtensionService.
func parseExtensionServiceRef(v string) (namespace, name string, err error) {
	ns, name, ok := strings.Cut(v, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("%q is not namespace/name of an ExtensionService", v)
	}
	for _, part := range []string{ns, name} {
		if err := dnsLabel(part); err != nil {
			return "", "", fmt.Errorf("%q: %w", v, err)
		}
	}
	return ns, name, nil
}

// dnsLabel checks a Kubernetes namespace or object name: 1 to 63
// lower-case letters, digits and inner dashes (names of ExtensionServices
// may not hold dots either: they become parts of an Envoy authority).
func dnsLabel(s string) error {
	if len(s) > 63 {
		return fmt.Errorf("%q is longer than 63 characters", s)
	}
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < len(s)-1) {
			return fmt.Errorf("%q is not a DNS label (lower-case letters, digits and inner dashes)", s)
		}
	}
	return nil
}

// GlobalRateLimit is a configured rate limit service that exists and is
// valid: its settings, its ExtensionService's cluster and its response
// timeout (the filter's).
type GlobalRateLimit struct {
	Service RateLimitService
	Cluster *Cluster
	Timeout Timeout
}

// FindingRateLimitServiceNotFound is Isobar's finding for a
// rateLimitService naming an ExtensionService that does not exist or is
// not valid: Contour refuses to start; Isobar serves without the filter.
const FindingRateLimitServiceNotFound = "RateLimitServiceNotFound"

// RateLimitEntryKind is what a descriptor entry takes from a request.
type RateLimitEntryKind int

// Descriptor entry kinds, as HTTPProxy names them.
const (
	GenericKeyEntry RateLimitEntryKind = iota
	RequestHeaderEntry
	HeaderValueMatchEntry
	RemoteAddressEntry
)

// RateLimitEntry is one entry of a descriptor.
type RateLimitEntry struct {
	Kind RateLimitEntryKind
	// Key is the descriptor key of a generic key (empty: Envoy's
	// "generic_key") or of a request header.
	Key string
	// Value is the value of a generic key or of a header value match.
	Value string
	// Header is the request header whose value a RequestHeaderEntry takes.
	Header string
	// Headers and ExpectMatch: a HeaderValueMatchEntry is Value when the
	// request matches all of Headers (ExpectMatch) or does not.
	Headers     []HeaderMatch
	ExpectMatch bool
}

// RateLimitDescriptor is a list of entries sent as one descriptor; a
// request missing one of them sends no descriptor (Envoy's rule).
type RateLimitDescriptor struct {
	Entries []RateLimitEntry
}

// globalRateLimit reads the global part of an HTTPProxy rateLimitPolicy;
// field names that part in messages ("rateLimitPolicy.global"). It returns its descriptors (none when
// absent, empty or disabled) and whether it is disabled. Invalid entries
// are errors, as in Contour's RateLimitPolicyNotValid.
func globalRateLimit(p *contourv1.RateLimitPolicy, field string) ([]RateLimitDescriptor, bool, error) {
	if p == nil || p.Global == nil {
		return nil, false, nil
	}
	if p.Global.Disabled {
		return nil, true, nil
	}
	var out []RateLimitDescriptor
	for i, d := range p.Global.Descriptors {
		at := fmt.Sprintf("%s.descriptors[%d]", field, i)
		if len(d.Entries) == 0 {
			return nil, false, fmt.Errorf("%s.entries: must have at least one entry", at)
		}
		var rd RateLimitDescriptor
		for j := range d.Entries {
			e, err := rateLimitEntry(&d.Entries[j])
			if err != nil {
				return nil, false, fmt.Errorf("%s.entries[%d]%s", at, j, err)
			}
			rd.Entries = append(rd.Entries, e)
		}
		out = append(out, rd)
	}
	return out, false, nil
}

// rateLimitEntry reads one entry; its errors start with the field they
// are about (".genericKey.value: ...").
func rateLimitEntry(in *contourv1.RateLimitDescriptorEntry) (RateLimitEntry, error) {
	set := 0
	for _, s := range []bool{in.GenericKey != nil, in.RequestHeader != nil, in.RequestHeaderValueMatch != nil, in.RemoteAddress != nil} {
		if s {
			set++
		}
	}
	if set != 1 {
		return RateLimitEntry{}, fmt.Errorf(": must set exactly one of genericKey, requestHeader, requestHeaderValueMatch or remoteAddress")
	}
	switch {
	case in.GenericKey != nil:
		if in.GenericKey.Value == "" {
			return RateLimitEntry{}, fmt.Errorf(".genericKey.value: must not be empty")
		}
		return RateLimitEntry{Kind: GenericKeyEntry, Key: in.GenericKey.Key, Value: in.GenericKey.Value}, nil
	case in.RequestHeader != nil:
		h := in.RequestHeader
		if err := validateHeaderName(h.HeaderName, false); err != nil {
			return RateLimitEntry{}, fmt.Errorf(".requestHeader.headerName: %w", err)
		}
		if h.DescriptorKey == "" {
			return RateLimitEntry{}, fmt.Errorf(".requestHeader.descriptorKey: must not be empty")
		}
		return RateLimitEntry{Kind: RequestHeaderEntry, Header: h.HeaderName, Key: h.DescriptorKey}, nil
	case in.RequestHeaderValueMatch != nil:
		return headerValueMatchEntry(in.RequestHeaderValueMatch)
	}
	return RateLimitEntry{Kind: RemoteAddressEntry}, nil
}

// headerValueMatchEntry reads a requestHeaderValueMatch entry: its
// headers are checked as route header conditions.
func headerValueMatchEntry(m *contourv1.RequestHeaderValueMatchDescriptor) (RateLimitEntry, error) {
	if m.Value == "" {
		return RateLimitEntry{}, fmt.Errorf(".requestHeaderValueMatch.value: must not be empty")
	}
	if len(m.Headers) == 0 {
		return RateLimitEntry{}, fmt.Errorf(".requestHeaderValueMatch.headers: must have at least one header condition")
	}
	e := RateLimitEntry{Kind: HeaderValueMatchEntry, Value: m.Value, ExpectMatch: m.ExpectMatch == nil || *m.ExpectMatch}
	for i := range m.Headers {
		h, _, err := headerCondition(&m.Headers[i], nil)
		if err != nil {
			return RateLimitEntry{}, fmt.Errorf(".requestHeaderValueMatch.headers[%d]: %w", i, err)
		}
		e.Headers = append(e.Headers, h)
	}
	return e, nil
}

// warnGlobalRateLimitUnserved reports the virtual host's global policy of
// root ref ignored when no rate limit service is configured.
func (b *builder) warnGlobalRateLimitUnserved(ref status.Ref, vh *contourv1.VirtualHost) {
	if !b.opts.RateLimitService.Configured() && vh.RateLimitPolicy != nil && vh.RateLimitPolicy.Global != nil {
		b.report.Warning(ref, status.SpecError, ReasonIgnoredField,
			"Spec.VirtualHost.rateLimitPolicy.global is ignored: no rateLimitService is configured")
	}
}

// vhostGlobalRateLimit reads the virtual host's global policy of root ref
// (none without a configured rate limit service; it is checked all the
// same, as in Contour). A root without a policy of its own that does not
// disable it gets the service's default descriptors; as in Contour, a
// policy of its own is one with descriptors, or any (even empty) beside a
// local policy. A policy that cannot be used is an error on ref (ok
// false): the root then serves nothing.
func (b *builder) vhostGlobalRateLimit(ref status.Ref, vh *contourv1.VirtualHost) ([]RateLimitDescriptor, bool) {
	rl, disabled, err := globalRateLimit(vh.RateLimitPolicy, "Spec.VirtualHost.rateLimitPolicy.global")
	if err != nil {
		b.report.Error(ref, status.VirtualHostError, ReasonRateLimitPolicyNotValid, "%s", err)
		return nil, false
	}
	if !b.opts.RateLimitService.Configured() {
		return nil, true
	}
	p := vh.RateLimitPolicy
	own := p != nil && p.Global != nil && !p.Global.Disabled && (len(p.Global.Descriptors) > 0 || p.Local != nil)
	if !own && !disabled {
		return b.opts.RateLimitService.Default, true
	}
	return rl, true
}

// routeGlobalRateLimit reads route i's global policy into r. As in
// Contour, it applies only to routes forwarding to services; there,
// global.disabled makes the route ignore its virtual host's descriptors.
func (b *builder) routeGlobalRateLimit(r *Route, p *contourv1.HTTPProxy, spec *contourv1.Route, i int) error {
	rl, disabled, err := globalRateLimit(spec.RateLimitPolicy, "rateLimitPolicy.global")
	if err != nil {
		return routeError{status.RouteError, ReasonRateLimitPolicyNotValid, err.Error()}
	}
	if spec.RateLimitPolicy == nil || spec.RateLimitPolicy.Global == nil {
		return nil
	}
	switch {
	case !b.opts.RateLimitService.Configured():
		b.report.Warning(proxyRef(p), status.RouteError, ReasonIgnoredField,
			"Spec.Routes[%d].rateLimitPolicy.global is ignored: no rateLimitService is configured", i)
	case len(spec.Services) == 0:
		b.report.Warning(proxyRef(p), status.RouteError, ReasonIgnoredField,
			"Spec.Routes[%d].rateLimitPolicy.global applies only to routes that forward to services and is ignored", i)
	default:
		r.GlobalRateLimits, r.IgnoreHostRateLimits = rl, disabled
	}
	return nil
}

// rateLimitService records in the graph the configured rate limit service
// with its ExtensionService's cluster and timeout; when that
// ExtensionService does not exist or is not valid, it reports a finding
// instead and the connection managers get no ratelimit filter.
func (b *builder) rateLimitService() {
	s := b.opts.RateLimitService
	if !s.Configured() {
		return
	}
	x, ok := b.extension(s.Namespace, s.Name)
	if !ok {
		b.report.Find(status.Finding{Code: FindingRateLimitServiceNotFound, Severity: status.SeverityError,
			Objects: []status.Ref{{Kind: status.KindExtensionService, Namespace: s.Namespace, Name: s.Name}},
			Message: fmt.Sprintf("rateLimitService.extensionService: ExtensionService %s/%s does not exist or is not valid: "+
				"no connection manager asks a rate limit service, and global rate limits do not apply (Contour refuses to start)", s.Namespace, s.Name)})
		return
	}
	b.findNotHTTP2(x, "rateLimitService")
	b.g.RateLimit = &GlobalRateLimit{Service: s, Cluster: x.Cluster, Timeout: x.Timeout}
}
