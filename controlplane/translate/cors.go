package translate

import (
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// addCORS puts vh's CORS policy, if any, where Contour puts it: the virtual
// host's typed_per_filter_config under the CORS filter's name (the filter
// itself is in every HTTP connection manager).
func addCORS(out *routev3.VirtualHost, vh *graph.VirtualHost) {
	if vh.CORS == nil {
		return
	}
	setPerFilter(&out.TypedPerFilterConfig, envoy.CORSFilter, envoy.Any(corsPolicy(vh.CORS)))
}

// corsPolicy is Envoy's form of p, as Contour writes it: the lists joined
// with ",", exact origins compared without regard to case, regexes as
// safe_regex, max_age in whole seconds ("0" disables caching, unset leaves
// it to the browser), and the two flags always stated.
func corsPolicy(p *graph.CORSPolicy) *corsv3.CorsPolicy {
	out := &corsv3.CorsPolicy{
		AllowMethods:              strings.Join(p.AllowMethods, ","),
		AllowHeaders:              strings.Join(p.AllowHeaders, ","),
		ExposeHeaders:             strings.Join(p.ExposeHeaders, ","),
		AllowCredentials:          wrapperspb.Bool(p.AllowCredentials),
		AllowPrivateNetworkAccess: wrapperspb.Bool(p.AllowPrivateNetwork),
	}
	if p.MaxAge != nil {
		// Whole seconds, the nearest (ties to even), as Contour's "%.0f":
		// under half a second gives "0".
		out.MaxAge = strconv.FormatFloat(p.MaxAge.Seconds(), 'f', 0, 64)
	}
	out.AllowOriginStringMatch = make([]*matcherv3.StringMatcher, len(p.AllowOrigin))
	for i, o := range p.AllowOrigin {
		if o.Regex {
			out.AllowOriginStringMatch[i] = &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
				SafeRegex: &matcherv3.RegexMatcher{Regex: o.Value}}}
			continue
		}
		out.AllowOriginStringMatch[i] = &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: o.Value},
			IgnoreCase: true}
	}
	return out
}
