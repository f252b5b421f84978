package router

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestRateLimitTrace: the trace says which local rate limit applies to a
// matched route (the route's own, else the virtual host's), read from
// hand-written Envoy configuration.
func TestRateLimitTrace(t *testing.T) {
	t.Parallel()
	pct := func(n uint32, d typev3.FractionalPercent_DenominatorType) *corev3.RuntimeFractionalPercent {
		return &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: n, Denominator: d}}
	}
	all := pct(100, typev3.FractionalPercent_HUNDRED)
	limit := func(maxTokens, fill uint32, every time.Duration, code typev3.StatusCode, enabled, enforced *corev3.RuntimeFractionalPercent) map[string]*anypb.Any {
		rl := &localratelimitv3.LocalRateLimit{StatPrefix: "vhost.a.com",
			TokenBucket:   &typev3.TokenBucket{MaxTokens: maxTokens, TokensPerFill: wrapperspb.UInt32(fill), FillInterval: durationpb.New(every)},
			FilterEnabled: enabled, FilterEnforced: enforced}
		if code != 0 {
			rl.Status = &typev3.HttpStatus{Code: code}
		}
		a, err := anypb.New(rl)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]*anypb.Any{"envoy.filters.http.local_ratelimit": a}
	}
	for name, tc := range map[string]struct {
		vhost, route map[string]*anypb.Any
		want         []string
	}{
		"none": {want: []string{}},
		"the virtual host's, Envoy's default status": {
			vhost: limit(110, 100, time.Minute, 0, all, all),
			want:  []string{"local rate limit (virtual host): 100 requests per minute (burst 10), then 429 (each Envoy keeps its own bucket; the simulator does not count tokens)"},
		},
		"the route's replaces the virtual host's": {
			vhost: limit(110, 100, time.Minute, 0, all, all),
			route: limit(5, 5, time.Second, typev3.StatusCode_ServiceUnavailable, all, all),
			want:  []string{"local rate limit (route): 5 requests per second, then 503 (each Envoy keeps its own bucket; the simulator does not count tokens)"},
		},
		"an unusual interval, part of the requests": {
			route: limit(1, 1, 90*time.Second, 0, pct(5000, typev3.FractionalPercent_TEN_THOUSAND), all),
			want:  []string{"local rate limit (route): 1 request per 1m30s, then 429 for 50% of requests (each Envoy keeps its own bucket; the simulator does not count tokens)"},
		},
		"not enabled (Envoy's default)": {
			vhost: limit(1, 1, time.Hour, 0, nil, all),
			want:  []string{"local rate limit (virtual host): configured but not enforced (enabled for 0%, enforced for 100% of requests)"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := &Result{Trace: []string{}}
			rateLimit(&routev3.VirtualHost{Name: "a.com", TypedPerFilterConfig: tc.vhost}, &routev3.Route{TypedPerFilterConfig: tc.route}, res)
			if d := cmp.Diff(tc.want, res.Trace); d != "" {
				t.Errorf("trace (-want +got):\n%s", d)
			}
		})
	}
}
