package graph

// Ingress class annotations, in precedence order.
const (
	annotationContourClass = "projectcontour.io/ingress.class"
	annotationKubeClass    = "kubernetes.io/ingress.class"
)

// defaultClass is the class processed when no class is configured.
const defaultClass = "contour"

// objectClass returns the class an object asks for: the projectcontour.io
// annotation, then the kubernetes.io annotation, then the spec field.
func objectClass(annotations map[string]string, specClass *string) string {
	if c, ok := annotations[annotationContourClass]; ok {
		return c
	}
	if c, ok := annotations[annotationKubeClass]; ok {
		return c
	}
	if specClass != nil {
		return *specClass
	}
	return ""
}

// classMatches reports whether an object asking for class is processed:
// with no configured class, objects with no class or class "contour"; with
// one, exactly that class.
func (b *builder) classMatches(class string) bool {
	if b.opts.IngressClass == "" {
		return class == "" || class == defaultClass
	}
	return class == b.opts.IngressClass
}
