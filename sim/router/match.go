package router

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// matcher holds the parts of a request that routes match against.
type matcher struct {
	path      string // without the query
	headers   map[string]string
	authority string
	method    string
	query     url.Values
}

// header returns a request header, including the pseudo-headers Envoy
// exposes to header matchers.
func (m *matcher) header(name string) (string, bool) {
	switch strings.ToLower(name) {
	case ":authority", "host":
		return m.authority, true
	case ":method":
		return m.method, true
	case ":path":
		return m.path, true
	}
	v, ok := m.headers[strings.ToLower(name)]
	return v, ok
}

// match reports whether rm matches and, if not, why.
func (m *matcher) match(rm *routev3.RouteMatch) (bool, string) {
	if ok, why := m.matchPath(rm); !ok {
		return false, why
	}
	for _, h := range rm.GetHeaders() {
		if !m.matchHeader(h) {
			return false, fmt.Sprintf("header condition %s is not met", describeHeader(h))
		}
	}
	for _, q := range rm.GetQueryParameters() {
		if !m.matchQuery(q) {
			return false, fmt.Sprintf("query condition %s is not met", describeQuery(q))
		}
	}
	return true, ""
}

func (m *matcher) matchPath(rm *routev3.RouteMatch) (bool, string) {
	sensitive := rm.GetCaseSensitive() == nil || rm.GetCaseSensitive().GetValue()
	path, fold := m.path, func(s string) string { return s }
	if !sensitive {
		fold = strings.ToLower
		path = fold(path)
	}
	switch ps := rm.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		if strings.HasPrefix(path, fold(ps.Prefix)) {
			return true, ""
		}
		return false, fmt.Sprintf("path %q does not start with %q", m.path, ps.Prefix)
	case *routev3.RouteMatch_Path:
		if path == fold(ps.Path) {
			return true, ""
		}
		return false, fmt.Sprintf("path %q is not %q", m.path, ps.Path)
	case *routev3.RouteMatch_PathSeparatedPrefix:
		pre := fold(ps.PathSeparatedPrefix)
		if path == pre || strings.HasPrefix(path, pre+"/") {
			return true, ""
		}
		return false, fmt.Sprintf("path %q is not %q and not below %q/", m.path, ps.PathSeparatedPrefix, ps.PathSeparatedPrefix)
	case *routev3.RouteMatch_SafeRegex:
		re, err := compile(ps.SafeRegex.GetRegex())
		if err != nil {
			return false, fmt.Sprintf("regex %q does not compile: %v", ps.SafeRegex.GetRegex(), err)
		}
		if re.MatchString(m.path) {
			return true, ""
		}
		return false, fmt.Sprintf("path %q does not match regex %q", m.path, ps.SafeRegex.GetRegex())
	}
	return false, "unsupported path matcher"
}

// matchHeader follows Envoy's HeaderUtility: a missing header (unless
// treated as empty) matches only a present_match saying it is absent
// (present_match: false, or true inverted); any other matcher, inverted or
// not, does not match it (Envoy's treat_missing_header_as_empty
// documentation: the rule "will not match"; Contour's notcontains and
// notexact conditions need the header).
func (m *matcher) matchHeader(h *routev3.HeaderMatcher) bool {
	v, present := m.header(h.GetName())
	_, isPresent := h.GetHeaderMatchSpecifier().(*routev3.HeaderMatcher_PresentMatch)
	if !present && !h.GetTreatMissingHeaderAsEmpty() {
		return isPresent && h.GetPresentMatch() == h.GetInvertMatch()
	}
	var ok bool
	switch spec := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_PresentMatch:
		ok = spec.PresentMatch
	case *routev3.HeaderMatcher_StringMatch:
		ok = matchString(spec.StringMatch, v)
	case *routev3.HeaderMatcher_ExactMatch:
		ok = v == spec.ExactMatch
	case *routev3.HeaderMatcher_PrefixMatch:
		ok = strings.HasPrefix(v, spec.PrefixMatch)
	case *routev3.HeaderMatcher_SuffixMatch:
		ok = strings.HasSuffix(v, spec.SuffixMatch)
	case *routev3.HeaderMatcher_ContainsMatch:
		ok = strings.Contains(v, spec.ContainsMatch)
	case *routev3.HeaderMatcher_SafeRegexMatch:
		re, err := compile(spec.SafeRegexMatch.GetRegex())
		ok = err == nil && re.MatchString(v)
	case nil:
		ok = true
	}
	if h.GetInvertMatch() {
		return !ok
	}
	return ok
}

func (m *matcher) matchQuery(q *routev3.QueryParameterMatcher) bool {
	vs, present := m.query[q.GetName()]
	switch spec := q.GetQueryParameterMatchSpecifier().(type) {
	case *routev3.QueryParameterMatcher_PresentMatch:
		return present == spec.PresentMatch
	case *routev3.QueryParameterMatcher_StringMatch:
		// Envoy matches the first value of a repeated parameter.
		return present && len(vs) > 0 && matchString(spec.StringMatch, vs[0])
	}
	return present
}

// matchString applies a StringMatcher.
func matchString(sm *matcherv3.StringMatcher, v string) bool {
	fold := func(s string) string { return s }
	if sm.GetIgnoreCase() {
		fold = strings.ToLower
	}
	switch p := sm.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return fold(v) == fold(p.Exact)
	case *matcherv3.StringMatcher_Prefix:
		return strings.HasPrefix(fold(v), fold(p.Prefix))
	case *matcherv3.StringMatcher_Suffix:
		return strings.HasSuffix(fold(v), fold(p.Suffix))
	case *matcherv3.StringMatcher_Contains:
		return strings.Contains(fold(v), fold(p.Contains))
	case *matcherv3.StringMatcher_SafeRegex:
		re, err := compile(p.SafeRegex.GetRegex())
		return err == nil && re.MatchString(v)
	}
	return false
}

var regexCache sync.Map // pattern → *regexp.Regexp (full match)

// compile returns a regexp that must match the whole input, as Envoy's
// safe_regex does.
func compile(pattern string) (*regexp.Regexp, error) {
	if re, ok := regexCache.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, err
	}
	regexCache.Store(pattern, re)
	return re, nil
}

// normalizePath removes dot segments (RFC 3986 §5.2.4), as Envoy's
// normalize_path does.
func normalizePath(p string) string {
	if !strings.Contains(p, "/.") {
		return p
	}
	var out []string
	for _, seg := range strings.Split(p, "/")[1:] {
		switch seg {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	res := "/" + strings.Join(out, "/")
	if (strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")) && !strings.HasSuffix(res, "/") {
		res += "/"
	}
	return res
}

// mergeSlashes replaces each run of slashes by one, as Envoy's
// merge_slashes does (after normalize_path).
func mergeSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// describeMatch renders a route's conditions: "prefix:/blog",
// "segment:/api", "exact:/x", "regex:^/v[0-9]+" and then header and query
// conditions.
func describeMatch(rm *routev3.RouteMatch) string {
	var s string
	switch ps := rm.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		s = "prefix:" + ps.Prefix
	case *routev3.RouteMatch_Path:
		s = "exact:" + ps.Path
	case *routev3.RouteMatch_PathSeparatedPrefix:
		s = "segment:" + ps.PathSeparatedPrefix
	case *routev3.RouteMatch_SafeRegex:
		s = "regex:" + ps.SafeRegex.GetRegex()
	default:
		s = "any"
	}
	for _, h := range rm.GetHeaders() {
		if h.GetName() == ":authority" {
			continue // the wildcard label check every route of a wildcard host carries
		}
		s += " header:" + describeHeader(h)
	}
	for _, q := range rm.GetQueryParameters() {
		s += " query:" + describeQuery(q)
	}
	return s
}

func describeHeader(h *routev3.HeaderMatcher) string {
	not := ""
	if h.GetInvertMatch() {
		not = "!"
	}
	switch spec := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_PresentMatch:
		if !spec.PresentMatch {
			return not + h.GetName() + " absent"
		}
		return not + h.GetName() + " present"
	case *routev3.HeaderMatcher_StringMatch:
		return h.GetName() + " " + not + describeString(spec.StringMatch)
	}
	return not + h.GetName()
}

func describeQuery(q *routev3.QueryParameterMatcher) string {
	if q.GetPresentMatch() {
		return q.GetName() + " present"
	}
	return q.GetName() + " " + describeString(q.GetStringMatch())
}

func describeString(sm *matcherv3.StringMatcher) string {
	ic := ""
	if sm.GetIgnoreCase() {
		ic = " (ignore case)"
	}
	switch p := sm.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return fmt.Sprintf("=%q%s", p.Exact, ic)
	case *matcherv3.StringMatcher_Prefix:
		return fmt.Sprintf("prefix %q%s", p.Prefix, ic)
	case *matcherv3.StringMatcher_Suffix:
		return fmt.Sprintf("suffix %q%s", p.Suffix, ic)
	case *matcherv3.StringMatcher_Contains:
		return fmt.Sprintf("contains %q%s", p.Contains, ic)
	case *matcherv3.StringMatcher_SafeRegex:
		return fmt.Sprintf("~%q", p.SafeRegex.GetRegex())
	}
	return "?"
}
