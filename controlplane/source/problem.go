package source

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Problem is one document (or object) that could not be used. Every field
// that is known is filled, so the message can say exactly where to look.
type Problem struct {
	File string
	// Doc is the 1-based document index in File (0 when the whole file failed).
	Doc int
	// Line is the 1-based line in File (0 when unknown).
	Line      int
	Kind      string
	Namespace string
	Name      string
	// Field is the JSON path of the offending field, when known.
	Field   string
	Message string
	// Hint suggests a fix, when one is likely.
	Hint string
}

// Error renders the problem as
// "file: document 2 (line 14): Ingress teama/blog: field spec: message; hint".
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Doc > 0 {
		fmt.Fprintf(&b, ": document %d", p.Doc)
		if p.Line > 0 {
			fmt.Fprintf(&b, " (line %d)", p.Line)
		}
	} else if p.Line > 0 {
		fmt.Fprintf(&b, ": line %d", p.Line)
	}
	if p.Kind != "" || p.Name != "" {
		b.WriteString(": ")
		b.WriteString(strings.TrimSpace(p.Kind + " " + joinName(p.Namespace, p.Name)))
	}
	if p.Field != "" {
		fmt.Fprintf(&b, ": field %s", p.Field)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	if p.Hint != "" {
		b.WriteString("; ")
		b.WriteString(p.Hint)
	}
	return b.String()
}

func joinName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

var yamlLine = regexp.MustCompile(`^(?:error converting YAML to JSON: )?yaml: line (\d+): (.*)$`)

// yamlProblem turns a YAML syntax error inside a document that starts at
// line start of the file into a Problem with the file line, the field on
// that line, and a hint for the usual indentation mistakes.
func yamlProblem(err error, doc []string, start int) Problem {
	p := Problem{Message: err.Error()}
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return p
	}
	rel, _ := strconv.Atoi(m[1])
	p.Line = start + rel - 1
	p.Message = "invalid YAML: " + m[2]
	if rel >= 1 && rel <= len(doc) {
		p.Field = keyOf(doc[rel-1])
	}
	if field, value, ok := scalarWithChildren(doc, rel); ok {
		p.Field = field
		p.Hint = fmt.Sprintf("%s has the value %q, but the lines after it look like its fields: "+
			"remove the value (write `%s:`) and indent its fields under it, by the same amount", field, value, field)
	} else if key, ok := unindentedAfterParent(doc, rel); ok {
		p.Hint = fmt.Sprintf("check the indentation around %q: fields of one mapping must start in the same column", key)
	}
	return p
}

// keyOf returns the mapping key on a YAML line, or "".
func keyOf(line string) string {
	s := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- "))
	if k, _, ok := strings.Cut(s, ":"); ok && !strings.ContainsAny(k, " \"'{[") {
		return k
	}
	return ""
}

// scalarWithChildren finds, at or before line rel (1-based), a line
// "key: value" whose value is a plain scalar and that is followed by a line
// indented deeper, or by a known child key of key at any indentation — the
// shape of `spec: wordpress-blog` followed by `rules:`.
func scalarWithChildren(doc []string, rel int) (key, value string, ok bool) {
	for i := min(rel, len(doc)) - 1; i >= 0; i-- {
		k, v, found := strings.Cut(strings.TrimSpace(doc[i]), ":")
		v = strings.TrimSpace(v)
		if !found || k == "" || strings.ContainsAny(k, " \"'") || v == "" || strings.HasPrefix(v, "#") ||
			strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") || strings.HasPrefix(v, "|") || strings.HasPrefix(v, ">") {
			continue
		}
		next := nextContent(doc, i+1)
		if next < 0 {
			continue
		}
		if indent(doc[next]) > indent(doc[i]) || childKeys[k][keyOf(doc[next])] {
			return strings.TrimPrefix(k, "- "), v, true
		}
	}
	return "", "", false
}

// childKeys are fields that only ever appear under the given parent, used to
// recognise a parent whose value was written on its own line by mistake.
var childKeys = map[string]map[string]bool{
	"spec":     {"rules": true, "tls": true, "defaultBackend": true, "backend": true, "ingressClassName": true, "virtualhost": true, "routes": true, "includes": true, "tcpproxy": true, "ports": true, "selector": true},
	"metadata": {"name": true, "namespace": true, "labels": true, "annotations": true},
}

// unindentedAfterParent reports a key at line rel that sits at the same
// column as a parent whose value is empty on the line above.
func unindentedAfterParent(doc []string, rel int) (string, bool) {
	if rel < 2 || rel > len(doc) {
		return "", false
	}
	return keyOf(doc[rel-1]), keyOf(doc[rel-1]) != ""
}

func nextContent(doc []string, from int) int {
	for i := from; i < len(doc); i++ {
		s := strings.TrimSpace(doc[i])
		if s != "" && !strings.HasPrefix(s, "#") {
			return i
		}
	}
	return -1
}

func indent(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }
