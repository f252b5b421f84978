package controlplane

import (
	"fmt"
	"slices"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/translate"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Options tune Compile.
type Options struct {
	graph.Options
}

// Result is everything one Compile produces.
type Result struct {
	Graph     *graph.Graph
	Resources *xds.Resources
	// Statuses of every HTTPProxy, IngressRoute and Ingress, sorted.
	Statuses []status.Object
	// Findings of the graph and the translation, most severe first.
	Findings []status.Finding
}

// AllFindings is what a person is told of r: Findings and every error and
// warning condition of Statuses, as findings, most severe first. A
// condition is told once: not again when a finding of the same code and
// severity names its object (a DuplicateVhost finding names every root
// claiming the fqdn, and each newcomer's status says the same).
func (r *Result) AllFindings() []status.Finding {
	type told struct {
		code     string
		severity status.Severity
		object   status.Ref
	}
	byFindings := map[told]bool{}
	for _, f := range r.Findings {
		for _, o := range f.Objects {
			byFindings[told{f.Code, f.Severity, o}] = true
		}
	}
	all := slices.Clone(r.Findings)
	for _, f := range status.ObjectFindings(r.Statuses) {
		if !byFindings[told{f.Code, f.Severity, f.Objects[0]}] {
			all = append(all, f)
		}
	}
	return status.SortFindings(all)
}

// Compile turns the objects of idx into xDS resources, statuses and
// findings. It is pure: the same index gives the same result, whatever the
// order objects were added in. An error is an Isobar bug (a resource failed
// Envoy's validation or the set is inconsistent), never bad input.
func Compile(idx *source.Index, opts Options) (*Result, error) {
	g, report := graph.Build(idx, opts.Options)
	res, findings, err := translate.Translate(g, idx)
	if err != nil {
		return nil, err
	}
	consistent := make(chan error, 1)
	go func() { consistent <- snapshot.Consistent(res) }() // while the statuses are sorted
	for _, f := range findings {
		report.Find(f)
	}
	out := &Result{Graph: g, Resources: res, Statuses: report.Objects(), Findings: report.Findings()}
	if err := <-consistent; err != nil {
		return nil, fmt.Errorf("inconsistent resources (this is an Isobar bug): %w", err)
	}
	return out, nil
}
