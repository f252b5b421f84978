package source

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// objectsNamed returns one object of every kind the index stores, named n.
func objectsNamed(n string) []any {
	m := metav1.ObjectMeta{Namespace: "ns", Name: n}
	return []any{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}},
		&corev1.Service{ObjectMeta: m},
		&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: n, Labels: map[string]string{ServiceLabel: "svc"}}},
		&corev1.Endpoints{ObjectMeta: m},
		&corev1.Secret{ObjectMeta: m},
		&networkingv1.Ingress{ObjectMeta: m},
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: n}},
		&contourv1.HTTPProxy{ObjectMeta: m},
		&contourv1.TLSCertificateDelegation{ObjectMeta: m},
		&heptiov1beta1.IngressRoute{ObjectMeta: m},
		&heptiov1beta1.TLSCertificateDelegation{ObjectMeta: m},
	}
}

// TestSnapshotNeverChanges writes every kind after snapshots and checks
// that each snapshot still holds exactly what a Clone taken at the same
// moment holds, while the index holds the writes.
func TestSnapshotNeverChanges(t *testing.T) {
	idx := NewIndex()
	for _, o := range append(objectsNamed("a"), objectsNamed("b")...) {
		if err := idx.Upsert(o); err != nil {
			t.Fatal(err)
		}
	}
	type taken struct{ snap, copy *Index }
	var all []taken
	for round, name := range []string{"c", "d", "e"} {
		all = append(all, taken{idx.Snapshot(), idx.Clone()})
		for _, o := range objectsNamed(name) {
			if err := idx.Upsert(o); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range objectsNamed("a") {
			if err := idx.Delete(o); err != nil {
				t.Fatal(err)
			}
		}
		for i, tk := range all {
			tk.snap.shared, tk.snap.snapshotted = 0, false // bookkeeping, not content
			tk.snap.HTTPProxies.shared, tk.snap.HTTPProxies.arrayShared = 0, false
			tk.snap.EndpointSlices.shared, tk.snap.EndpointSlices.arrayShared = 0, false
			if !reflect.DeepEqual(tk.snap, tk.copy) {
				t.Fatalf("round %d: snapshot %d changed after writes to the index", round, i)
			}
		}
		if _, ok := idx.HTTPProxies.Get(Key("ns", name)); !ok {
			t.Fatalf("round %d: the index lost its write", round)
		}
		if list, _ := idx.EndpointSlices.Get(Key("ns", "svc")); !slices.ContainsFunc(list, func(s *EndpointSlice) bool { return s.Name == name }) {
			t.Fatalf("round %d: the index lost its EndpointSlice write", round)
		}
		if _, ok := idx.Services[Key("ns", "a")]; ok {
			t.Fatalf("round %d: the index kept a deleted object", round)
		}
	}
}
