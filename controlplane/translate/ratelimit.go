package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// setLocalRateLimit adds to the per-filter configuration config points at
// (a virtual host's or a route's) the local_ratelimit
// filter's (envoy.LocalRateLimitFilter) configuration for rl on virtual
// host vhost, as Contour writes it: a token bucket of rl.MaxTokens()
// tokens refilled with rl.Requests every rl.Unit, enabled and enforced for
// every request, answering rl.StatusCode (Envoy's 429 when 0) with rl's
// headers.
func setLocalRateLimit(config *map[string]*anypb.Any, rl *graph.LocalRateLimit, vhost string) {
	c := &localratelimitv3.LocalRateLimit{
		// Contour's prefix, for the host and its routes alike.
		StatPrefix: "vhost." + vhost,
		TokenBucket: &typev3.TokenBucket{
			MaxTokens:     rl.MaxTokens(),
			TokensPerFill: wrapperspb.UInt32(rl.Requests),
			FillInterval:  durationpb.New(rl.Unit.Interval()),
		},
		FilterEnabled:  allRequests(),
		FilterEnforced: allRequests(),
	}
	c.ResponseHeadersToAdd, _ = headers(&graph.HeadersPolicy{Set: rl.ResponseHeaders})
	if rl.StatusCode != 0 {
		c.Status = &typev3.HttpStatus{Code: typev3.StatusCode(rl.StatusCode)}
	}
	setPerFilter(config, envoy.LocalRateLimitFilter, envoy.Any(c))
}

// allRequests is a runtime fraction of 100%, with no runtime key.
func allRequests() *corev3.RuntimeFractionalPercent {
	return &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{
		Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED,
	}}
}
