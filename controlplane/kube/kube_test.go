package kube

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
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
	// An Opaque Secret keeps what may be a JWT key set (localJWKS names
	// any key), nothing else; another type keeps no such value.
	jwks := []byte(` {"keys": [{"kty": "RSA"}]}`)
	for typ, want := range map[corev1.SecretType]map[string][]byte{
		corev1.SecretTypeOpaque: {"jwks.json": jwks},
		corev1.SecretTypeTLS:    {"tls.crt": []byte("c")},
	} {
		s := &corev1.Secret{Type: typ, Data: map[string][]byte{"jwks.json": jwks, "config.json": []byte(`{"a": 1}`),
			"password": []byte("p"), "tls.crt": []byte("c")}}
		if typ == corev1.SecretTypeOpaque {
			delete(s.Data, "tls.crt")
		}
		if _, err := trimSecret(s); err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(s.Data, want) {
			t.Errorf("%s Secret: data %q, want %q", typ, s.Data, want)
		}
	}
}

// TestStatusJobsOnlyForChangedStatuses: an object whose status already says
// what the build says gets no write; one that differs gets a copy with the
// new status, and the informer's object is left as it was.
func TestStatusJobsOnlyForChangedStatuses(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	w := &StatusWriter{Now: func() time.Time { return now }}
	valid := status.Object{Ref: status.Ref{Kind: status.KindHTTPProxy, Namespace: "a", Name: "same"},
		CurrentStatus: "valid", Description: "Valid HTTPProxy",
		Conditions: []status.Condition{{Type: "Valid", Status: "True", Reason: "Valid", Message: "Valid HTTPProxy"}}}
	changed := valid
	changed.Ref.Name = "changed"
	idx := source.NewIndex()
	for _, name := range []string{"same", "changed"} {
		p := &contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: name, Generation: 2}}
		if name == "same" {
			p.Status = proxyStatus(valid, contourv1.HTTPProxyStatus{}, 2, corev1.LoadBalancerStatus{}, metav1.NewTime(now.Add(-time.Hour)))
		} else {
			p.Status.CurrentStatus = "invalid"
		}
		if err := idx.Upsert(p); err != nil {
			t.Fatal(err)
		}
	}
	jobs := w.jobs(idx, nil, []status.Object{valid, changed}, corev1.LoadBalancerStatus{})
	if len(jobs) != 1 || jobs[0].obj.GetName() != "changed" {
		t.Fatalf("jobs for %v, want one for a/changed", jobs)
	}
	d := jobs[0].desired.(*contourv1.HTTPProxy)
	if d.Status.CurrentStatus != "valid" || len(d.Status.Conditions) != 1 || d.Status.Conditions[0].ObservedGeneration != 2 ||
		!d.Status.Conditions[0].LastTransitionTime.Time.Equal(now) {
		t.Errorf("desired status %+v", d.Status)
	}
	if p, _ := idx.HTTPProxies.Get(source.Key("a", "changed")); p.Status.CurrentStatus != "invalid" {
		t.Errorf("the informer's object was changed to %q", p.Status.CurrentStatus)
	}
}

// TestExtensionServiceStatusJobs: an ExtensionService gets Contour's
// conditions (no currentStatus), keeping lastTransitionTime when its Valid
// condition did not change, and no write when nothing changed.
func TestExtensionServiceStatusJobs(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	before := metav1.NewTime(now.Add(-time.Hour))
	w := &StatusWriter{Now: func() time.Time { return now }}
	invalid := status.Object{Ref: status.Ref{Kind: status.KindExtensionService, Namespace: "a", Name: "auth"},
		CurrentStatus: "invalid", Description: "At least one error present, see Errors for details",
		Conditions: []status.Condition{{Type: "Valid", Status: "False", Reason: "ErrorPresent", Message: "At least one error present, see Errors for details",
			Errors: []status.SubCondition{{Type: status.ServiceError, Status: "True", Reason: "ServiceUnresolvedReference", Message: "Spec.Services[0]: gone"}}}}}
	idx := source.NewIndex()
	prev := []contourv1.DetailedCondition{{Condition: metav1.Condition{Type: "Valid", Status: "False", Reason: "ErrorPresent", LastTransitionTime: before}}}
	if err := idx.Upsert(&contourv1alpha1.ExtensionService{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "auth", Generation: 3},
		Status: contourv1alpha1.ExtensionServiceStatus{Conditions: prev}}); err != nil {
		t.Fatal(err)
	}
	jobs := w.jobs(idx, nil, []status.Object{invalid}, corev1.LoadBalancerStatus{})
	if len(jobs) != 1 {
		t.Fatalf("jobs for %v, want one for a/auth", jobs)
	}
	want := contourv1alpha1.ExtensionServiceStatus{Conditions: []contourv1.DetailedCondition{{
		Condition: metav1.Condition{Type: "Valid", Status: "False", Reason: "ErrorPresent", Message: "At least one error present, see Errors for details",
			ObservedGeneration: 3, LastTransitionTime: before},
		Errors: []contourv1.SubCondition{{Type: "ServiceError", Status: "True", Reason: "ServiceUnresolvedReference", Message: "Spec.Services[0]: gone"}},
	}}}
	got := jobs[0].desired.(*contourv1alpha1.ExtensionService).Status
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("desired status (-want +got):\n%s", d)
	}
	idx.ExtensionServices[source.Key("a", "auth")] = jobs[0].desired.(*contourv1alpha1.ExtensionService)
	if again := w.jobs(idx, nil, []status.Object{invalid}, corev1.LoadBalancerStatus{}); len(again) != 0 {
		t.Errorf("a second write for an unchanged status: %v", again)
	}
}

// TestStatusJobsSkipOutdatedObjects: a status computed from an object's
// older spec (its generation in the build differs from the newest) is not
// written: the build of the new spec writes it, with its generation.
func TestStatusJobsSkipOutdatedObjects(t *testing.T) {
	w := &StatusWriter{Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	valid := func(name string) status.Object {
		return status.Object{Ref: status.Ref{Kind: status.KindHTTPProxy, Namespace: "a", Name: name}, CurrentStatus: "valid",
			Conditions: []status.Condition{{Type: "Valid", Status: "True", Reason: "Valid", Message: "Valid HTTPProxy"}}}
	}
	index := func(gens map[string]int64) *source.Index {
		idx := source.NewIndex()
		for name, gen := range gens {
			if err := idx.Upsert(&contourv1.HTTPProxy{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: name, Generation: gen}}); err != nil {
				t.Fatal(err)
			}
		}
		return idx
	}
	built := index(map[string]int64{"edited": 1, "same": 1})
	current := index(map[string]int64{"edited": 2, "same": 1})
	objs := []status.Object{valid("edited"), valid("same")}
	jobs := w.jobs(current, built, objs, corev1.LoadBalancerStatus{})
	if len(jobs) != 1 || jobs[0].obj.GetName() != "same" {
		t.Fatalf("jobs for %v, want one for a/same", jobs)
	}
	if got := len(w.jobs(current, nil, objs, corev1.LoadBalancerStatus{})); got != 2 {
		t.Errorf("without the build's objects: %d jobs, want 2", got)
	}
}
