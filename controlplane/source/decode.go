package source

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	networkingv1 "k8s.io/api/networking/v1"
	networkingv1beta1 "k8s.io/api/networking/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

type gvk struct{ apiVersion, kind string }

// decoder makes an empty object of one kind; clusterScoped kinds have no
// namespace.
type decoder struct {
	make          func() metav1.Object
	clusterScoped bool
	// convert, when set, turns the decoded object into the one indexed and
	// says why (a removed API version).
	convert func(metav1.Object) (any, string)
}

var decoders = map[gvk]decoder{
	{"v1", "Namespace"}:                                        {make: func() metav1.Object { return &corev1.Namespace{} }, clusterScoped: true},
	{"v1", "Service"}:                                          {make: func() metav1.Object { return &corev1.Service{} }},
	{"v1", "Endpoints"}:                                        {make: func() metav1.Object { return &corev1.Endpoints{} }},
	{"v1", "Secret"}:                                           {make: func() metav1.Object { return &corev1.Secret{} }},
	{"discovery.k8s.io/v1", "EndpointSlice"}:                   {make: func() metav1.Object { return &discoveryv1.EndpointSlice{} }},
	{"networking.k8s.io/v1", "Ingress"}:                        {make: func() metav1.Object { return &networkingv1.Ingress{} }},
	{"networking.k8s.io/v1", "IngressClass"}:                   {make: func() metav1.Object { return &networkingv1.IngressClass{} }, clusterScoped: true},
	{"networking.k8s.io/v1beta1", "Ingress"}:                   {make: func() metav1.Object { return &networkingv1beta1.Ingress{} }, convert: convertNetworkingV1beta1},
	{"extensions/v1beta1", "Ingress"}:                          {make: func() metav1.Object { return &extensionsv1beta1.Ingress{} }, convert: convertExtensionsV1beta1},
	{"projectcontour.io/v1", "HTTPProxy"}:                      {make: func() metav1.Object { return &contourv1.HTTPProxy{} }},
	{"projectcontour.io/v1", "TLSCertificateDelegation"}:       {make: func() metav1.Object { return &contourv1.TLSCertificateDelegation{} }},
	{"projectcontour.io/v1alpha1", "ExtensionService"}:         {make: func() metav1.Object { return &contourv1alpha1.ExtensionService{} }},
	{"contour.heptio.com/v1beta1", "IngressRoute"}:             {make: func() metav1.Object { return &heptiov1beta1.IngressRoute{} }},
	{"contour.heptio.com/v1beta1", "TLSCertificateDelegation"}: {make: func() metav1.Object { return &heptiov1beta1.TLSCertificateDelegation{} }},
}

// Finding codes of notes made while loading.
const (
	FindingDeprecatedAPIVersion = "DeprecatedAPIVersion"
	FindingIgnoredObject        = "IgnoredObject"
	FindingDuplicateObject      = "DuplicateObject"
)

// header is the part of every object read before its kind is known.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

func decodeYAML(l sink, file string, d document) {
	c := converters.Get().(*fastConverter)
	data, ok := c.convert(d.lines)
	if ok {
		// decodeJSON copies what it keeps: the buffer is reused at once.
		decodeJSON(l, file, d.index, firstContentLine(d), data)
	}
	converters.Put(c)
	if ok {
		return
	}
	data, err := yaml.YAMLToJSON([]byte(strings.Join(d.lines, "\n")))
	if err != nil {
		p := yamlProblem(err, d.lines, d.start)
		p.File, p.Doc = file, d.index
		p.Kind, p.Namespace, p.Name = guessIdentity(d.lines)
		l.problem(p)
		return
	}
	decodeJSON(l, file, d.index, firstContentLine(d), data)
}

func decodeJSON(l sink, file string, doc, line int, data []byte) {
	where := Problem{File: file, Doc: doc, Line: line}
	var h header
	if !scanHeader(data, &h) {
		h = header{}
		if err := json.Unmarshal(data, &h); err != nil {
			where.Message = "not a Kubernetes object: " + strings.TrimPrefix(err.Error(), "json: ")
			if len(data) > 0 && data[0] == '[' {
				where.Message = "not a Kubernetes object: the document is a list; objects are mappings with apiVersion and kind"
			}
			l.problem(where)
			return
		}
	}
	where.Kind, where.Namespace, where.Name = h.Kind, h.Metadata.Namespace, h.Metadata.Name
	switch {
	case h.APIVersion == "" && h.Kind == "":
		where.Message = "not a Kubernetes object: apiVersion and kind are missing"
		l.problem(where)
		return
	case h.APIVersion == "":
		where.Field, where.Message = "apiVersion", "missing"
		l.problem(where)
		return
	case h.Kind == "":
		where.Field, where.Message = "kind", "missing"
		l.problem(where)
		return
	}
	if strings.HasSuffix(h.Kind, "List") && h.Items != nil {
		for _, item := range h.Items {
			decodeJSON(l, file, doc, line, item)
		}
		return
	}
	dec, ok := decoders[gvk{h.APIVersion, h.Kind}]
	if !ok {
		unknown(l, where, h)
		return
	}
	if h.Metadata.Name == "" {
		where.Field, where.Message = "metadata.name", "missing"
		l.problem(where)
		return
	}
	obj := dec.make()
	if quickUnmarshal(data, obj) {
		l.add(where, h, dec, obj)
		return
	}
	obj = dec.make()
	strict, err := sigsjson.UnmarshalStrict(data, obj)
	if err != nil {
		where.Field, where.Message = fieldOf(err)
		l.problem(where)
		return
	}
	if len(strict) > 0 {
		for _, e := range strict {
			p := where
			p.Field, p.Message = fieldOf(e)
			l.problem(p)
		}
		return
	}
	l.add(where, h, dec, obj)
}

// add defaults the namespace, converts old versions, trims what the core
// does not read when asked to (LoadOptions.Trim) and indexes obj.
func (l *loader) add(where Problem, h header, dec decoder, obj metav1.Object) {
	if !dec.clusterScoped && obj.GetNamespace() == "" {
		obj.SetNamespace(l.opts.DefaultNamespace)
	}
	ref := status.Ref{Kind: h.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	var stored any = obj
	if dec.convert != nil {
		var why string
		stored, why = dec.convert(obj)
		l.note(status.SeverityWarning, FindingDeprecatedAPIVersion, ref, "%s: %s", h.APIVersion, why)
	}
	if s, ok := stored.(*corev1.Secret); ok {
		mergeStringData(s)
	}
	if s, ok := stored.(*corev1.Service); ok {
		if field, message, bad := invalidService(s); bad {
			where.Field, where.Message = field, message
			l.problem(where)
			return
		}
	}
	if l.opts.Trim {
		stored = Trim(stored)
	}
	origin := originOf(where)
	key := refKey{h.Kind, ref.Namespace, ref.Name}
	if prev, dup := l.seen[key]; dup {
		l.note(status.SeverityWarning, FindingDuplicateObject, ref,
			"defined twice: %s document %d and %s document %d; the later one is used", prev.File, prev.Doc, origin.File, origin.Doc)
	}
	l.seen[key] = origin
	if err := l.idx.Upsert(stored); err != nil {
		where.Message = err.Error()
		l.problem(where)
		return
	}
	l.located(where, ref)
}

// unknown reports a kind the core does not read: known Kubernetes kinds
// and the operator's Contour are noted and skipped; anything else is a
// problem naming what Isobar reads.
func unknown(l sink, where Problem, h header) {
	ref := status.Ref{Kind: h.Kind, Namespace: h.Metadata.Namespace, Name: h.Metadata.Name}
	gv, err := schema.ParseGroupVersion(h.APIVersion)
	l.located(where, ref)
	switch {
	case err == nil && clientgoscheme.Scheme.Recognizes(gv.WithKind(h.Kind)):
		l.note(status.SeverityInfo, FindingIgnoredObject, ref, "%s %s is not read by Isobar; ignored", h.APIVersion, h.Kind)
	case h.APIVersion == "operator.projectcontour.io/v1alpha1" && h.Kind == "Contour":
		l.note(status.SeverityInfo, FindingIgnoredObject, ref, "a Contour resource configures `isobar operator`; translate ignores it")
	case h.APIVersion == "apiextensions.k8s.io/v1" && h.Kind == "CustomResourceDefinition":
		l.note(status.SeverityInfo, FindingIgnoredObject, ref, "CustomResourceDefinitions are not read; ignored")
	default:
		where.Message = fmt.Sprintf("unknown kind %s %q; Isobar reads %s", h.APIVersion, h.Kind, describeKinds())
		where.Field = "kind"
		l.problem(where)
	}
}

// located records where ref was read, when asked to (LoadOptions.Origins).
func (l *loader) located(where Problem, ref status.Ref) {
	if l.opts.Origins {
		l.idx.Origins[ref] = originOf(where)
	}
}

// originOf is where the document of p was read.
func originOf(p Problem) Origin { return Origin{File: p.File, Doc: p.Doc, Line: p.Line} }

func (l *loader) note(sev status.Severity, code string, ref status.Ref, format string, args ...any) {
	l.idx.Notes = append(l.idx.Notes, status.Finding{Code: code, Severity: sev, Objects: []status.Ref{ref},
		Message: fmt.Sprintf(format, args...)})
}

// fieldOf extracts the field path and a short message from a JSON decoding
// error.
func fieldOf(err error) (field, msg string) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field, fmt.Sprintf("cannot be %s; it must be %s", jsonKind(te.Value), goKind(te.Type.String()))
	}
	s := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(s, "unknown field "); ok {
		return strings.Trim(f, `"`), "unknown field (check its spelling and indentation)"
	}
	if f, ok := strings.CutPrefix(s, "duplicate field "); ok {
		return strings.Trim(f, `"`), "given twice"
	}
	return "", s
}

func jsonKind(v string) string {
	switch v {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "a boolean"
	case "array":
		return "a list"
	case "object":
		return "a mapping"
	}
	return v
}

func goKind(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.Contains(t, "."):
		if strings.HasSuffix(t, "IntOrString") {
			return "a number or a string"
		}
		if strings.HasSuffix(t, "Duration") || strings.HasSuffix(t, "Time") {
			return "a string"
		}
		return "a mapping"
	case strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "int"):
		return wholeNumber(t)
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "a boolean"
	}
	return "a " + t
}

// wholeNumber says which whole numbers a Go integer type holds.
func wholeNumber(t string) string {
	bits := 64
	if n, err := strconv.Atoi(strings.TrimLeft(t, "uint")); err == nil {
		bits = n
	}
	if strings.HasPrefix(t, "u") {
		return fmt.Sprintf("a whole number from 0 to %d", uint64(1)<<bits-1)
	}
	return fmt.Sprintf("a whole number from %d to %d", -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1)
}

// guessIdentity reads kind, namespace and name from the text of a document
// that is not valid YAML, so its problem can still name the object.
func guessIdentity(lines []string) (kind, namespace, name string) {
	for _, l := range lines {
		if indent(l) > 2 {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(l), ":")
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		if !ok || v == "" {
			continue
		}
		switch k {
		case "kind":
			if kind == "" {
				kind = v
			}
		case "name":
			if name == "" {
				name = v
			}
		case "namespace":
			if namespace == "" {
				namespace = v
			}
		}
	}
	return kind, namespace, name
}

// mergeStringData does what the API server does with a Secret's
// stringData when the object is written: each entry goes into data (over
// a data entry of the same key), and stringData is emptied.
func mergeStringData(s *corev1.Secret) {
	if len(s.StringData) == 0 {
		return
	}
	if s.Data == nil {
		s.Data = make(map[string][]byte, len(s.StringData))
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}
