package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// TestExactConditionDuplicates: as Contour, a header or a query parameter
// named (without regard to case) by two exact conditions in one block is an
// error whatever the values; other kinds beside an exact one are fine.
func TestExactConditionDuplicates(t *testing.T) {
	t.Parallel()
	header := func(name, exact, notExact, prefix string) contourv1.MatchCondition {
		return contourv1.MatchCondition{Header: &contourv1.HeaderMatchCondition{Name: name, Exact: exact, NotExact: notExact, Contains: prefix}}
	}
	query := func(name, exact, prefix string) contourv1.MatchCondition {
		return contourv1.MatchCondition{QueryParameter: &contourv1.QueryParameterMatchCondition{Name: name, Exact: exact, Prefix: prefix}}
	}
	for name, tc := range map[string]struct {
		conds      []contourv1.MatchCondition
		wantReason string // "" when valid
	}{
		"two exact query values":           {[]contourv1.MatchCondition{{Prefix: "/foo"}, query("param", "abc", ""), query("param", "1234", "")}, ReasonQueryMatchConditionsNotValid},
		"two equal exact query values":     {[]contourv1.MatchCondition{query("param", "abc", ""), query("param", "abc", "")}, ReasonQueryMatchConditionsNotValid},
		"exact query names differing case": {[]contourv1.MatchCondition{query("param", "abc", ""), query("PARAM", "def", "")}, ReasonQueryMatchConditionsNotValid},
		"exact and prefix query":           {[]contourv1.MatchCondition{query("param", "abc", ""), query("param", "", "a")}, ""},
		"exact query on two names":         {[]contourv1.MatchCondition{query("a", "1", ""), query("b", "1", "")}, ""},
		"two exact header values":          {[]contourv1.MatchCondition{header("x-header", "abc", "", ""), header("x-header", "1234", "", "")}, ReasonHeaderMatchConditionsNotValid},
		"two equal exact header values":    {[]contourv1.MatchCondition{header("X-Env", "prod", "", ""), header("x-env", "prod", "", "")}, ReasonHeaderMatchConditionsNotValid},
		"exact and notexact header":        {[]contourv1.MatchCondition{header("x-header", "abc", "", ""), header("x-header", "", "def", "")}, ""},
		"exact and contains header":        {[]contourv1.MatchCondition{header("x-header", "abc", "", ""), header("x-header", "", "", "b")}, ""},
		"two notexact header values":       {[]contourv1.MatchCondition{header("x-header", "", "abc", ""), header("x-header", "", "def", "")}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, herr := headerConditions(tc.conds, new([]conditionError))
			_, qerr := queryConditions(tc.conds)
			var got string
			for _, err := range []error{herr, qerr} {
				if err != nil {
					got = err.(conditionError).reason
				}
			}
			if got != tc.wantReason {
				t.Errorf("reason %q (header error %v, query error %v), want %q", got, herr, qerr, tc.wantReason)
			}
		})
	}
}

// conditionsProxy is a root HTTPProxy ns/p for a.com whose first route has
// the conditions conds, and, with include set, whose include of ns/c has
// the conditions include (c's one route has child); the Service ns/s.
func conditionsProxy(conds, include, child string) string {
	doc := `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
`
	if conds != "" {
		doc += "  routes: [{conditions: " + conds + ", services: [{name: s, port: 80}]}]\n"
	}
	if include != "" {
		doc += "  includes: [{name: c, conditions: " + include + "}]\n---\n" + `apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: c, namespace: ns}
spec:
  routes: [{conditions: ` + child + `, services: [{name: s, port: 80}]}]
`
	}
	return doc + svcs("ns", "s")
}

// statusLines renders the errors and warnings of every object as
// "ns/name: Type Reason: message" ("warn " before a warning's type).
func statusLines(r *status.Report) []string {
	var out []string
	for _, o := range r.Objects() {
		for _, c := range o.Conditions {
			for _, e := range c.Errors {
				out = append(out, o.Ref.Namespace+"/"+o.Ref.Name+": "+string(e.Type)+" "+e.Reason+": "+e.Message)
			}
			for _, w := range c.Warnings {
				out = append(out, o.Ref.Namespace+"/"+o.Ref.Name+": warn "+string(w.Type)+" "+w.Reason+": "+w.Message)
			}
		}
	}
	return out
}

// TestPathConditionSlashes: as in Contour, each run of slashes in a path
// condition becomes one (a regex's too), before the include's prefix and
// the route's path are joined, and a path need only start with "/". A
// prefix or exact path that can never match a request Envoy has
// normalised is kept, as in Contour, with a warning.
func TestPathConditionSlashes(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		conds, include, child string
		want                  []string
		wantStatus            []string
	}{
		"exact of slashes only": {conds: `[{exact: ///}]`, want: []string{"a.com: exact:/ -> ns/s:80"}},
		"include of slashes only, child prefix /": {include: `[{prefix: ///}]`, child: `[{prefix: /}]`,
			want: []string{"a.com: prefix:/ -> ns/s:80"}},
		"include of slashes only, child exact /": {include: `[{prefix: ///}]`, child: `[{exact: /}]`,
			want: []string{"a.com: exact:/ -> ns/s:80"}},
		"a run inside a prefix":                 {conds: `[{prefix: /a//b}]`, want: []string{"a.com: prefix:/a/b -> ns/s:80"}},
		"a trailing run":                        {conds: `[{prefix: /a//}]`, want: []string{"a.com: prefix:/a/ -> ns/s:80"}},
		"runs on both sides":                    {include: `[{prefix: /api//}]`, child: `[{prefix: //v1}]`, want: []string{"a.com: prefix:/api/v1 -> ns/s:80"}},
		"include run, child exact":              {include: `[{prefix: //docs}]`, child: `[{exact: /}]`, want: []string{"a.com: exact:/docs/ -> ns/s:80"}},
		"a regex's run":                         {conds: `[{regex: "/x//y.*"}]`, want: []string{"a.com: regex:/x/y.* -> ns/s:80"}},
		"a child regex's run":                   {include: `[{prefix: /app/}]`, child: `[{regex: "//x"}]`, want: []string{"a.com: regex:/app(?:/x) -> ns/s:80"}},
		"an encoded slash and a query are kept": {conds: `[{prefix: "/a%2Fb?c"}]`, want: []string{"a.com: prefix:/a%2Fb?c -> ns/s:80"}},
		"a prefix ending in a dot may match":    {conds: `[{prefix: /a/..}]`, want: []string{"a.com: prefix:/a/.. -> ns/s:80"}},
		"a dot segment: kept, with a warning": {conds: `[{prefix: /a/./b}]`, want: []string{"a.com: prefix:/a/./b -> ns/s:80"},
			wantStatus: []string{`ns/p: warn RouteError PathMatchConditionsNotValid: Spec.Routes[0]: prefix "/a/./b" can never match a request: Envoy removes its "." segment from request paths before matching`}},
		"an exact path ending in ..": {conds: `[{exact: /a/..}]`, want: []string{"a.com: exact:/a/.. -> ns/s:80"},
			wantStatus: []string{`ns/p: warn RouteError PathMatchConditionsNotValid: Spec.Routes[0]: exact "/a/.." can never match a request: Envoy removes its ".." segment from request paths before matching`}},
		"a space": {conds: `[{prefix: "/a b"}]`, want: []string{"a.com: prefix:/a b -> ns/s:80"},
			wantStatus: []string{`ns/p: warn RouteError PathMatchConditionsNotValid: Spec.Routes[0]: prefix "/a b" can never match a request: it holds ' ', which is never part of a request path`}},
		"an include's fragment": {include: `[{prefix: "/a#b"}]`, child: `[{prefix: /}]`, want: []string{"a.com: prefix:/a#b/ -> ns/s:80"},
			wantStatus: []string{`ns/p: warn IncludeError PathMatchConditionsNotValid: Spec.Includes[0]: prefix "/a#b" can never match a request: it holds '#', which is never part of a request path`}},
		"no leading slash": {conds: `[{prefix: a//b}]`,
			wantStatus: []string{`ns/p: RouteError PathMatchConditionsNotValid: Spec.Routes[0]: prefix conditions must start with /`}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, conditionsProxy(tc.conds, tc.include, tc.child))
			if d := cmp.Diff(tc.want, summary(g)); d != "" {
				t.Errorf("routes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatus, statusLines(r)); d != "" {
				t.Errorf("status (-want +got):\n%s", d)
			}
		})
	}
}

// TestHeaderConditionFields: as in Contour, whose CRD requires a header
// condition's name only, a condition without a match field is ignored,
// and of several match fields the first (present, notpresent, contains,
// notcontains, exact, notexact, regex) is used; Isobar says so with an
// IgnoredField warning. A rate limit's requestHeaderValueMatch still
// refuses both.
func TestHeaderConditionFields(t *testing.T) {
	t.Parallel()
	const none = `header "x-id": the condition has no match field (one of present, notpresent, contains, notcontains, exact, notexact or regex) and is ignored`
	for name, tc := range map[string]struct {
		conds, include, child string
		want                  []string
		wantStatus            []string
	}{
		"name only": {conds: `[{header: {name: x-id}}]`, want: []string{"a.com: prefix:/ -> ns/s:80"},
			wantStatus: []string{`ns/p: warn RouteError IgnoredField: Spec.Routes[0]: ` + none}},
		"present false only": {conds: `[{prefix: /a}, {header: {name: x-id, present: false}}]`, want: []string{"a.com: prefix:/a -> ns/s:80"},
			wantStatus: []string{`ns/p: warn RouteError IgnoredField: Spec.Routes[0]: ` + none}},
		"present and exact: present": {conds: `[{header: {name: x-id, present: true, exact: abc}}]`, want: []string{"a.com: prefix:/ h:x-id=present: -> ns/s:80"},
			wantStatus: []string{`ns/p: warn RouteError IgnoredField: Spec.Routes[0]: header "x-id": present is used and exact ignored ` +
				`(a condition uses one match field, the first of present, notpresent, contains, notcontains, exact, notexact or regex)`}},
		"notexact, regex, contains: contains; the bad regex is not read": {conds: `[{header: {name: x-id, notexact: a, regex: "(", contains: b}}]`,
			want: []string{"a.com: prefix:/ h:x-id=contains:b -> ns/s:80"},
			wantStatus: []string{`ns/p: warn RouteError IgnoredField: Spec.Routes[0]: header "x-id": contains is used and notexact and regex ignored ` +
				`(a condition uses one match field, the first of present, notpresent, contains, notcontains, exact, notexact or regex)`}},
		"the one used contradicts another condition (the route is invalid: no warning)": {conds: `[{header: {name: x-id, present: true, exact: a}}, {header: {name: x-id, notpresent: true}}]`,
			wantStatus: []string{`ns/p: RouteError HeaderMatchConditionsNotValid: Spec.Routes[0]: header "x-id" cannot be both present and not present`}},
		"an include's, name only": {include: `[{prefix: /c}, {header: {name: x-id}}]`, child: `[{prefix: /}]`,
			want:       []string{"a.com: prefix:/c/ -> ns/s:80"},
			wantStatus: []string{`ns/p: warn RouteError IgnoredField: Spec.Includes[0]: ` + none}},
		"an invalid name is still an error": {conds: `[{header: {name: "x id"}}]`,
			wantStatus: []string{`ns/p: RouteError HeaderMatchConditionsNotValid: Spec.Routes[0]: header name "x id" contains ' '`}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, conditionsProxy(tc.conds, tc.include, tc.child))
			if d := cmp.Diff(tc.want, summary(g)); d != "" {
				t.Errorf("routes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatus, statusLines(r)); d != "" {
				t.Errorf("status (-want +got):\n%s", d)
			}
		})
	}
	for name, h := range map[string]contourv1.HeaderMatchCondition{
		"no match field": {Name: "x-id"},
		"two":            {Name: "x-id", Present: true, Exact: "a"},
	} {
		if _, err := headerValueMatchEntry(&contourv1.RequestHeaderValueMatchDescriptor{Value: "v", Headers: []contourv1.HeaderMatchCondition{h}}); err == nil {
			t.Errorf("rate limit header %s: no error", name)
		}
	}
}
