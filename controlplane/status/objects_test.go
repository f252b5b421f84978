package status

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWithWarnings: warnings go under the named objects' Valid
// condition, after theirs; the input is not modified and objects not named
// are unchanged.
func TestWithWarnings(t *testing.T) {
	t.Parallel()
	a := Ref{Kind: KindHTTPProxy, Namespace: "app", Name: "a"}
	b := Ref{Kind: KindHTTPProxy, Namespace: "app", Name: "b"}
	old := SubCondition{Type: IgnoredFieldWarning, Status: "True", Reason: "IgnoredField", Message: "x"}
	objs := []Object{
		{Ref: a, CurrentStatus: Valid, Conditions: []Condition{{Type: "Valid", Status: "True", Warnings: []SubCondition{old}}}},
		{Ref: b, CurrentStatus: Valid, Conditions: []Condition{{Type: "Valid", Status: "True"}}},
	}
	rejected := SubCondition{Type: EnvoyRejected, Status: "True", Reason: "EnvoyRejected", Message: "bad"}
	got := WithWarnings(objs, map[Ref][]SubCondition{a: {rejected}, {Kind: KindService, Namespace: "app", Name: "web"}: {rejected}})
	want := []Object{
		{Ref: a, CurrentStatus: Valid, Conditions: []Condition{{Type: "Valid", Status: "True", Warnings: []SubCondition{old, rejected}}}},
		{Ref: b, CurrentStatus: Valid, Conditions: []Condition{{Type: "Valid", Status: "True"}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("with warnings (-want +got):\n%s", d)
	}
	if len(objs[0].Conditions[0].Warnings) != 1 {
		t.Errorf("the input was modified: %v", objs[0].Conditions[0].Warnings)
	}
	if d := cmp.Diff(objs, WithWarnings(objs, nil)); d != "" {
		t.Errorf("no warnings changed the objects:\n%s", d)
	}
}
