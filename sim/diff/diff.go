package diff

import (
	"fmt"
	"strings"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/sim/probe"
)

// State is one side of a diff: the objects and what the core made of them.
type State struct {
	Index  *source.Index
	Result *controlplane.Result

	// prepared by Prepare, or by Compare when missing.
	digests digests
	probes  []probe.Probe
	ready   bool
}

// Prepare does the work of Compare that needs only this state (digests of
// its resources, its probes), so that a caller can do it while the other
// state is still compiling. Compare does it for states that were not
// prepared.
func (s *State) Prepare() {
	if s.ready || s.Result == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.probes = probe.Derive(s.Result.Resources)
	}()
	s.digests = digest(s.Result.Resources)
	<-done
	s.ready = true
}

// Backend is one destination of a request with its share of the traffic.
type Backend struct {
	Namespace string `json:"namespace"`
	Service   string `json:"service"`
	Port      int    `json:"port"`
	Weight    int    `json:"weight"`
}

// Answer is what a request gets, reduced to what a reviewer compares.
type Answer struct {
	Routed   bool      `json:"routed"`
	Status   int       `json:"status"`
	Backends []Backend `json:"backends"`
	Redirect string    `json:"redirect,omitempty"`
	// Source is the object whose route answered ("HTTPProxy ns/name").
	Source string `json:"source,omitempty"`
}

// Same reports whether two answers send the request to the same place.
func (a Answer) Same(b Answer) bool {
	if a.Routed != b.Routed || a.Status != b.Status || a.Redirect != b.Redirect || len(a.Backends) != len(b.Backends) {
		return false
	}
	for i := range a.Backends {
		if a.Backends[i] != b.Backends[i] {
			return false
		}
	}
	return true
}

// String renders an answer on one line.
func (a Answer) String() string {
	switch {
	case a.Status == 0:
		return "no answer (connection refused or TLS handshake failed)"
	case a.Redirect != "":
		return fmt.Sprintf("%d → %s", a.Status, a.Redirect)
	case len(a.Backends) == 0:
		return fmt.Sprintf("%d (not routed)", a.Status)
	}
	parts := make([]string, len(a.Backends))
	for i, b := range a.Backends {
		parts[i] = fmt.Sprintf("%s/%s:%d", b.Namespace, b.Service, b.Port)
		if len(a.Backends) > 1 {
			parts[i] += fmt.Sprintf(" %d%%", b.Weight)
		}
	}
	return fmt.Sprintf("%d %s", a.Status, strings.Join(parts, ", "))
}

// Request is a request to compare: a probe derived from a state, or one from
// a requests file.
type Request struct {
	Name string `json:"name,omitempty"`
	// probe is set for derived probes: where they came from, so unchanged
	// hosts can be skipped.
	probe   *probe.Probe
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers,omitempty"`
	// ClientIP is the client's address, for IP filters (see
	// router.Request.ClientIP).
	ClientIP string `json:"clientIP,omitempty"`
}

// Evaluator answers a request against a resource set.
type Evaluator func(res *xds.Resources, req Request) (Answer, error)

// Options tune Compare.
type Options struct {
	// Requests are checked in addition to the probes.
	Requests []Request
	// NoProbes turns off the probes derived from both states.
	NoProbes bool
	// Evaluate answers requests; without it no request is compared.
	Evaluate Evaluator
}

// RequestChange is a request whose answer differs between the states.
type RequestChange struct {
	Request Request `json:"request"`
	Before  Answer  `json:"before"`
	After   Answer  `json:"after"`
	// Unrouted says a request that was routed is not any more.
	Unrouted bool `json:"unrouted"`
}

// Report is the whole difference.
type Report struct {
	Objects   []ObjectChange   `json:"objects"`
	Statuses  []StatusChange   `json:"statuses"`
	Findings  FindingChanges   `json:"findings"`
	Resources []ResourceChange `json:"resources"`
	Requests  []RequestChange  `json:"requests"`
	// Probes is how many requests were compared.
	Probes int `json:"probes"`
	// Dangers explain why the change is dangerous (exit code 3): an object
	// that becomes invalid, a routed request that becomes unrouted.
	Dangers []string `json:"dangers"`
}

// Empty reports whether nothing differs.
func (r *Report) Empty() bool {
	return len(r.Objects) == 0 && len(r.Statuses) == 0 && len(r.Findings.Added) == 0 &&
		len(r.Findings.Removed) == 0 && len(r.Resources) == 0 && len(r.Requests) == 0
}

// Compare computes the difference from base to head.
func Compare(base, head State, opts Options) (*Report, error) {
	r := &Report{Dangers: []string{}}
	prepared := make(chan struct{})
	go func() { // while objects, statuses and findings are compared
		defer close(prepared)
		base.Prepare()
		head.Prepare()
	}()
	var err error
	r.Objects, err = compareObjects(base.Index, head.Index)
	if err == nil {
		r.Statuses = compareStatuses(base.Result.Statuses, head.Result.Statuses)
		r.Findings = compareFindings(base.Result.Findings, head.Result.Findings)
	}
	<-prepared
	if err != nil {
		return nil, err
	}
	db, dh := base.digests, head.digests
	if r.Resources, err = compareResources(base.Result.Resources, head.Result.Resources, db, dh); err != nil {
		return nil, err
	}
	if opts.Evaluate != nil {
		if err := r.compareRequests(base, head, opts, db, dh); err != nil {
			return nil, err
		}
	}
	r.classify()
	return r, nil
}

// compareRequests answers, on both states, the given requests then the
// probes of both states (each distinct request once, all of them counted in
// r.Probes), skipping the probes of hosts whose answers cannot differ.
func (r *Report) compareRequests(base, head State, opts Options, db, dh digests) error {
	affected := affectedHosts(base.Result.Resources, head.Result.Resources, db, dh)
	seen := map[string]bool{}
	var todo []Request
	for _, q := range opts.Requests {
		if q.Method == "" {
			q.Method = "GET"
		}
		k := probe.RequestKey(q.Method, q.URL, q.Headers)
		if q.ClientIP != "" { // probes have none: a request from an address is another request
			k += " from " + q.ClientIP
		}
		if !seen[k] {
			seen[k] = true
			todo = append(todo, q)
		}
	}
	if !opts.NoProbes {
		for _, probes := range [][]probe.Probe{base.probes, head.probes} {
			for i := range probes {
				p := &probes[i]
				if seen[p.Key] {
					continue
				}
				seen[p.Key] = true
				if affected.includes(p) { // else its host, listeners, clusters and endpoints are unchanged: same answer
					todo = append(todo, Request{URL: p.URL, Method: p.Method, Headers: p.Headers, probe: p})
				}
			}
		}
	}
	r.Probes = len(seen)
	for _, q := range todo {
		before, err := opts.Evaluate(base.Result.Resources, q)
		if err != nil {
			return fmt.Errorf("request %s: %w", q.URL, err)
		}
		after, err := opts.Evaluate(head.Result.Resources, q)
		if err != nil {
			return fmt.Errorf("request %s: %w", q.URL, err)
		}
		if !before.Same(after) {
			r.Requests = append(r.Requests, RequestChange{Request: q, Before: before, After: after,
				Unrouted: before.Routed && !after.Routed})
		}
	}
	return nil
}

// classify lists what makes the change dangerous.
func (r *Report) classify() {
	for _, s := range r.Statuses {
		if s.After == status.Invalid && s.Before != status.Invalid {
			r.Dangers = append(r.Dangers, fmt.Sprintf("%s becomes invalid", s.Ref))
		}
	}
	for _, q := range r.Requests {
		if q.Unrouted {
			r.Dangers = append(r.Dangers, fmt.Sprintf("%s %s was routed (%s) and is not any more (%s)",
				q.Request.Method, q.Request.URL, q.Before, q.After))
		}
	}
}
