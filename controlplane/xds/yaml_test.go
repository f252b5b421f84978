package xds

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// TestJSONToYAMLRoundTrip checks that what jsonToYAML writes reads back as
// the same JSON value, for the shapes and strings that are easy to get wrong.
func TestJSONToYAMLRoundTrip(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"scalars":          `{"a":1,"b":true,"c":null,"d":"x","e":1.5,"f":-3}`,
		"ambiguous string": `{"s":["true","no","on","Y","null","~","1.2","8080","1e3","0x1f","1_000",".5","-x",": x","a: b","#c","","  lead","trail ","*.example.com","%REQ(x)%","[a]","{b}","&a","!t","|","> x","a\nb","é","\u0000"]}`,
		"paths and names":  `{"names":["default/backend/80/da39a3ee5e","https/a.example.com","envoy.access_loggers.file","10s","2s","a@b","ns_svc_80"]}`,
		"nested":           `{"a":{"b":{"c":[1,[2,3],{"d":[]},{}]}},"e":[{"f":1,"g":[{"h":{}}]},[]],"i":{}}`,
		"top array items":  `{"l":[{"name":"x","filter_chains":[{"filters":[{"name":"hcm","typed_config":{"@type":"type.googleapis.com/x"}}]}]}]}`,
		"empty":            `{}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var compact bytes.Buffer
			if err := json.Compact(&compact, []byte(in)); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := jsonToYAML(&out, compact.Bytes()); err != nil {
				t.Fatal(err)
			}
			back, err := yaml.YAMLToJSON(out.Bytes())
			if err != nil {
				t.Fatalf("yaml does not parse: %v\n%s", err, out.String())
			}
			var want, got any
			if err := json.Unmarshal([]byte(in), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(back, &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("round trip changed the value (-want +got):\n%s\nyaml:\n%s", d, out.String())
			}
		})
	}
}

func TestJSONToYAMLShape(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := jsonToYAML(&out, []byte(`{"name":"x","ports":[{"port":80,"tags":["a","b"]}],"meta":{"k":"1.2"}}`)); err != nil {
		t.Fatal(err)
	}
	want := "name: x\nports:\n- port: 80\n  tags:\n  - a\n  - b\nmeta:\n  k: \"1.2\"\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}
