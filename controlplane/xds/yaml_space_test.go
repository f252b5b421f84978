package xds

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestYAMLIgnoresProtojsonSpaces: protojson may put a space after ':' and
// ','; the YAML is the same as for the compact form.
func TestYAMLIgnoresProtojsonSpaces(t *testing.T) {
	spaced := `{"name": "ingress_http", "virtual_hosts": [{"name": "a b", "domains": ["x", "y"], "n": 3, "ok": true}, {}], "e": [], "m": {"k": null}}`
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(spaced)); err != nil {
		t.Fatal(err)
	}
	var ia, ib bytes.Buffer
	if json.Indent(&ia, []byte(spaced), "  ", "  ") != nil || json.Indent(&ib, compact.Bytes(), "  ", "  ") != nil || ia.String() != ib.String() {
		t.Errorf("json.Indent keeps protojson's spaces:\n%s\n%s", ia.String(), ib.String())
	}
	for _, f := range []func(*bytes.Buffer, []byte) error{jsonToYAML, itemToYAML} {
		var a, b bytes.Buffer
		if err := f(&a, []byte(spaced)); err != nil {
			t.Fatal(err)
		}
		if err := f(&b, compact.Bytes()); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Errorf("with spaces:\n%s\ncompact:\n%s", a.String(), b.String())
		}
	}
}
