package status

import (
	"slices"
	"sort"
)

// Reason codes for findings derived from statuses.
const (
	// FindingOrphaned is the code for an object no root reaches.
	FindingOrphaned = "Orphaned"
)

// ObjectFindings turns object statuses into findings, one per error or
// warning sub-condition: the reason is the code, errors are severity error,
// warnings and orphans severity warning. `isobar check` prints these next to
// the findings the graph reports.
func ObjectFindings(objs []Object) []Finding {
	var out []Finding
	for _, o := range objs {
		for _, c := range o.Conditions {
			for _, e := range c.Errors {
				sev := SeverityError
				if e.Type == OrphanedError {
					sev = SeverityWarning
				}
				out = append(out, Finding{Code: e.Reason, Severity: sev, Objects: []Ref{o.Ref}, Message: e.Message})
			}
			for _, w := range c.Warnings {
				out = append(out, Finding{Code: w.Reason, Severity: SeverityWarning, Objects: []Ref{o.Ref}, Message: w.Message})
			}
		}
	}
	return out
}

// SortFindings orders findings most severe first, then by code, objects and
// message, dropping exact duplicates.
func SortFindings(in []Finding) []Finding {
	out := append([]Finding(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		return a.key() < b.key()
	})
	dedup := out[:0]
	for i, f := range out {
		if i > 0 && f.key() == out[i-1].key() && f.Severity == out[i-1].Severity {
			continue
		}
		dedup = append(dedup, f)
	}
	return dedup
}

// WithWarnings returns objs with each warning in warn added to its
// object's Valid condition (after the warnings already there, in the order
// given); objects warn does not name are shared, the others copied, so objs
// is never modified. Warnings for objects objs lacks are dropped.
func WithWarnings(objs []Object, warn map[Ref][]SubCondition) []Object {
	if len(warn) == 0 {
		return objs
	}
	out := slices.Clone(objs)
	for i := range out {
		add := warn[out[i].Ref]
		if len(add) == 0 {
			continue
		}
		conds := slices.Clone(out[i].Conditions)
		for j := range conds {
			if conds[j].Type == "Valid" {
				conds[j].Warnings = append(slices.Clip(conds[j].Warnings), add...)
				break
			}
		}
		out[i].Conditions = conds
	}
	return out
}
