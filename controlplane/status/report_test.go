package status

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReportObjects(t *testing.T) {
	t.Parallel()
	r := NewReport()
	valid := Ref{Kind: KindHTTPProxy, Namespace: "a", Name: "valid"}
	bad := Ref{Kind: KindHTTPProxy, Namespace: "a", Name: "bad"}
	orphan := Ref{Kind: KindHTTPProxy, Namespace: "b", Name: "child"}
	ingress := Ref{Kind: KindIngress, Namespace: "c", Name: "web"}
	warned := Ref{Kind: KindIngressRoute, Namespace: "a", Name: "warned"}
	r.Valid(valid)
	r.Error(bad, TLSError, "SecretNotValid", "Secret %q not found", "a/s")
	r.Error(bad, TLSError, "SecretNotValid", "Secret %q not found", "a/s") // duplicates are kept once
	r.Track(orphan)
	r.Track(ingress)
	r.Valid(warned)
	r.Warning(warned, IgnoredFieldWarning, "IgnoredField", "field x is ignored")

	want := []Object{
		{Ref: bad, CurrentStatus: Invalid, Description: "At least one error present, see Errors for details",
			Conditions: []Condition{{Type: "Valid", Status: "False", Reason: "ErrorPresent", Message: "At least one error present, see Errors for details",
				Errors: []SubCondition{{Type: TLSError, Status: "True", Reason: "SecretNotValid", Message: `Secret "a/s" not found`}}}}},
		{Ref: valid, CurrentStatus: Valid, Description: "Valid HTTPProxy",
			Conditions: []Condition{{Type: "Valid", Status: "True", Reason: "Valid", Message: "Valid HTTPProxy"}}},
		{Ref: orphan, CurrentStatus: Orphaned, Description: orphanedMsgProxy,
			Conditions: []Condition{{Type: "Valid", Status: "False", Reason: "ErrorPresent", Message: "At least one error present, see Errors for details",
				Errors: []SubCondition{{Type: OrphanedError, Status: "True", Reason: "Orphaned", Message: orphanedMsgProxy}}}}},
		{Ref: ingress, CurrentStatus: Valid, Description: "Valid Ingress",
			Conditions: []Condition{{Type: "Valid", Status: "True", Reason: "Valid", Message: "Valid Ingress"}}},
		{Ref: warned, CurrentStatus: Valid, Description: "Valid IngressRoute",
			Conditions: []Condition{{Type: "Valid", Status: "True", Reason: "Valid", Message: "Valid IngressRoute",
				Warnings: []SubCondition{{Type: IgnoredFieldWarning, Status: "True", Reason: "IgnoredField", Message: "field x is ignored"}}}}},
	}
	if d := cmp.Diff(want, r.Objects()); d != "" {
		t.Errorf("objects (-want +got):\n%s", d)
	}
	findings := ObjectFindings(r.Objects())
	wantFindings := []Finding{
		{Code: "SecretNotValid", Severity: SeverityError, Objects: []Ref{bad}, Message: `Secret "a/s" not found`},
		{Code: "Orphaned", Severity: SeverityWarning, Objects: []Ref{orphan}, Message: orphanedMsgProxy},
		{Code: "IgnoredField", Severity: SeverityWarning, Objects: []Ref{warned}, Message: "field x is ignored"},
	}
	if d := cmp.Diff(wantFindings, findings); d != "" {
		t.Errorf("object findings (-want +got):\n%s", d)
	}
}

func TestFindingsOrder(t *testing.T) {
	t.Parallel()
	r := NewReport()
	a := Ref{Kind: KindIngress, Namespace: "a", Name: "x"}
	r.Find(Finding{Code: "Zeta", Severity: SeverityInfo, Objects: []Ref{a}, Message: "m"})
	r.Find(Finding{Code: "Beta", Severity: SeverityWarning, Objects: []Ref{a}, Message: "m"})
	r.Find(Finding{Code: "Alpha", Severity: SeverityError, Objects: []Ref{a, a}, Message: "m"})
	r.Find(Finding{Code: "Alpha", Severity: SeverityError, Objects: []Ref{a}, Message: "m"})
	got := r.Findings()
	var codes []string
	for _, f := range got {
		codes = append(codes, f.Code)
	}
	if d := cmp.Diff([]string{"Alpha", "Beta", "Zeta"}, codes); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
	if len(got[0].Objects) != 1 {
		t.Errorf("duplicate objects kept: %v", got[0].Objects)
	}
}

// TestReportMerge: merging gives the statuses one report given every call
// would, whether the objects were tracked, said something of, or unknown
// on either side.
func TestReportMerge(t *testing.T) {
	t.Parallel()
	ref := func(name string) Ref { return Ref{Kind: KindHTTPProxy, Namespace: "ns", Name: name} }
	calls := []func(r *Report){
		func(r *Report) { r.Track(ref("tracked")) },
		func(r *Report) { r.Track(ref("reached")) },
		func(r *Report) { r.Valid(ref("reached")) },
		func(r *Report) { r.Track(ref("both")); r.Valid(ref("both")) },
		func(r *Report) { r.Warning(ref("both"), SpecError, "W", "w") },
		func(r *Report) { r.Error(ref("both"), SpecError, "E", "e") },
		func(r *Report) { r.Error(ref("new"), SpecError, "E", "e"); r.Valid(ref("other")) },
		func(r *Report) { r.Track(ref("other")); r.Error(ref("both"), SpecError, "E", "e") },
	}
	whole := NewReport()
	for _, c := range calls {
		c(whole)
	}
	want := whole.Objects()
	// Every split of the calls between two reports, merged either way,
	// the reports made small (held as one object until a second) or with
	// room for many; a later call on the merged report counts too.
	later := func(r *Report) { r.Error(ref("tracked"), SpecError, "L", "l") }
	later(whole)
	wantLater := whole.Objects()
	for _, newReport := range []func() *Report{NewReport, func() *Report { return NewReportFor(8) }} {
		for mask := 0; mask < 1<<len(calls); mask++ {
			for _, into := range []int{0, 1} {
				parts := [2]*Report{newReport(), newReport()}
				for i, c := range calls {
					c(parts[mask>>i&1])
				}
				parts[into].Merge(parts[1-into])
				if d := cmp.Diff(want, parts[into].Objects()); d != "" {
					t.Fatalf("split %b into %d (-want +got):\n%s", mask, into, d)
				}
				later(parts[into])
				if d := cmp.Diff(wantLater, parts[into].Objects()); d != "" {
					t.Fatalf("split %b into %d, then a call (-want +got):\n%s", mask, into, d)
				}
			}
		}
	}
}

// TestReportOfOneObjectGrows checks a report through its one-object form
// and its growth to a map: what is said before the second object arrives
// is kept, and a merge of one-object reports says what their calls say.
func TestReportOfOneObjectGrows(t *testing.T) {
	t.Parallel()
	a := Ref{Kind: KindHTTPProxy, Namespace: "n", Name: "a"}
	b := Ref{Kind: KindHTTPProxy, Namespace: "n", Name: "b"}
	r := NewReport()
	if got := r.Objects(); len(got) != 0 {
		t.Fatalf("empty report: %v", got)
	}
	r.Track(a)
	if o, ok := r.Object(a); !ok || o.CurrentStatus != Orphaned {
		t.Fatalf("a tracked only: %v %v", o.CurrentStatus, ok)
	}
	if _, ok := r.Object(b); ok {
		t.Fatal("b is not tracked yet")
	}
	r.Error(a, SpecError, "Bad", "bad a")
	r.Valid(b) // the second object: the report grows
	r.Warning(a, IgnoredFieldWarning, "IgnoredField", "w")
	if !r.HasErrors(a) || r.HasErrors(b) {
		t.Fatalf("errors: a %v, b %v", r.HasErrors(a), r.HasErrors(b))
	}
	got := map[Ref]CurrentStatus{}
	for _, o := range r.Objects() {
		got[o.Ref] = o.CurrentStatus
	}
	if d := cmp.Diff(map[Ref]CurrentStatus{a: Invalid, b: Valid}, got); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}

	one, other := NewReport(), NewReport()
	one.Valid(a)
	other.Error(a, SpecError, "Bad", "bad a")
	other.Find(Finding{Code: "C", Severity: SeverityWarning, Objects: []Ref{a}, Message: "m"})
	one.Merge(other)
	if o, _ := one.Object(a); o.CurrentStatus != Invalid {
		t.Errorf("merged a: %v, want invalid", o.CurrentStatus)
	}
	if f := one.Findings(); len(f) != 1 || f[0].Code != "C" {
		t.Errorf("merged findings: %v", f)
	}
}
