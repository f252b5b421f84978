package router

import (
	"fmt"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

// localRateLimitFilter is the name under which virtual hosts and routes
// configure Envoy's local rate limit filter (Contour's and Isobar's).
const localRateLimitFilter = "envoy.filters.http.local_ratelimit"

// rateLimit traces the local rate limit a request reaching route rt of
// vh is subject to: the route's own configuration, else the virtual
// host's (Envoy takes the most specific). The simulator evaluates one
// request, so it never counts tokens: it says what applies, not whether
// this request would be limited.
func rateLimit(vh *routev3.VirtualHost, rt *routev3.Route, res *Result) {
	cfg, where := mostSpecific(vh, rt, localRateLimitFilter)
	if cfg == nil {
		return
	}
	var rl localratelimitv3.LocalRateLimit
	if err := cfg.UnmarshalTo(&rl); err != nil {
		res.tracef("local rate limit (%s): configuration not readable: %v", where, err)
		return
	}
	tb := rl.GetTokenBucket()
	if tb == nil {
		return
	}
	enabled, enforced := percent(rl.GetFilterEnabled().GetDefaultValue()), percent(rl.GetFilterEnforced().GetDefaultValue())
	if enabled == 0 || enforced == 0 {
		res.tracef("local rate limit (%s): configured but not enforced (enabled for %s, enforced for %s of requests)",
			where, percentString(enabled), percentString(enforced))
		return
	}
	fill := tb.GetTokensPerFill().GetValue()
	if tb.GetTokensPerFill() == nil {
		fill = 1 // Envoy's default
	}
	code := uint32(rl.GetStatus().GetCode())
	if code == 0 {
		code = 429
	}
	burst := ""
	if tb.GetMaxTokens() > fill {
		burst = fmt.Sprintf(" (burst %d)", tb.GetMaxTokens()-fill)
	}
	scope := ""
	if enabled < 1 || enforced < 1 {
		scope = fmt.Sprintf(" for %s of requests", percentString(enabled*enforced))
	}
	requests := "requests"
	if fill == 1 {
		requests = "request"
	}
	res.tracef("local rate limit (%s): %d %s per %s%s, then %d%s (each Envoy keeps its own bucket; the simulator does not count tokens)",
		where, fill, requests, per(tb.GetFillInterval().AsDuration()), burst, code, scope)
}

// per names a fill interval: second, minute, hour, or the duration.
func per(d time.Duration) string {
	switch d {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	}
	return d.String()
}

// percent is a fractional percent as a fraction of 1; nil is 0 (Envoy's
// default for the local rate limit filter's runtime fractions).
func percent(p *typev3.FractionalPercent) float64 {
	if p == nil {
		return 0
	}
	den := map[typev3.FractionalPercent_DenominatorType]float64{
		typev3.FractionalPercent_HUNDRED:      100,
		typev3.FractionalPercent_TEN_THOUSAND: 10000,
		typev3.FractionalPercent_MILLION:      1000000,
	}[p.GetDenominator()]
	if den == 0 {
		return 0
	}
	return min(float64(p.GetNumerator())/den, 1)
}

// percentString renders a fraction of 1 as a percentage.
func percentString(f float64) string { return fmt.Sprintf("%g%%", f*100) }
