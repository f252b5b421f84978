package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/sim/linediff"
	"github.com/isobar-dev/isobar/sim/probe"
	"github.com/isobar-dev/isobar/sim/router"
)

// RunOptions tune Run.
type RunOptions struct {
	// GoldenDir holds golden/scenarios (the repository's golden/scenarios).
	GoldenDir string
	// Update rewrites the goldens instead of comparing.
	Update bool
}

// StepResult is the outcome of one step.
type StepResult struct {
	Name     string
	Failures []string
	// Diff is the unified diff against the golden, when it differs.
	Diff string
	// Golden is the golden file of the step.
	Golden string
}

// Result is the outcome of a scenario.
type Result struct {
	Scenario string
	Steps    []StepResult
}

// Failed reports whether any step failed.
func (r *Result) Failed() bool {
	for _, s := range r.Steps {
		if len(s.Failures) > 0 || s.Diff != "" {
			return true
		}
	}
	return false
}

// step is the state after one step.
type state struct {
	idx *source.Index
	res *controlplane.Result
}

// Run replays sc. An error means bad input (an unreadable file, an object
// that does not decode); mismatches are in the Result.
func Run(sc *Scenario, opts RunOptions) (*Result, error) {
	out := &Result{Scenario: sc.Name}
	prev := state{idx: source.NewIndex()}
	copts := controlplane.Options{Options: graph.Options{
		RootNamespaces: sc.Options.RootNamespaces, IngressClass: sc.Options.IngressClass,
		DisablePermitInsecure: sc.Options.DisablePermitInsecure, EnableExternalName: sc.Options.EnableExternalName,
	}}
	for i, st := range sc.Steps {
		objs, err := stepObjects(sc, st)
		if err != nil {
			return nil, fmt.Errorf("%s: steps[%d] %s: %w", sc.Path, i, st.Name, err)
		}
		cur, err := apply(prev.idx, objs, st.Delete, copts)
		if err != nil {
			return nil, fmt.Errorf("%s: steps[%d] %s: %w", sc.Path, i, st.Name, err)
		}
		sr := StepResult{Name: st.Name, Golden: filepath.Join(opts.GoldenDir, sc.Name, st.Name+".yaml")}
		sr.Failures = append(sr.Failures, checkExpect(st.Expect, cur.res)...)
		if i > 0 {
			sr.Failures = append(sr.Failures, transitionSafety(prev.res.Resources, cur.res.Resources, st.AllowUnrouted)...)
		}
		sr.Failures = append(sr.Failures, orderIndependence(prev.idx, objs, st.Delete, copts, cur.res)...)
		diff, err := checkGolden(sr.Golden, cur.res, opts.Update)
		if err != nil {
			return nil, err
		}
		sr.Diff = diff
		out.Steps = append(out.Steps, sr)
		prev = cur
	}
	return out, nil
}

// stepObjects reads the objects a step applies, in order.
func stepObjects(sc *Scenario, st Step) ([]source.Entry, error) {
	var out []source.Entry
	for j, raw := range st.Apply {
		var ref struct {
			File string `json:"file"`
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(raw, &ref); err != nil {
			return nil, fmt.Errorf("apply[%d]: %w", j, err)
		}
		var idx *source.Index
		var problems []source.Problem
		if ref.File != "" && ref.Kind == "" {
			idx, problems = source.Load(source.LoadOptions{}, filepath.Join(filepath.Dir(sc.Path), ref.File))
		} else {
			idx, problems = source.LoadBytes(source.LoadOptions{}, fmt.Sprintf("%s apply[%d]", sc.Path, j), raw)
		}
		if len(problems) > 0 {
			msgs := make([]string, len(problems))
			for k, p := range problems {
				msgs[k] = p.Error()
			}
			return nil, fmt.Errorf("apply[%d]: %s", j, strings.Join(msgs, "; "))
		}
		out = append(out, idx.Entries()...)
	}
	return out, nil
}

// apply returns prev with objs upserted and refs deleted, compiled.
func apply(prev *source.Index, objs []source.Entry, deletes []status.Ref, opts controlplane.Options) (state, error) {
	idx := prev.Clone()
	var held map[status.Ref]any // idx's objects by reference, made when a step has a slice
	for _, e := range objs {
		if e.Ref.Kind == status.KindEndpointSlice {
			if held == nil {
				held = objectsOf(idx)
			}
			// The index groups slices by Service: a slice may have moved.
			if old, ok := held[e.Ref]; ok {
				if err := idx.Delete(old); err != nil {
					return state{}, err
				}
			}
			held[e.Ref] = e.Object
		}
		if err := idx.Upsert(e.Object); err != nil {
			return state{}, err
		}
	}
	for _, d := range deletes {
		found := false
		for _, e := range idx.Entries() {
			if e.Ref == d {
				if err := idx.Delete(e.Object); err != nil {
					return state{}, err
				}
				found = true
			}
		}
		if !found {
			return state{}, fmt.Errorf("delete: %s does not exist", d)
		}
	}
	res, err := controlplane.Compile(idx, opts)
	if err != nil {
		return state{}, err
	}
	return state{idx: idx, res: res}, nil
}

// objectsOf returns the objects idx holds, by reference.
func objectsOf(idx *source.Index) map[status.Ref]any {
	out := map[status.Ref]any{}
	for _, e := range idx.EntriesUnordered() {
		out[e.Ref] = e.Object
	}
	return out
}

// checkExpect compares a step's expectations with its result.
func checkExpect(e Expect, res *controlplane.Result) []string {
	var out []string
	byRef := map[status.Ref]status.Object{}
	for _, o := range res.Statuses {
		byRef[o.Ref] = o
	}
	for _, want := range e.Status {
		got, ok := byRef[want.Ref]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("status of %s: want %s, but the object has no status", want.Ref, want.CurrentStatus))
		case got.CurrentStatus != want.CurrentStatus:
			out = append(out, fmt.Sprintf("status of %s: want %s, got %s (%s)", want.Ref, want.CurrentStatus, got.CurrentStatus, errorsOf(got)))
		}
	}
	all := res.AllFindings()
	for _, want := range e.Findings {
		if !hasFinding(all, want) {
			out = append(out, fmt.Sprintf("finding %s (severity %q, object %q, message %q) not reported", want.Code, want.Severity, want.Object, want.Message))
		}
	}
	rt := router.New(res.Resources, router.Options{})
	for j, raw := range e.Requests {
		var c router.Case
		if err := json.Unmarshal(raw, &c); err != nil {
			out = append(out, fmt.Sprintf("requests[%d]: %v", j, err))
			continue
		}
		r := rt.Evaluate(c.Request())
		for _, f := range router.Check(c, r) {
			name := c.Name
			if name == "" {
				name = c.URL
			}
			out = append(out, fmt.Sprintf("request %s: %s", name, f))
		}
	}
	return out
}

func errorsOf(o status.Object) string {
	var s []string
	for _, c := range o.Conditions {
		for _, e := range c.Errors {
			s = append(s, e.Reason+": "+e.Message)
		}
	}
	return strings.Join(s, "; ")
}

func hasFinding(all []status.Finding, want FindingExpect) bool {
	for _, f := range all {
		if f.Code != want.Code || (want.Severity != "" && f.Severity != want.Severity) ||
			(want.Message != "" && !strings.Contains(f.Message, want.Message)) {
			continue
		}
		if want.Object == "" {
			return true
		}
		for _, o := range f.Objects {
			if o.String() == want.Object {
				return true
			}
		}
	}
	return false
}

// transitionSafety fails for every probe of the previous state that was
// routed before the step and is not after it, unless allowed.
func transitionSafety(before, after *xds.Resources, allowed []string) []string {
	ok := map[string]bool{}
	for _, u := range allowed {
		ok[u] = true
	}
	rb, ra := router.New(before, router.Options{}), router.New(after, router.Options{})
	var out []string
	for _, p := range probe.Derive(before) {
		req := router.Request{URL: p.URL, Method: p.Method, Headers: p.Headers}
		b := rb.Evaluate(req)
		if !b.Routed || ok[p.URL] {
			continue
		}
		if a := ra.Evaluate(req); !a.Routed {
			out = append(out, fmt.Sprintf("transition safety: %s %s was routed before this step and is not after it (status %d); list it in allowUnrouted if that is intended",
				p.Method, p.URL, a.Status))
		}
	}
	return out
}

// orderIndependence re-applies the step's objects in three seeded orders;
// each must give the same output.
func orderIndependence(prev *source.Index, objs []source.Entry, deletes []status.Ref, opts controlplane.Options, want *controlplane.Result) []string {
	if len(objs) < 2 {
		return nil
	}
	wantBytes, err := marshal(want)
	if err != nil {
		return []string{err.Error()}
	}
	for seed := uint64(1); seed <= 3; seed++ {
		shuffled := append([]source.Entry(nil), objs...)
		r := rand.New(rand.NewPCG(seed, 0x15084))
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		st, err := apply(prev, shuffled, deletes, opts)
		if err != nil {
			return []string{err.Error()}
		}
		got, err := marshal(st.res)
		if err != nil {
			return []string{err.Error()}
		}
		if !bytes.Equal(got, wantBytes) {
			return []string{fmt.Sprintf("order independence: applying the step's objects in another order (seed %d) gives a different result", seed)}
		}
	}
	return nil
}

func marshal(res *controlplane.Result) ([]byte, error) {
	var b bytes.Buffer
	err := xds.Marshal(&b, xds.Document{Resources: res.Resources, Status: res.Statuses, Findings: res.Findings}, xds.MarshalOptions{})
	return b.Bytes(), err
}

// checkGolden compares the step's document with its golden, semantically
// (resources as protos, statuses and findings as values); on a difference
// it returns a unified diff of the two texts.
func checkGolden(path string, res *controlplane.Result, update bool) (string, error) {
	got, err := marshal(res)
	if err != nil {
		return "", err
	}
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		return "", os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("golden %s is missing (run `isobar sim --update` or `make update-golden`)\n", path), nil
	}
	if same, err := sameDocument(want, got); err != nil || same {
		return "", err
	}
	return linediff.Unified(path, "got", string(want), string(got), 3), nil
}
