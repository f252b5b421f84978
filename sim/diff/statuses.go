package diff

import (
	"github.com/isobar-dev/isobar/controlplane/status"
)

// StatusChange is an object whose status differs between the states. An
// object that exists in one state only has an empty Before or After.
type StatusChange struct {
	Ref    status.Ref           `json:"object"`
	Before status.CurrentStatus `json:"before,omitempty"`
	After  status.CurrentStatus `json:"after,omitempty"`
	// Errors are the error messages of the head state, when it is not valid.
	Errors []string `json:"errors,omitempty"`
}

// FindingChanges are findings present in only one of the states.
type FindingChanges struct {
	Added   []status.Finding `json:"added"`
	Removed []status.Finding `json:"removed"`
}

// compareStatuses lists objects whose currentStatus or error messages differ.
func compareStatuses(base, head []status.Object) []StatusChange {
	b := map[status.Ref]status.Object{}
	for _, o := range base {
		b[o.Ref] = o
	}
	h := map[status.Ref]status.Object{}
	for _, o := range head {
		h[o.Ref] = o
	}
	var out []StatusChange
	for _, ref := range mergeRefs(keysOf(b), keysOf(h)) {
		bo, inBase := b[ref]
		ho, inHead := h[ref]
		if inBase && inHead && bo.CurrentStatus == ho.CurrentStatus && equalStrings(errorsOf(bo), errorsOf(ho)) {
			continue
		}
		c := StatusChange{Ref: ref, Errors: errorsOf(ho)}
		if inBase {
			c.Before = bo.CurrentStatus
		}
		if inHead {
			c.After = ho.CurrentStatus
		}
		out = append(out, c)
	}
	return out
}

func errorsOf(o status.Object) []string {
	var out []string
	for _, c := range o.Conditions {
		for _, e := range c.Errors {
			out = append(out, e.Reason+": "+e.Message)
		}
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// compareFindings lists findings that appear or disappear.
func compareFindings(base, head []status.Finding) FindingChanges {
	key := func(f status.Finding) string {
		s := string(f.Severity) + "|" + f.Code + "|" + f.Message
		for _, o := range f.Objects {
			s += "|" + o.String()
		}
		return s
	}
	inBase := map[string]bool{}
	for _, f := range base {
		inBase[key(f)] = true
	}
	inHead := map[string]bool{}
	for _, f := range head {
		inHead[key(f)] = true
	}
	out := FindingChanges{Added: []status.Finding{}, Removed: []status.Finding{}}
	for _, f := range head {
		if !inBase[key(f)] {
			out.Added = append(out.Added, f)
		}
	}
	for _, f := range base {
		if !inHead[key(f)] {
			out.Removed = append(out.Removed, f)
		}
	}
	return out
}
