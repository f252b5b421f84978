package graph

import (
	"fmt"
	"net/textproto"
	"strings"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// requestHashPolicies reads route i's loadBalancerPolicy.requestHashPolicies
// when its strategy is RequestHash, as Contour reads them: an entry that
// does not set exactly one of hashSourceIP, headerHashOptions and
// queryParameterHashOptions, that names an invalid header or an empty
// query parameter, or that hashes on what an earlier entry already does
// is left out with an IgnoredField warning naming it, and the others are
// kept. Header names are compared and sent in canonical form, query
// parameter names in lower case. When none is left, it warns and returns
// nil: the route's clusters then balance RoundRobin (routeServices).
func (b *builder) requestHashPolicies(p *contourv1.HTTPProxy, spec *contourv1.Route, i int) []HashPolicy {
	lb := spec.LoadBalancerPolicy
	if lb == nil || LoadBalancer(lb.Strategy) != RequestHash {
		return nil
	}
	ref := proxyRef(p)
	var out []HashPolicy
	seen := map[string]bool{} // "ip", "h:" + header, "q:" + parameter
	for j, h := range lb.RequestHashPolicies {
		hp, key, why := hashPolicy(h)
		if why == "" && seen[key] {
			why = "it hashes on " + hashInput(key) + ", as an earlier entry does"
		}
		if why != "" {
			b.report.Warning(ref, status.SpecError, ReasonIgnoredField,
				"Spec.Routes[%d].loadBalancerPolicy.requestHashPolicies[%d] is ignored: %s", i, j, why)
			continue
		}
		seen[key] = true
		out = append(out, hp)
	}
	if len(out) == 0 {
		b.report.Warning(ref, status.SpecError, ReasonIgnoredField,
			"Spec.Routes[%d].loadBalancerPolicy: strategy RequestHash has no valid requestHashPolicies; RoundRobin is used", i)
	}
	return out
}

// hashPolicy reads one request hash policy: the policy, the key of what it
// hashes on (for duplicates), or why it is ignored.
func hashPolicy(h contourv1.RequestHashPolicy) (HashPolicy, string, string) {
	set := 0
	for _, is := range []bool{h.HashSourceIP, h.HeaderHashOptions != nil, h.QueryParameterHashOptions != nil} {
		if is {
			set++
		}
	}
	if set != 1 {
		return HashPolicy{}, "", "it must set exactly one of hashSourceIP, headerHashOptions and queryParameterHashOptions"
	}
	hp := HashPolicy{Terminal: h.Terminal, SourceIP: h.HashSourceIP}
	switch {
	case h.HeaderHashOptions != nil:
		name := h.HeaderHashOptions.HeaderName
		if err := validateHeaderName(name, false); err != nil {
			return HashPolicy{}, "", "headerHashOptions.headerName: " + err.Error()
		}
		hp.Header = textproto.CanonicalMIMEHeaderKey(name)
		return hp, "h:" + hp.Header, ""
	case h.QueryParameterHashOptions != nil:
		hp.Query = strings.ToLower(h.QueryParameterHashOptions.ParameterName)
		if hp.Query == "" {
			return HashPolicy{}, "", "queryParameterHashOptions.parameterName is empty"
		}
		return hp, "q:" + hp.Query, ""
	}
	return hp, "ip", ""
}

// hashInput describes a hashPolicy key.
func hashInput(key string) string {
	switch {
	case key == "ip":
		return "the source address"
	case strings.HasPrefix(key, "h:"):
		return fmt.Sprintf("header %s", key[2:])
	}
	return fmt.Sprintf("query parameter %s", key[2:])
}
