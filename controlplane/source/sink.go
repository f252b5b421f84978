package source

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// sink receives what decoding one document yields.
type sink interface {
	problem(Problem)
	note(sev status.Severity, code string, ref status.Ref, format string, args ...any)
	add(where Problem, h header, dec decoder, obj metav1.Object)
	// located records where an object that is not indexed (an ignored
	// kind) was read, for the findings that name it.
	located(where Problem, ref status.Ref)
}

// recorder is a sink that keeps the results of one document so that
// documents decoded in parallel can be applied in order.
type recorder struct {
	ops []op
}

// op is one recorded result: an object added (fn nil: where and d), or a
// problem or note (fn). Objects, by far the commonest, cost no closure.
type op struct {
	where Problem
	d     decoded
	fn    func(sink)
}

func (r *recorder) problem(p Problem) { r.ops = append(r.ops, op{fn: func(s sink) { s.problem(p) }}) }

func (r *recorder) note(sev status.Severity, code string, ref status.Ref, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.ops = append(r.ops, op{fn: func(s sink) { s.note(sev, code, ref, "%s", msg) }})
}

func (r *recorder) located(where Problem, ref status.Ref) {
	r.ops = append(r.ops, op{fn: func(s sink) { s.located(where, ref) }})
}

func (r *recorder) add(where Problem, h header, dec decoder, obj metav1.Object) {
	r.ops = append(r.ops, op{where: where, d: decoded{h, dec, obj}})
}

// only returns the object of a document that yielded one object and
// nothing else (no problem, no note), for Reuse.
func (r *recorder) only() (decoded, bool) {
	if len(r.ops) != 1 || r.ops[0].fn != nil {
		return decoded{}, false
	}
	return r.ops[0].d, true
}

// replay applies the recorded results to s.
func (r *recorder) replay(s sink) {
	for i := range r.ops {
		o := &r.ops[i]
		if o.fn != nil {
			o.fn(s)
			continue
		}
		s.add(o.where, o.d.h, o.d.dec, o.d.obj)
	}
}
