package translate

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	ratelimitconfv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// rateLimitFilter is the ratelimit HTTP filter every connection manager
// carries when a rate limit service is configured (nil without), as
// Contour writes it: the service's domain, its ExtensionService's response
// timeout as the filter's, a gRPC call (transport API v3) to the
// ExtensionService's cluster (registered here), requests refused when the
// service fails unless failing open, and the optional X-RateLimit headers
// and RESOURCE_EXHAUSTED answers.
func (t *translator) rateLimitFilter() *hcmv3.HttpFilter {
	rl := t.rateLimit
	if rl == nil {
		return nil
	}
	name := t.cluster(rl.Cluster)
	authority := strings.ReplaceAll(name, "/", ".")
	if rl.Cluster.SNI != "" {
		authority = rl.Cluster.SNI
	}
	cfg := &ratelimitv3.RateLimit{
		Domain:          rl.Service.Domain,
		Timeout:         rl.Timeout.Proto(),
		FailureModeDeny: !rl.Service.FailOpen,
		RateLimitService: &ratelimitconfv3.RateLimitServiceConfig{
			GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: name, Authority: authority}}},
			TransportApiVersion: corev3.ApiVersion_V3,
		},
		RateLimitedAsResourceExhausted: rl.Service.ResourceExhaustedCode,
	}
	if rl.Service.XRateLimitHeaders {
		cfg.EnableXRatelimitHeaders = ratelimitv3.RateLimit_DRAFT_VERSION_03
	}
	return &hcmv3.HttpFilter{Name: envoy.RateLimitFilter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: envoy.Any(cfg)}}
}

// globalRateLimits are the rate_limits of a virtual host or a route
// action: one per descriptor, one action per entry (nil without
// descriptors).
func globalRateLimits(ds []graph.RateLimitDescriptor) []*routev3.RateLimit {
	var out []*routev3.RateLimit
	for _, d := range ds {
		rl := &routev3.RateLimit{}
		for _, e := range d.Entries {
			rl.Actions = append(rl.Actions, rateLimitAction(e))
		}
		out = append(out, rl)
	}
	return out
}

// rateLimitAction is the action producing entry e of a descriptor.
func rateLimitAction(e graph.RateLimitEntry) *routev3.RateLimit_Action {
	switch e.Kind {
	case graph.GenericKeyEntry:
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{
			GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorKey: e.Key, DescriptorValue: e.Value}}}
	case graph.RequestHeaderEntry:
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{
			RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{HeaderName: e.Header, DescriptorKey: e.Key}}}
	case graph.HeaderValueMatchEntry:
		m := &routev3.RateLimit_Action_HeaderValueMatch{DescriptorValue: e.Value, ExpectMatch: wrapperspb.Bool(e.ExpectMatch)}
		for _, h := range e.Headers {
			m.Headers = append(m.Headers, headerMatcher(h))
		}
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_HeaderValueMatch_{HeaderValueMatch: m}}
	}
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{
		RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}}
}

// routeGlobalRateLimit adds to forwarding route out, when its global
// policy ignores its virtual host's, the ratelimit filter's per-route
// configuration saying so (added to the route's typed_per_filter_config,
// as Contour writes it); routeAction puts the policy's descriptors on the
// action.
func routeGlobalRateLimit(out *routev3.Route, r *graph.Route) {
	if !r.IgnoreHostRateLimits {
		return
	}
	setPerFilter(&out.TypedPerFilterConfig, envoy.RateLimitFilter, envoy.Any(&ratelimitv3.RateLimitPerRoute{
		VhRateLimits: ratelimitv3.RateLimitPerRoute_IGNORE}))
}
