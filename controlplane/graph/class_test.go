package graph

import "testing"

// TestObjectClass: the class an object asks for, read as Contour reads it:
// Contour's annotation, else Kubernetes', and when neither is set or the
// one set is empty, the spec field.
func TestObjectClass(t *testing.T) {
	t.Parallel()
	spec := "from-spec"
	for _, c := range []struct {
		name string
		ann  map[string]string
		spec *string
		want string
	}{
		{"nothing", nil, nil, ""},
		{"spec only", nil, &spec, "from-spec"},
		{"contour annotation first", map[string]string{annotationContourClass: "a", annotationKubeClass: "b"}, &spec, "a"},
		{"kubernetes annotation", map[string]string{annotationKubeClass: "b"}, &spec, "b"},
		{"empty annotation: the spec", map[string]string{annotationKubeClass: ""}, &spec, "from-spec"},
		{"empty contour annotation hides the kubernetes one", map[string]string{annotationContourClass: "", annotationKubeClass: "b"}, &spec, "from-spec"},
		{"empty annotation, no spec", map[string]string{annotationKubeClass: ""}, nil, ""},
	} {
		if got := objectClass(c.ann, c.spec); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestClassMatches: with no class configured, no class and "contour"; with
// a class or a comma-separated list (Contour's --ingress-class-name), one
// of them exactly.
func TestClassMatches(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		configured, class string
		want              bool
	}{
		{"", "", true}, {"", "contour", true}, {"", "nginx", false},
		{"internal", "internal", true}, {"internal", "", false}, {"internal", "contour", false},
		{"something,somethingelse", "somethingelse", true}, {"something,somethingelse", "something", true},
		{"something,somethingelse", "something,somethingelse", false}, {"something,somethingelse", "", false},
		{"a,b", "a,", false}, {"a, b", "b", false}, {"a, b", " b", true},
	} {
		b := &builder{opts: &Options{IngressClass: c.configured}}
		if got := b.classMatches(c.class); got != c.want {
			t.Errorf("configured %q, object %q: %v, want %v", c.configured, c.class, got, c.want)
		}
	}
}
