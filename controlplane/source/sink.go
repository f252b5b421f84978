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
}

// recorder is a sink that keeps the results of one document so that
// documents decoded in parallel can be applied in order.
type recorder struct {
	ops []func(sink)
	// single is the last object added, for Reuse.
	single *decoded
}

func (r *recorder) problem(p Problem) { r.ops = append(r.ops, func(s sink) { s.problem(p) }) }

func (r *recorder) note(sev status.Severity, code string, ref status.Ref, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.ops = append(r.ops, func(s sink) { s.note(sev, code, ref, "%s", msg) })
}

func (r *recorder) add(where Problem, h header, dec decoder, obj metav1.Object) {
	r.single = &decoded{h, dec, obj}
	r.ops = append(r.ops, func(s sink) { s.add(where, h, dec, obj) })
}

// replay applies the recorded results to s.
func (r *recorder) replay(s sink) {
	for _, op := range r.ops {
		op(s)
	}
}
