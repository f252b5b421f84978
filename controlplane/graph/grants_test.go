package graph

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/isobar-dev/isobar/controlplane/source"
)

func TestIncludeGranted(t *testing.T) {
	idx := source.NewIndex()
	for name, grant := range map[string]string{"listed": "platform, infra", "anyone": "*", "others": "platform", "empty": "",
		"spaces": " infra ", "prefix": "infra-2"} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if grant != "" {
			ns.Annotations = map[string]string{IncludeFromAnnotation: grant}
		}
		idx.Namespaces[name] = ns
	}
	idx.Namespaces["other-annotation"] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other-annotation",
		Annotations: map[string]string{"projectcontour.io/include-from": "infra"}}}
	for _, c := range []struct {
		grants   bool
		from, to string
		want     bool
	}{
		{false, "infra", "others", true},  // off: any namespace, as in Contour
		{false, "infra", "missing", true}, // off: not even the Namespace is needed
		{true, "infra", "infra", true},    // within a namespace: no grant needed
		{true, "infra", "listed", true},   // listed among others
		{true, "infra", "anyone", true},   // "*"
		{true, "infra", "spaces", true},   // spaces around a name are ignored
		{true, "infra", "others", false},  // lists someone else
		{true, "infra", "prefix", false},  // a longer name is another namespace
		{true, "infra", "empty", false},   // no annotation
		{true, "infra", "missing", false}, // no Namespace object
		{true, "infra", "other-annotation", false},
		{true, "platform", "listed", true}, // the first of the list
	} {
		b := &builder{idx: idx, opts: &Options{IncludeGrants: c.grants}}
		if got := b.includeGranted(c.from, c.to); got != c.want {
			t.Errorf("grants %v: %s → %s = %v, want %v", c.grants, c.from, c.to, got, c.want)
		}
	}
}
