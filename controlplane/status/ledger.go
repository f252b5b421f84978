package status

import (
	"reflect"
	"slices"
	"sort"
)

// Ledger holds the statuses and findings of a build as the reports of
// independent units, named by the caller, and keeps their merge: what
// Objects and Findings return is what one Report given every unit's calls
// would return. Replacing a unit's report recomputes only the objects that
// report (old or new) mentions, so a small change to a large build costs
// little. A Ledger is not safe for concurrent use.
type Ledger struct {
	units map[string]*Report
	// users lists, per object, the units whose reports mention it.
	users map[Ref][]string
	// findings counts, per finding key, the units that report it.
	findings map[string]*countedFinding
	// sorted is the last answer of Objects, the only record of the
	// statuses; changed lists the objects whose units changed since
	// (merged again by Objects, once each).
	sorted  []Object
	changed map[Ref]bool
	// sortedFindings is the last answer of Findings, nil when stale.
	sortedFindings []Finding
}

type countedFinding struct {
	f Finding
	n int
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{units: map[string]*Report{}, users: map[Ref][]string{},
		findings: map[string]*countedFinding{}, changed: map[Ref]bool{}}
}

// Set makes r the report of unit, replacing what unit said before; a nil r
// removes the unit. The ledger keeps r: the caller must not change it
// afterwards.
func (l *Ledger) Set(unit string, r *Report) {
	old := l.units[unit]
	if old == r {
		return
	}
	if r == nil {
		delete(l.units, unit)
	} else {
		l.units[unit] = r
	}
	var touched []Ref
	if old != nil {
		old.each(func(ref Ref, _ *entry) {
			l.users[ref] = slices.DeleteFunc(l.users[ref], func(u string) bool { return u == unit })
			touched = append(touched, ref)
		})
		for k := range old.findings {
			if c := l.findings[k]; c.n == 1 {
				delete(l.findings, k)
			} else {
				c.n--
			}
		}
		l.sortedFindings = nil
	}
	if r != nil {
		r.each(func(ref Ref, _ *entry) {
			l.users[ref] = append(l.users[ref], unit)
			touched = append(touched, ref)
		})
		for k, f := range r.findings {
			if c, ok := l.findings[k]; ok {
				c.n++
			} else {
				l.findings[k] = &countedFinding{f: f, n: 1}
			}
		}
		l.sortedFindings = nil
	}
	for _, ref := range touched {
		l.changed[ref] = true
	}
}

// merged merges what every unit says of ref; ok is false when no unit
// mentions it any more.
func (l *Ledger) merged(ref Ref) (o Object, ok bool) {
	users := l.users[ref]
	if len(users) == 0 {
		delete(l.users, ref)
		return Object{}, false
	}
	if len(users) == 1 {
		e, _ := l.units[users[0]].get(ref)
		return e.object(ref), true
	}
	m := &entry{}
	for _, u := range users {
		e, _ := l.units[u].get(ref)
		m.add(e)
	}
	return m.object(ref), true
}

// last returns ref's status in the last answer of Objects.
func (l *Ledger) last(ref Ref) (Object, bool) {
	i, found := slices.BinarySearchFunc(l.sorted, ref, func(o Object, r Ref) int { return o.Ref.Compare(r) })
	if !found {
		return Object{}, false
	}
	return l.sorted[i], true
}

// Objects returns the status of every object some unit mentions, sorted by
// reference. The slice is shared with the ledger and with earlier answers
// when nothing changed: callers must not modify it (the ledger never
// does: a change makes a new slice). The last answer is the ledger's only
// record of the statuses: the objects whose units changed since are
// merged again and put in place of theirs.
func (l *Ledger) Objects() []Object {
	fresh := make(map[Ref]Object, len(l.changed))
	for ref := range l.changed {
		o, ok := l.merged(ref)
		was, had := l.last(ref)
		if ok == had && (!ok || reflect.DeepEqual(was, o)) && l.sorted != nil {
			delete(l.changed, ref) // same status: the last answer holds
			continue
		}
		if ok {
			fresh[ref] = o
		}
	}
	if l.sorted != nil && len(l.changed) == 0 {
		return l.sorted
	}
	changed := make([]Ref, 0, len(l.changed))
	for ref := range l.changed {
		changed = append(changed, ref)
	}
	slices.SortFunc(changed, Ref.Compare)
	out := make([]Object, 0, len(l.sorted)+len(fresh))
	i := 0
	for _, ref := range changed {
		for i < len(l.sorted) && l.sorted[i].Ref.Less(ref) {
			out = append(out, l.sorted[i])
			i++
		}
		if i < len(l.sorted) && l.sorted[i].Ref == ref {
			i++ // replaced or removed
		}
		if o, ok := fresh[ref]; ok {
			out = append(out, o)
		}
	}
	out = append(out, l.sorted[i:]...)
	l.sorted, l.changed = out, map[Ref]bool{}
	return out
}

// Findings returns every finding some unit reports, in Report.Findings'
// order. The slice is shared as Objects' is: callers must not modify it.
func (l *Ledger) Findings() []Finding {
	if l.sortedFindings == nil {
		keys := make([]string, 0, len(l.findings))
		for k := range l.findings {
			keys = append(keys, k)
		}
		// Report.Findings' order, with the keys at hand.
		sort.Slice(keys, func(i, j int) bool {
			a, b := l.findings[keys[i]].f.Severity.Rank(), l.findings[keys[j]].f.Severity.Rank()
			if a != b {
				return a > b
			}
			return keys[i] < keys[j]
		})
		out := make([]Finding, len(keys))
		for i, k := range keys {
			out[i] = l.findings[k].f
		}
		l.sortedFindings = out
	}
	return l.sortedFindings
}
