package source

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
)

// TestSecretStringData: a Secret's stringData is what the API server makes
// of it, entries of data (over data's own of the same key), so that the
// simulator reads the Secret a cluster would hold.
func TestSecretStringData(t *testing.T) {
	idx, problems := LoadBytes(LoadOptions{}, "s.yaml", []byte(`apiVersion: v1
kind: Secret
metadata: {name: s, namespace: ns}
type: Opaque
data: {a: YQ==, b: Yg==}
stringData: {b: plain b, c: plain c}
`))
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	s := idx.Secrets[types.NamespacedName{Namespace: "ns", Name: "s"}]
	want := map[string][]byte{"a": []byte("a"), "b": []byte("plain b"), "c": []byte("plain c")}
	if d := cmp.Diff(want, s.Data); d != "" || s.StringData != nil {
		t.Fatalf("data (-want +got):\n%s\nstringData %v", d, s.StringData)
	}
}
