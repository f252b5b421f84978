package translate

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// routeMatch fills s's match with the path and query conditions of r (a
// prefix in s's prefix) and the header conditions headers.
func routeMatch(s *routeSlot, r *graph.Route, headers []*routev3.HeaderMatcher) {
	m := &s.match
	switch r.Path.Kind {
	case graph.PathExact:
		m.PathSpecifier = &routev3.RouteMatch_Path{Path: r.Path.Value}
	case graph.PathRegex:
		m.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: r.Path.Value}}
	case graph.PathSegmentPrefix:
		// Envoy rejects a trailing slash in path_separated_prefix; the
		// segment prefix "/" is every path.
		if v := strings.TrimRight(r.Path.Value, "/"); v == "" {
			s.prefix.Prefix = "/"
			m.PathSpecifier = &s.prefix
		} else {
			m.PathSpecifier = &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: v}
		}
	default:
		s.prefix.Prefix = r.Path.Value
		m.PathSpecifier = &s.prefix
	}
	m.Headers = headers
	for _, q := range r.Query {
		m.QueryParameters = append(m.QueryParameters, queryMatcher(q))
	}
}

func stringMatcher(kind string, value string, ignoreCase bool) *matcherv3.StringMatcher {
	sm := &matcherv3.StringMatcher{}
	setStringMatcher(sm, kind, value, ignoreCase)
	return sm
}

// setStringMatcher fills sm to match value as kind says.
func setStringMatcher(sm *matcherv3.StringMatcher, kind string, value string, ignoreCase bool) {
	sm.IgnoreCase = ignoreCase
	switch kind {
	case "exact":
		sm.MatchPattern = &matcherv3.StringMatcher_Exact{Exact: value}
	case "prefix":
		sm.MatchPattern = &matcherv3.StringMatcher_Prefix{Prefix: value}
	case "suffix":
		sm.MatchPattern = &matcherv3.StringMatcher_Suffix{Suffix: value}
	case "contains":
		sm.MatchPattern = &matcherv3.StringMatcher_Contains{Contains: value}
	case "regex":
		sm.IgnoreCase = false // not allowed with safe_regex; the processor folds it into the pattern
		sm.MatchPattern = &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: value}}
	}
}

func headerMatcher(h graph.HeaderMatch) *routev3.HeaderMatcher {
	return new(headerSlot).fill(h)
}

// fill makes s's header matcher the condition h, and returns it.
func (s *headerSlot) fill(h graph.HeaderMatch) *routev3.HeaderMatcher {
	hm := &s.header
	hm.Name, hm.InvertMatch, hm.TreatMissingHeaderAsEmpty = h.Name, h.Invert, h.TreatMissingAsEmpty
	if h.Kind == graph.HeaderPresent {
		// "not present" is present_match: false; Envoy does not invert
		// present_match on a missing header.
		hm.InvertMatch = false
		hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: !h.Invert}
		return hm
	}
	if h.Kind == graph.HeaderExact {
		s.exact.Exact = h.Value
		s.value.MatchPattern, s.value.IgnoreCase = &s.exact, h.IgnoreCase
	} else {
		setStringMatcher(&s.value, h.Kind.String(), h.Value, h.IgnoreCase)
	}
	s.match.StringMatch = &s.value
	hm.HeaderMatchSpecifier = &s.match
	return hm
}

func queryMatcher(q graph.QueryMatch) *routev3.QueryParameterMatcher {
	qm := &routev3.QueryParameterMatcher{Name: q.Name}
	if q.Kind == graph.QueryPresent {
		qm.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}
		return qm
	}
	qm.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_StringMatch{StringMatch: stringMatcher(q.Kind.String(), q.Value, q.IgnoreCase)}
	return qm
}

// headers translates a header policy into additions (overwriting) and removals.
func headers(p *graph.HeadersPolicy) ([]*corev3.HeaderValueOption, []string) {
	if p == nil {
		return nil, nil
	}
	var add []*corev3.HeaderValueOption
	for _, h := range p.Set {
		add = append(add, &corev3.HeaderValueOption{
			Header:       &corev3.HeaderValue{Key: h.Name, Value: h.Value},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		})
	}
	return add, p.Remove
}
