package status

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary is what the ledger tests compare: each object's current status
// with its error reasons, and the findings' codes and objects.
func summary(l *Ledger) []string {
	var out []string
	for _, o := range l.Objects() {
		s := fmt.Sprintf("%s %s", o.Ref, o.CurrentStatus)
		for _, e := range o.Conditions[0].Errors {
			s += " " + e.Reason
		}
		out = append(out, s)
	}
	for _, f := range l.Findings() {
		out = append(out, fmt.Sprintf("finding %s %v", f.Code, f.Objects))
	}
	return out
}

func TestLedger(t *testing.T) {
	t.Parallel()
	child := Ref{Kind: KindHTTPProxy, Namespace: "b", Name: "child"}
	root := Ref{Kind: KindHTTPProxy, Namespace: "a", Name: "root"}
	other := Ref{Kind: KindHTTPProxy, Namespace: "a", Name: "other"}
	dup := Finding{Code: "DuplicateVhost", Severity: SeverityError, Objects: []Ref{root, other}, Message: "m"}

	l := NewLedger()
	tracked := NewReport() // what is said of child alone
	tracked.Track(child)
	l.Set("proxy/child", tracked)
	if d := cmp.Diff([]string{"HTTPProxy b/child orphaned Orphaned"}, summary(l)); d != "" {
		t.Fatalf("tracked only (-want +got):\n%s", d)
	}

	host1 := NewReport() // one root reaches child validly
	host1.Valid(root)
	host1.Valid(child)
	host1.Find(dup)
	l.Set("host/one", host1)
	host2 := NewReport() // another finds child broken, and reports the same finding
	host2.Valid(other)
	host2.Error(child, IncludeError, "IncludeCreatesCycle", "cycle")
	host2.Find(dup)
	l.Set("host/two", host2)
	want := []string{
		"HTTPProxy a/other valid",
		"HTTPProxy a/root valid",
		"HTTPProxy b/child invalid IncludeCreatesCycle",
		"finding DuplicateVhost [HTTPProxy a/other HTTPProxy a/root]",
	}
	if d := cmp.Diff(want, summary(l)); d != "" {
		t.Fatalf("three units (-want +got):\n%s", d)
	}

	// Replacing host two: its error and other's status go, the finding
	// stays (host one still reports it).
	l.Set("host/two", NewReport())
	want = []string{"HTTPProxy a/root valid", "HTTPProxy b/child valid",
		"finding DuplicateVhost [HTTPProxy a/other HTTPProxy a/root]"}
	if d := cmp.Diff(want, summary(l)); d != "" {
		t.Fatalf("host two replaced (-want +got):\n%s", d)
	}

	// Removing host one: child is only tracked again, the finding goes.
	l.Set("host/one", nil)
	if d := cmp.Diff([]string{"HTTPProxy b/child orphaned Orphaned"}, summary(l)); d != "" {
		t.Fatalf("host one removed (-want +got):\n%s", d)
	}
	l.Set("proxy/child", nil)
	if got := summary(l); len(got) != 0 {
		t.Fatalf("everything removed, still %v", got)
	}
}

// TestLedgerMatchesReport checks, over many units changed one at a time,
// that the ledger's answer is a Report's with every unit's calls merged,
// whether it patches its last answer or sorts anew.
func TestLedgerMatchesReport(t *testing.T) {
	t.Parallel()
	units := map[string]*Report{}
	l := NewLedger()
	for step := range 300 {
		name := fmt.Sprintf("u%d", step%23)
		r := NewReport()
		for i := range step % 5 {
			ref := Ref{Kind: KindHTTPProxy, Namespace: "ns", Name: fmt.Sprintf("p%d", (step*7+i*13)%41)}
			switch (step + i) % 3 {
			case 0:
				r.Valid(ref)
			case 1:
				r.Error(ref, SpecError, "Bad", "bad %d", i)
			default:
				r.Track(ref)
			}
			if i == 2 {
				r.Find(Finding{Code: "C", Severity: SeverityWarning, Objects: []Ref{ref}, Message: "x"})
			}
		}
		if step%11 == 0 {
			r = nil
			delete(units, name)
		} else {
			units[name] = r
		}
		l.Set(name, r)
		merged := NewReport()
		for _, u := range units {
			merged.Merge(u)
		}
		if d := cmp.Diff(merged.Objects(), l.Objects()); d != "" {
			t.Fatalf("step %d: objects (-report +ledger):\n%s", step, d)
		}
		if d := cmp.Diff(merged.Findings(), l.Findings()); d != "" {
			t.Fatalf("step %d: findings (-report +ledger):\n%s", step, d)
		}
	}
}
