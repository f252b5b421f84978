package graph

import (
	"fmt"
	"regexp"
	"strings"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// Reasons for HTTPProxy conditions, Contour's names.
const (
	ReasonPathMatchConditionsNotValid   = "PathMatchConditionsNotValid"
	ReasonHeaderMatchConditionsNotValid = "HeaderMatchConditionsNotValid"
	ReasonQueryMatchConditionsNotValid  = "QueryParameterMatchConditionsNotValid"
)

// conditionError is a condition problem with its Contour reason.
type conditionError struct{ reason, msg string }

func (e conditionError) Error() string { return e.msg }

// scope is what an include passes down: the concatenated path prefix and
// the accumulated header and query conditions, and the root's JWT providers.
type scope struct {
	prefix  string
	headers []HeaderMatch
	query   []QueryMatch
	// jwt is the root's JWT providers (nil when it has none).
	jwt *jwtScope
	// auth is the root's authorization policy (nil when it has none).
	auth *authScope
}

// conditionBlock is one block of match conditions (a route's or an
// include's) once checked: its path condition, if any, and its header and
// query-parameter conditions.
type conditionBlock struct {
	kind    PathKind
	value   string
	hasPath bool
	headers []HeaderMatch
	query   []QueryMatch
	// notes are what the block's conditions leave out or can never match,
	// which Contour accepts silently; the caller reports them as warnings
	// (the reason and the message of each).
	notes []conditionError
}

// conditionsOf checks a block of conditions (include: an include's, which
// allows a prefix only) and returns what it says.
func conditionsOf(conds []contourv1.MatchCondition, include bool) (conditionBlock, error) {
	var b conditionBlock
	var err error
	if b.kind, b.value, b.hasPath, err = pathOf(conds, include, &b.notes); err != nil {
		return b, err
	}
	if b.headers, err = headerConditions(conds, &b.notes); err != nil {
		return b, err
	}
	b.query, err = queryConditions(conds)
	return b, err
}

// pathOf returns the single path condition of a block (kind, value), or
// none. More than one is an error; include blocks allow prefixes only. As
// in Contour, a prefix or exact path need only start with "/", and each
// run of slashes in it (or in a regex) becomes one: Envoy merges them in
// request paths before matching. A prefix or exact path that can still
// never match a request is kept, as Contour keeps it, with a note.
func pathOf(conds []contourv1.MatchCondition, include bool, notes *[]conditionError) (PathKind, string, bool, error) {
	var kind PathKind
	var value string
	found := false
	for _, c := range conds {
		n := 0
		for _, v := range []string{c.Prefix, c.Exact, c.Regex} {
			if v != "" {
				n++
			}
		}
		if n == 0 {
			continue
		}
		if n > 1 || found {
			return 0, "", false, conditionError{ReasonPathMatchConditionsNotValid, "more than one prefix, exact or regex is not allowed in a condition block"}
		}
		found = true
		switch {
		case c.Prefix != "":
			kind, value = PathPrefix, c.Prefix
		case c.Exact != "":
			kind, value = PathExact, c.Exact
		default:
			kind, value = PathRegex, c.Regex
		}
	}
	if !found {
		return 0, "", false, nil
	}
	if include && kind != PathPrefix {
		return 0, "", false, conditionError{ReasonPathMatchConditionsNotValid, "exact and regex conditions are not allowed in includes"}
	}
	if kind == PathRegex {
		if err := validatePath(kind, value); err != nil {
			return 0, "", false, conditionError{ReasonPathMatchConditionsNotValid, err.Error()}
		}
		return kind, mergeSlashes(value), true, nil
	}
	if !strings.HasPrefix(value, "/") {
		return 0, "", false, conditionError{ReasonPathMatchConditionsNotValid, fmt.Sprintf("%s conditions must start with /", kind)}
	}
	if why := unmatchablePath(kind, value); why != "" {
		*notes = append(*notes, conditionError{ReasonPathMatchConditionsNotValid,
			fmt.Sprintf("%s %q can never match a request: %s", kind, value, why)})
	}
	return kind, mergeSlashes(value), true, nil
}

// joinPrefix concatenates an inherited prefix and a child's path as Contour
// does, merging the slash where they meet: /blog + / is /blog/ (which, as a
// prefix, matches /blog/ and what follows, not /blog or /blogs), / + /a is
// /a and /blog/ + /a is /blog/a. Neither holds "//" (pathOf merges runs of
// slashes), so the junction is the only place one can appear.
func joinPrefix(parent, child string) string {
	if child == "" {
		return parent
	}
	return strings.TrimSuffix(parent, "/") + child
}

// routePath merges the inherited prefix with a route's own path condition.
// A child regex is wrapped so it cannot match outside the parent's prefix.
func routePath(s scope, kind PathKind, value string, has bool) PathMatch {
	if !has {
		if s.prefix == "" {
			return PathMatch{Kind: PathPrefix, Value: "/"}
		}
		return PathMatch{Kind: PathPrefix, Value: s.prefix}
	}
	if s.prefix == "" || s.prefix == "/" {
		return PathMatch{Kind: kind, Value: value}
	}
	switch kind {
	case PathRegex:
		return PathMatch{Kind: PathRegex, Value: regexp.QuoteMeta(strings.TrimSuffix(s.prefix, "/")) + "(?:" + value + ")"}
	default:
		return PathMatch{Kind: kind, Value: joinPrefix(s.prefix, value)}
	}
}

// headerConditions converts and checks a block's header conditions, adding
// to notes what they leave out (headerCondition).
func headerConditions(conds []contourv1.MatchCondition, notes *[]conditionError) ([]HeaderMatch, error) {
	var out []HeaderMatch
	for _, c := range conds {
		h := c.Header
		if h == nil {
			continue
		}
		m, ok, err := headerCondition(h, notes)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, m)
		}
	}
	return out, checkHeaderContradictions(out)
}

// headerMatchFields names a header condition's match fields in the order
// Contour reads them.
const headerMatchFields = "present, notpresent, contains, notcontains, exact, notexact or regex"

// headerCondition converts one header condition. As in Contour (whose CRD
// requires only the name), one without a match field is ignored (ok is
// false), and of several the first in headerMatchFields' order is used;
// either adds an IgnoredField note. With notes nil (a rate limit's
// requestHeaderValueMatch), either is an error instead.
func headerCondition(h *contourv1.HeaderMatchCondition, notes *[]conditionError) (HeaderMatch, bool, error) {
	bad := func(format string, args ...any) (HeaderMatch, bool, error) {
		return HeaderMatch{}, false, conditionError{ReasonHeaderMatchConditionsNotValid, fmt.Sprintf(format, args...)}
	}
	if err := validateHeaderName(h.Name, false); err != nil {
		return bad("%s", err)
	}
	m := HeaderMatch{Name: h.Name, IgnoreCase: h.IgnoreCase, TreatMissingAsEmpty: h.TreatMissingAsEmpty}
	var set []string // the match fields set, in Contour's order
	for _, f := range []struct {
		field  string
		on     bool
		kind   HeaderMatchKind
		value  string
		invert bool
	}{
		{"present", h.Present, HeaderPresent, "", false}, {"notpresent", h.NotPresent, HeaderPresent, "", true},
		{"contains", h.Contains != "", HeaderContains, h.Contains, false}, {"notcontains", h.NotContains != "", HeaderContains, h.NotContains, true},
		{"exact", h.Exact != "", HeaderExact, h.Exact, false}, {"notexact", h.NotExact != "", HeaderExact, h.NotExact, true},
		{"regex", h.Regex != "", HeaderRegex, h.Regex, false},
	} {
		if !f.on {
			continue
		}
		if len(set) == 0 {
			m.Kind, m.Value, m.Invert = f.kind, f.value, f.invert
		}
		set = append(set, f.field)
	}
	switch {
	case notes == nil && len(set) == 0:
		return bad("header %q: one of %s is required", h.Name, headerMatchFields)
	case notes == nil && len(set) > 1:
		return bad("header %q: only one of %s may be set", h.Name, headerMatchFields)
	case len(set) == 0:
		*notes = append(*notes, conditionError{ReasonIgnoredField,
			fmt.Sprintf("header %q: the condition has no match field (one of %s) and is ignored", h.Name, headerMatchFields)})
		return HeaderMatch{}, false, nil
	case len(set) > 1:
		*notes = append(*notes, conditionError{ReasonIgnoredField,
			fmt.Sprintf("header %q: %s is used and %s ignored (a condition uses one match field, the first of %s)",
				h.Name, set[0], strings.Join(set[1:], " and "), headerMatchFields)})
	}
	if err := validateHeaderValue(m.Value); err != nil {
		return bad("%s", err)
	}
	if m.Kind == HeaderRegex {
		if m.IgnoreCase {
			m.Value, m.IgnoreCase = "(?i)"+m.Value, false
		}
		if err := validateRegex(m.Value); err != nil {
			return bad("header %q: %s", h.Name, err)
		}
	}
	return m, true, nil
}

// checkHeaderContradictions refuses, as Contour does, conditions no request
// can satisfy and a header named (without regard to case) by more than one
// exact condition, even with the same value.
func checkHeaderContradictions(hs []HeaderMatch) error {
	for i, a := range hs {
		for _, b := range hs[i+1:] {
			if !strings.EqualFold(a.Name, b.Name) {
				continue
			}
			switch {
			case a.Kind == HeaderPresent && b.Kind == HeaderPresent && a.Invert != b.Invert:
				return conditionError{ReasonHeaderMatchConditionsNotValid, fmt.Sprintf("header %q cannot be both present and not present", a.Name)}
			case a.Kind == HeaderExact && b.Kind == HeaderExact && !a.Invert && !b.Invert:
				return conditionError{ReasonHeaderMatchConditionsNotValid,
					fmt.Sprintf("header %q has more than one exact condition (%q and %q): only one is allowed", a.Name, a.Value, b.Value)}
			case a.Kind == b.Kind && a.Kind != HeaderPresent && a.Value == b.Value && a.Invert != b.Invert:
				return conditionError{ReasonHeaderMatchConditionsNotValid, fmt.Sprintf("header %q: %s and not %s %q contradict", a.Name, a.Kind, a.Kind, a.Value)}
			}
		}
	}
	return nil
}

// maxQueryNameBytes is the longest query parameter name Envoy matches.
const maxQueryNameBytes = 1024

// queryConditions converts and checks a block's query-parameter conditions.
func queryConditions(conds []contourv1.MatchCondition) ([]QueryMatch, error) {
	var out []QueryMatch
	for _, c := range conds {
		q := c.QueryParameter
		if q == nil {
			continue
		}
		bad := func(format string, args ...any) ([]QueryMatch, error) {
			return nil, conditionError{ReasonQueryMatchConditionsNotValid, fmt.Sprintf(format, args...)}
		}
		if q.Name == "" {
			return bad("query parameter conditions need a name")
		}
		if len(q.Name) > maxQueryNameBytes {
			return bad("a query parameter name is %d bytes long; Envoy takes at most %d", len(q.Name), maxQueryNameBytes)
		}
		m := QueryMatch{Name: q.Name, IgnoreCase: q.IgnoreCase}
		n := 0
		set := func(kind QueryMatchKind, v string) { n++; m.Kind, m.Value = kind, v }
		if q.Exact != "" {
			set(QueryExact, q.Exact)
		}
		if q.Prefix != "" {
			set(QueryPrefix, q.Prefix)
		}
		if q.Suffix != "" {
			set(QuerySuffix, q.Suffix)
		}
		if q.Regex != "" {
			set(QueryRegex, q.Regex)
		}
		if q.Contains != "" {
			set(QueryContains, q.Contains)
		}
		if q.Present {
			set(QueryPresent, "")
		}
		if n != 1 {
			return bad("query parameter %q: exactly one of exact, prefix, suffix, regex, contains or present is required", q.Name)
		}
		if m.Kind == QueryRegex {
			if m.IgnoreCase {
				m.Value, m.IgnoreCase = "(?i)"+m.Value, false
			}
			if err := validateRegex(m.Value); err != nil {
				return bad("query parameter %q: %s", q.Name, err)
			}
		}
		if err := validateHeaderValue(m.Value); err != nil {
			return bad("query parameter %q: %s", q.Name, err)
		}
		out = append(out, m)
	}
	return out, checkQueryDuplicates(out)
}

// checkQueryDuplicates refuses, as Contour does, a query parameter named
// (without regard to case) by more than one exact condition, whatever
// their values.
func checkQueryDuplicates(qs []QueryMatch) error {
	for i, a := range qs {
		if a.Kind != QueryExact {
			continue
		}
		for _, b := range qs[i+1:] {
			if b.Kind == QueryExact && strings.EqualFold(a.Name, b.Name) {
				return conditionError{ReasonQueryMatchConditionsNotValid,
					fmt.Sprintf("query parameter %q has more than one exact condition (%q and %q): only one is allowed", a.Name, a.Value, b.Value)}
			}
		}
	}
	return nil
}
