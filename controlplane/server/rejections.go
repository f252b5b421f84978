package server

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/translate"
)

// Rejection is a revision of one type that an Envoy rejected (a NACK) and
// that no Envoy has accepted since, nor any newer revision of that type.
type Rejection struct {
	// Type is the type URL and Revision the revision rejected.
	Type     string
	Revision uint64
	// Message is Envoy's error detail.
	Message string
	// Resources are the names that changed at that revision (those the
	// message names, when it names some); none when they are not known
	// (the first revision holds everything).
	Resources []string
	// Objects are the Kubernetes objects those resources were built from
	// (translate.Origins), sorted.
	Objects []status.Ref
}

// Rejections returns the standing rejections, one per type at most, in
// type order.
func (s *Server) Rejections() []Rejection { return s.rejections.standing() }

// Describe says what Envoy rejected, for the objects r names: the revision,
// the type and resources, and Envoy's message (cut at 1,000 bytes).
func (r Rejection) Describe() string {
	msg := r.Message
	if len(msg) > 1000 {
		msg = msg[:1000] + "…"
	}
	what := shortType(r.Type)
	if len(r.Resources) > 0 {
		what += " " + listed(r.Resources)
	}
	return fmt.Sprintf("Envoy rejected revision %d of the %s built from this object: %s", r.Revision, what, msg)
}

// Warning is the sub-condition the objects r names carry in their status
// while it stands.
func (r Rejection) Warning() status.SubCondition {
	return status.SubCondition{Type: status.EnvoyRejected, Status: "True", Reason: string(status.EnvoyRejected),
		Message: r.Describe() + "; Envoys that connect are given the last revision an Envoy accepted until a newer one is accepted"}
}

// Rejected returns a channel of its own that receives a value whenever the
// standing rejections change: a NACK recorded, or one lifted by an Envoy
// accepting that revision or a newer one. It holds at most one pending
// value: a reader that calls Rejections after each sees the latest.
func (s *Server) Rejected() <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.rejections.mu.Lock()
	s.rejections.listeners = append(s.rejections.listeners, ch)
	s.rejections.mu.Unlock()
	return ch
}

// rejections holds the standing rejection of each type, and the channels
// told of changes.
type rejections struct {
	mu        sync.Mutex
	byType    map[string]Rejection
	listeners []chan struct{}
}

func newRejections() rejections {
	return rejections{byType: map[string]Rejection{}}
}

// add records r unless a rejection of its type as new stands (the first
// NACK of a revision is the one kept).
func (rs *rejections) add(r Rejection) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if old, ok := rs.byType[r.Type]; ok && old.Revision >= r.Revision {
		return
	}
	rs.byType[r.Type] = r
	rs.signal()
}

// of returns the standing rejection of type t if it is of revision rev.
func (rs *rejections) of(t string, rev uint64) (Rejection, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r, ok := rs.byType[t]
	return r, ok && r.Revision == rev
}

// accepted lifts the rejection of type t when revision rev is as new.
func (rs *rejections) accepted(t string, rev uint64) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if old, ok := rs.byType[t]; ok && old.Revision <= rev {
		delete(rs.byType, t)
		rs.signal()
	}
}

// signal leaves one pending value on each listener's channel.
func (rs *rejections) signal() {
	for _, ch := range rs.listeners {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// standing returns the rejections, in type order.
func (rs *rejections) standing() []Rejection {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []Rejection
	for _, t := range servedTypes {
		if r, ok := rs.byType[t]; ok {
			out = append(out, r)
		}
	}
	return out
}

// rejected works out what a NACK of revision rev of c's type rejected:
// the resources that changed at that revision (those Envoy's message
// names, when it names any of them), and the Kubernetes objects they were
// built from (translate.Origins, read from the set last applied).
func (s *Server) rejected(c *deltaCache, rev uint64, message string) Rejection {
	r := Rejection{Type: c.typeURL, Revision: rev, Message: message, Resources: c.changedAt(rev)}
	var named []string
	for _, n := range r.Resources {
		if translate.Mentions(message, n) {
			named = append(named, n)
		}
	}
	if len(named) > 0 {
		r.Resources = named
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.applied == nil {
		return r
	}
	for _, n := range r.Resources {
		r.Objects = append(r.Objects, translate.Origins(s.applied.Resources(), c.typeURL, n, message)...)
	}
	slices.SortFunc(r.Objects, status.Ref.Compare)
	r.Objects = slices.Compact(r.Objects)
	return r
}

// refStrings renders refs as "Kind namespace/name".
func refStrings(refs []status.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}

// listed renders names for a log line: at most ten, then how many more.
func listed(names []string) string {
	if len(names) > 10 {
		return strings.Join(names[:10], ", ") + fmt.Sprintf(" and %d more", len(names)-10)
	}
	return strings.Join(names, ", ")
}

// rejectedDesc describes isobar_xds_rejected_objects.
var rejectedDesc = prometheus.NewDesc("isobar_xds_rejected_objects",
	"Objects whose configuration an Envoy connected to this replica rejected (NACK), while no Envoy has accepted "+
		"that revision or a newer one of the type: 1 per type and object (see the NACK's log line for Envoy's message).",
	[]string{"type", "kind", "namespace", "name"}, nil)

// rejectedObjects reports the objects of the standing rejections, read
// when scraped.
type rejectedObjects struct{ rs *rejections }

// Describe sends the gauge's description.
func (r rejectedObjects) Describe(ch chan<- *prometheus.Desc) { ch <- rejectedDesc }

// Collect sends one sample per type and object rejected.
func (r rejectedObjects) Collect(ch chan<- prometheus.Metric) {
	for _, rej := range r.rs.standing() {
		for _, o := range rej.Objects {
			ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.GaugeValue, 1, shortType(rej.Type), o.Kind, o.Namespace, o.Name)
		}
	}
}
