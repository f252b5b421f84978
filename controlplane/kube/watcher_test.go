package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// TestTransformsDropWhatTheCoreNeverReads checks what the informers keep:
// no managedFields, no last-applied copy, every other annotation, and of a
// Secret only the keys TLS reads.
func TestTransformsDropWhatTheCoreNeverReads(t *testing.T) {
	managed := []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	p := &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Name: "p", ManagedFields: managed,
		Annotations: map[string]string{lastApplied: `{"big":"copy"}`, "projectcontour.io/ingress.class": "x"}}}
	if _, err := stripManagedFields(p); err != nil {
		t.Fatal(err)
	}
	if p.ManagedFields != nil || !cmp.Equal(p.Annotations, map[string]string{"projectcontour.io/ingress.class": "x"}) {
		t.Errorf("HTTPProxy kept managedFields %v, annotations %v", p.ManagedFields, p.Annotations)
	}
	only := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{lastApplied: "{}"}}}
	if _, _ = stripManagedFields(only); only.Annotations != nil {
		t.Errorf("a Service whose only annotation was last-applied kept %v", only.Annotations)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{ManagedFields: managed, Annotations: map[string]string{lastApplied: "{}"}},
		Data:       map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k"), "ca.crt": []byte("a"), "password": []byte("p")},
		StringData: map[string]string{"x": "y"}}
	if _, err := trimSecret(s); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k"), "ca.crt": []byte("a")}
	if s.ManagedFields != nil || s.Annotations != nil || s.StringData != nil || !cmp.Equal(s.Data, want) {
		t.Errorf("Secret kept managedFields %v, annotations %v, stringData %v, data %v", s.ManagedFields, s.Annotations, s.StringData, s.Data)
	}
}
