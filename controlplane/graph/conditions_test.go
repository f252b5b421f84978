package graph

import (
	"testing"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
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
			_, herr := headerConditions(tc.conds)
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
