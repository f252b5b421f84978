package graph

import "strings"

// Ingress class annotations, in precedence order.
const (
	annotationContourClass = "projectcontour.io/ingress.class"
	annotationKubeClass    = "kubernetes.io/ingress.class"
)

// defaultClass is the class processed when no class is configured.
const defaultClass = "contour"

// objectClass returns the class an object asks for, as Contour reads it:
// the projectcontour.io annotation, else the kubernetes.io annotation, and
// when that is absent or empty the spec field.
func objectClass(annotations map[string]string, specClass *string) string {
	c, ok := annotations[annotationContourClass]
	if !ok {
		c = annotations[annotationKubeClass]
	}
	if c == "" && specClass != nil {
		return *specClass
	}
	return c
}

// classMatches reports whether an object asking for class is processed:
// with no configured class, objects with no class or class "contour"; with
// some (Options.IngressClass, a comma-separated list as Contour's
// --ingress-class-name), one of them exactly.
func (b *builder) classMatches(class string) bool {
	if b.opts.IngressClass == "" {
		return class == "" || class == defaultClass
	}
	for c := range strings.SplitSeq(b.opts.IngressClass, ",") {
		if c == class {
			return true
		}
	}
	return false
}
