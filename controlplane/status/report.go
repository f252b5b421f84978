package status

import (
	"fmt"
	"slices"
	"sort"
)

// Report collects statuses and findings while the graph is built. The zero
// value is not usable; call NewReport. A Report is not safe for concurrent use.
type Report struct {
	// What is said of each object; a nil entry is an object tracked and
	// nothing else (most are: Track allocates no entry). A report of one
	// object (that of an HTTPProxy, kept by the compiler for each of them)
	// holds it in one and oneEntry; objects is made for the second one
	// (NewReportFor makes it at once for more).
	one      Ref
	oneEntry *entry
	hasOne   bool
	objects  map[Ref]*entry
	findings map[string]Finding // made by the first finding
	// last is the entry of lastRef: calls about one object often come in
	// a row, and need not hash its reference again.
	lastRef Ref
	last    *entry
}

type entry struct {
	touched  bool // Valid was called or a sub-condition was added
	orphaned bool
	errors   []SubCondition
	warnings []SubCondition
}

// NewReport returns an empty report.
func NewReport() *Report { return NewReportFor(0) }

// NewReportFor returns an empty report with room for about n objects.
func NewReportFor(n int) *Report {
	r := &Report{}
	if n > 1 {
		r.objects = make(map[Ref]*entry, n)
	}
	return r
}

// get returns what is said of ref and whether it is tracked.
func (r *Report) get(ref Ref) (*entry, bool) {
	if r.objects != nil {
		e, ok := r.objects[ref]
		return e, ok
	}
	if r.hasOne && r.one == ref {
		return r.oneEntry, true
	}
	return nil, false
}

// put sets what is said of ref.
func (r *Report) put(ref Ref, e *entry) {
	switch {
	case r.objects != nil:
		r.objects[ref] = e
	case !r.hasOne || r.one == ref:
		r.one, r.oneEntry, r.hasOne = ref, e, true
	default:
		r.objects = make(map[Ref]*entry, 2)
		r.objects[r.one], r.objects[ref] = r.oneEntry, e
		r.one, r.oneEntry, r.hasOne = Ref{}, nil, false
	}
}

// count is how many objects r tracks.
func (r *Report) count() int {
	if r.objects != nil {
		return len(r.objects)
	}
	if r.hasOne {
		return 1
	}
	return 0
}

// each calls fn with every object r tracks, in no order.
func (r *Report) each(fn func(Ref, *entry)) {
	if r.objects == nil {
		if r.hasOne {
			fn(r.one, r.oneEntry)
		}
		return
	}
	for ref, e := range r.objects {
		fn(ref, e)
	}
}

// entry returns the entry of ref, creating it.
func (r *Report) entry(ref Ref) *entry {
	if r.last != nil && r.lastRef == ref {
		return r.last
	}
	e, _ := r.get(ref)
	if e == nil {
		e = &entry{}
		r.put(ref, e)
	}
	r.lastRef, r.last = ref, e
	return e
}

// Track registers ref so that it appears in Objects even if nothing else is
// said about it. An object tracked but never marked Valid and never given an
// error is reported as orphaned for HTTPProxy and IngressRoute (it was not
// reached from a root) and valid otherwise.
func (r *Report) Track(ref Ref) {
	if _, ok := r.get(ref); !ok {
		r.put(ref, nil)
	}
}

// Valid records that ref was processed; it stays valid unless an error is added.
func (r *Report) Valid(ref Ref) { r.entry(ref).touched = true }

// Error adds an error sub-condition to ref, which makes it invalid.
func (r *Report) Error(ref Ref, t ConditionType, reason, format string, args ...any) {
	e := r.entry(ref)
	e.touched = true
	sc := SubCondition{Type: t, Status: "True", Reason: reason, Message: fmt.Sprintf(format, args...)}
	for _, have := range e.errors {
		if have == sc {
			return
		}
	}
	e.errors = append(e.errors, sc)
}

// Warning adds a warning sub-condition to ref; it stays valid.
func (r *Report) Warning(ref Ref, t ConditionType, reason, format string, args ...any) {
	e := r.entry(ref)
	sc := SubCondition{Type: t, Status: "True", Reason: reason, Message: fmt.Sprintf(format, args...)}
	for _, have := range e.warnings {
		if have == sc {
			return
		}
	}
	e.warnings = append(e.warnings, sc)
}

// Merge adds everything o says to r, as if its calls had been made on r.
// Statuses and findings do not depend on the order calls are made in. r
// takes what it can of o (the entries of objects r knows nothing of): o
// must not be used afterwards.
func (r *Report) Merge(o *Report) {
	o.each(func(ref Ref, oe *entry) {
		if e, ok := r.get(ref); e != nil {
			e.add(oe)
		} else if !ok || oe != nil {
			r.put(ref, oe)
		}
	})
	for k, f := range o.findings {
		r.setFinding(k, f)
	}
}

// add merges what o says of an object into e; o may be nil (nothing).
func (e *entry) add(o *entry) {
	if o == nil {
		return
	}
	e.touched = e.touched || o.touched
	e.orphaned = e.orphaned || o.orphaned
	for _, sc := range o.errors {
		if !slices.Contains(e.errors, sc) {
			e.errors = append(e.errors, sc)
		}
	}
	for _, sc := range o.warnings {
		if !slices.Contains(e.warnings, sc) {
			e.warnings = append(e.warnings, sc)
		}
	}
}

// Orphan marks ref as not reached from any root.
func (r *Report) Orphan(ref Ref) { r.entry(ref).orphaned = true }

// HasErrors reports whether ref has at least one error sub-condition.
func (r *Report) HasErrors(ref Ref) bool {
	e, _ := r.get(ref)
	return e != nil && len(e.errors) > 0
}

// Find records a finding. Identical findings are kept once.
func (r *Report) Find(f Finding) {
	f.Objects = sortRefs(append([]Ref(nil), f.Objects...))
	r.setFinding(f.key(), f)
}

func (r *Report) setFinding(key string, f Finding) {
	if r.findings == nil {
		r.findings = map[string]Finding{}
	}
	r.findings[key] = f
}

// Objects returns the status of every tracked object, sorted by reference.
func (r *Report) Objects() []Object {
	out := make([]Object, 0, r.count())
	conds := make([]Condition, r.count()) // their Conditions, in one block
	r.each(func(ref Ref, e *entry) {
		i := len(out)
		out = append(out, e.objectIn(ref, conds[i:i+1:i+1]))
	})
	slices.SortFunc(out, func(a, b Object) int { return a.Ref.Compare(b.Ref) })
	return out
}

// Object returns the status of one object and whether it is tracked.
func (r *Report) Object(ref Ref) (Object, bool) {
	e, ok := r.get(ref)
	if !ok {
		return Object{}, false
	}
	return e.object(ref), true
}

// Findings returns every finding, most severe first, then by code, objects
// and message.
func (r *Report) Findings() []Finding {
	out := make([]Finding, 0, len(r.findings))
	for _, f := range r.findings {
		out = append(out, f)
	}
	sortFindings(out)
	return out
}

// sortFindings orders findings most severe first, then by code, objects
// and message.
func sortFindings(out []Finding) {
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		return a.key() < b.key()
	})
}

// object returns the status of ref from what e says of it; e may be nil
// (tracked, nothing said).
func (e *entry) object(ref Ref) Object { return e.objectIn(ref, make([]Condition, 1)) }

// objectIn is object, with the Object's one Condition written in conds
// (of length 1), which becomes its Conditions.
func (e *entry) objectIn(ref Ref, conds []Condition) Object {
	if e == nil {
		e = &entry{}
	}
	errs := sortSubs(e.errors)
	warns := sortSubs(e.warnings)
	o := Object{Ref: ref}
	cond := Condition{Type: "Valid", Errors: errs, Warnings: warns}
	switch {
	case len(errs) > 0:
		o.CurrentStatus, o.Description = Invalid, errorPresentMsg
		cond.Status, cond.Reason, cond.Message = "False", errorPresentReason, errorPresentMsg
	case e.orphaned || (!e.touched && (ref.Kind == KindHTTPProxy || ref.Kind == KindIngressRoute)):
		msg := orphanedMsgProxy
		if ref.Kind == KindIngressRoute {
			msg = orphanedMsgRoute
		}
		// As Contour: the orphan is an error sub-condition like any
		// other, while currentStatus and description say orphaned.
		o.CurrentStatus, o.Description = Orphaned, msg
		cond.Status, cond.Reason, cond.Message = "False", errorPresentReason, errorPresentMsg
		cond.Errors = []SubCondition{{Type: OrphanedError, Status: "True", Reason: string(OrphanedError), Message: msg}}
	default:
		o.CurrentStatus, o.Description = Valid, validMessage(ref.Kind)
		cond.Status, cond.Reason, cond.Message = "True", validReason, validMessage(ref.Kind)
	}
	conds[0] = cond
	o.Conditions = conds
	return o
}

func sortSubs(in []SubCondition) []SubCondition {
	if len(in) == 0 {
		return nil
	}
	out := append([]SubCondition(nil), in...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Reason != b.Reason {
			return a.Reason < b.Reason
		}
		return a.Message < b.Message
	})
	return out
}
