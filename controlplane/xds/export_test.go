package xds

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"
)

// FastJSON gives the external tests (fastjson_corpus_test.go) the fast
// encoder.
type FastJSON struct{ e jsonEncoder }

// Check encodes m with the fast encoder and with protojson, fails t if the
// fast encoder accepted m and wrote something else, and reports whether it
// accepted m.
func (f *FastJSON) Check(t testing.TB, m proto.Message) bool { return checkFastJSON(t, &f.e, m) }

// Append is the fast encoder itself.
func (f *FastJSON) Append(b []byte, m proto.Message) ([]byte, bool) { return f.e.appendJSON(b, m) }

// HasStructPlan reports whether the fast encoder reads messages of m's
// type through their Go struct (see planOf).
func HasStructPlan(m proto.Message) bool {
	return planOf(reflect.TypeOf(m).Elem()) != nil
}
