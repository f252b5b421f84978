package controlplane_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/internal/goldentest"
)

// badStrings and badNumbers are values users get wrong: empty, with a line
// break, longer than a name Envoy takes (a TLS server name is at most 255
// bytes), longer than a header Envoy takes (16,384 bytes), a regular
// expression that does not compile, the name of the one header Envoy
// refuses to set or remove (host); zero, negative, beyond 32 bits
// (4294967376 truncated to 32 bits is 80), huge.
var (
	badStrings = []any{"", "a\nb", strings.Repeat("x", 300), strings.Repeat("y", 17000), "(", "host"}
	badNumbers = []any{0, -1, 4294967376, 1e12}
)

// TestOneBadValue replaces, one at a time, every value under the spec and
// the annotations of each fixture's objects (Secrets, endpoints and
// Namespaces aside) by each bad value of its type, and flips every
// boolean. Whatever the value, the compile succeeds (an object Envoy
// would refuse is reported invalid, never a failed build), the set is
// consistent, and Envoy would accept all of it (envoyRefusal): a value
// that slipped into a listener's, cluster's or route configuration's
// typed configuration or header lists would have Envoy refuse the whole
// resource, every host's with it. A changed
// HTTPProxy is also applied as serve applies it (Compiler.Update), then
// undone the same way: both must give what a full compile gives.
func TestOneBadValue(t *testing.T) {
	var updates, ran atomic.Int64
	cases := goldentest.Cases(t)
	t.Cleanup(func() { // after the parallel subtests
		switch n := updates.Load(); {
		case ran.Load() < int64(len(cases)): // -run chose some cases
		case n < 5000:
			t.Errorf("only %d changes were applied by Update; the test barely exercises it", n)
		default:
			t.Logf("%d changes applied and undone by Update", n)
		}
	})
	for _, c := range cases {
		raw, err := os.ReadFile(c.Input)
		if err != nil {
			t.Fatal(err)
		}
		opts, ns := goldentest.CaseOptions(t, raw)
		docs := yamlDocuments(raw)
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			ran.Add(1)
			base, baseResult, msg := compileDocuments(opts, ns, docs)
			if msg != "" {
				t.Fatalf("the case itself: %s", msg)
			}
			comp := controlplane.NewCompiler(opts)
			if _, err := comp.Compile(base); err != nil {
				t.Fatal(err)
			}
			for i, doc := range docs {
				proxy, isProxy := proxyKey(doc, ns)
				for _, l := range mutableLeaves(doc) {
					for _, v := range badValuesFor(l.value) {
						docs := slices.Clone(docs)
						docs[i] = withValue(doc, l.path, v)
						where := fmt.Sprintf("document %d, %s set to %q", i, formatPath(l.path), truncate(fmt.Sprint(v), 40))
						idx, res, msg := compileDocuments(opts, ns, docs)
						if msg != "" {
							t.Errorf("%s: %s", where, msg)
							continue
						}
						if isProxy {
							updateBothWays(t, where, comp, proxy, idx, res, base, baseResult)
							updates.Add(1)
						}
					}
				}
			}
		})
	}
}

// updateBothWays has comp, which holds base's result, apply the change of
// HTTPProxy key that makes idx, then undo it, and checks each result
// against a full compile's (res, then baseResult).
func updateBothWays(t *testing.T, where string, comp *controlplane.Compiler, key types.NamespacedName,
	idx *source.Index, res *controlplane.Result, base *source.Index, baseResult *controlplane.Result) {
	t.Helper()
	got, err := comp.Update(idx, []types.NamespacedName{key})
	if err != nil {
		t.Fatalf("%s: Update: %v", where, err)
	}
	sameResult(t, where+", applied by Update", got, res)
	back, err := comp.Update(base, []types.NamespacedName{key})
	if err != nil {
		t.Fatalf("%s: Update back: %v", where, err)
	}
	sameResult(t, where+", undone by Update", back, baseResult)
}

// proxyKey is the namespace and name of doc when it is an HTTPProxy (ns
// when it names none).
func proxyKey(doc any, ns string) (types.NamespacedName, bool) {
	m, _ := doc.(map[string]any)
	md, _ := m["metadata"].(map[string]any)
	if m["kind"] != "HTTPProxy" || md == nil {
		return types.NamespacedName{}, false
	}
	k := types.NamespacedName{Namespace: ns}
	k.Name, _ = md["name"].(string)
	if n, ok := md["namespace"].(string); ok && n != "" {
		k.Namespace = n
	}
	return k, true
}

// compileDocuments loads and compiles docs, and says what is wrong with
// the result, or "" when nothing is.
func compileDocuments(opts controlplane.Options, ns string, docs []any) (*source.Index, *controlplane.Result, string) {
	var b strings.Builder
	for _, d := range docs {
		y, err := yaml.Marshal(d)
		if err != nil {
			return nil, nil, err.Error()
		}
		b.Write(y)
		b.WriteString("---\n")
	}
	idx, _ := source.LoadBytes(source.LoadOptions{DefaultNamespace: ns}, "input.yaml", []byte(b.String()))
	res, err := controlplane.Compile(idx, opts)
	if err != nil {
		return nil, nil, "compile: " + err.Error()
	}
	if err := snapshot.Consistent(res.Resources); err != nil {
		return nil, nil, "inconsistent: " + err.Error()
	}
	if err := envoyRefusal(res.Resources); err != nil {
		return nil, nil, err.Error()
	}
	return idx, res, ""
}

// yamlDocuments splits a fixture into its documents, as generic values.
// Those that do not parse (the cases of bad input have some) are left
// out.
func yamlDocuments(raw []byte) []any {
	var docs []any
	for _, part := range strings.Split(string(raw), "\n---") {
		var d any
		if err := yaml.Unmarshal([]byte(part), &d); err == nil && d != nil {
			docs = append(docs, d)
		}
	}
	return docs
}

// A leaf is a scalar of a document and where it is: map keys and list
// indexes from the document's root.
type leaf struct {
	path  []any
	value any
}

// mutableLeaves lists the scalars under the spec and the annotations of
// doc, unless it is a kind whose values the test leaves alone, in path
// order.
func mutableLeaves(doc any) []leaf {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	switch m["kind"] {
	case "Secret", "EndpointSlice", "Endpoints", "Namespace":
		return nil
	}
	var out []leaf
	if s, ok := m["spec"]; ok {
		out = appendLeaves(out, s, []any{"spec"})
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		if a, ok := md["annotations"]; ok {
			out = appendLeaves(out, a, []any{"metadata", "annotations"})
		}
	}
	slices.SortFunc(out, func(a, b leaf) int { return strings.Compare(formatPath(a.path), formatPath(b.path)) })
	return out
}

func appendLeaves(out []leaf, v any, path []any) []leaf {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			out = appendLeaves(out, c, append(slices.Clone(path), k))
		}
	case []any:
		for i, c := range x {
			out = appendLeaves(out, c, append(slices.Clone(path), i))
		}
	default:
		out = append(out, leaf{path, v})
	}
	return out
}

// badValuesFor lists the values that replace v.
func badValuesFor(v any) []any {
	switch x := v.(type) {
	case string:
		return badStrings
	case float64:
		return badNumbers
	case bool:
		return []any{!x}
	}
	return nil
}

// withValue returns a copy of doc with the scalar at path set to v (the
// rest shared with doc, which is not modified).
func withValue(doc any, path []any, v any) any {
	if len(path) == 0 {
		return v
	}
	switch x := doc.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, c := range x {
			m[k] = c
		}
		k := path[0].(string)
		m[k] = withValue(x[k], path[1:], v)
		return m
	case []any:
		s := slices.Clone(x)
		i := path[0].(int)
		s[i] = withValue(x[i], path[1:], v)
		return s
	}
	panic(fmt.Sprintf("no container at %v", path))
}

func formatPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch x := p.(type) {
		case string:
			b.WriteString("." + x)
		case int:
			fmt.Fprintf(&b, "[%d]", x)
		}
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
