package source

import (
	"encoding/json"
	"testing"
)

func TestScanHeader(t *testing.T) {
	for _, c := range []struct {
		in   string
		ok   bool
		want header
	}{
		{`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"apps","labels":{"a":"b"}},"spec":{"ports":[{"port":80}]}}`,
			true, header{APIVersion: "v1", Kind: "Service", Metadata: struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			}{"web", "apps"}}},
		{`{"kind":"Secret","data":{"x":"a,b}c]\"d"},"apiVersion":"v1","metadata":{"name":"s"}}`, true,
			header{APIVersion: "v1", Kind: "Secret", Metadata: struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			}{"s", ""}}},
		{`{}`, true, header{}},
		{`{"apiVersion":"v1","kind":"List","items":[]}`, false, header{}},           // lists go to encoding/json
		{`{"apiVersion":"v1","Kind":"Service"}`, false, header{}},                   // encoding/json matches keys in any case
		{`{"apiVersion":"v1","kind":"Serv\u0069ce"}`, false, header{}},              // escapes
		{`{"apiVersion":"v1","metadata":"web"}`, false, header{}},                   // not an object
		{`{"apiVersion":"v1","kind":"Service"`, false, header{}},                    // truncated
		{`[{"apiVersion":"v1"}]`, false, header{}},                                  // not an object
		{`{"apiVersion":"v1","kind":"Service"}trailing`, false, header{}},           // trailing bytes
		{`{"metadata":{"Name":"x"},"apiVersion":"v1","kind":"S"}`, false, header{}}, // case again, nested
	} {
		var h header
		ok := scanHeader([]byte(c.in), &h)
		if ok != c.ok {
			t.Errorf("%s: ok = %v, want %v", c.in, ok, c.ok)
			continue
		}
		if ok && (h.APIVersion != c.want.APIVersion || h.Kind != c.want.Kind || h.Metadata != c.want.Metadata) {
			t.Errorf("%s: got %+v, want %+v", c.in, h, c.want)
		}
	}
}

// FuzzScanHeader: whenever the scanner answers, encoding/json agrees.
func FuzzScanHeader(f *testing.F) {
	f.Add(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"apps"},"spec":{"x":[1,{"y":"}"}]}}`)
	f.Add(`{"kind":"A","kind":"B"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var h header
		if !scanHeader([]byte(in), &h) {
			return
		}
		var want header
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("scanner accepted %q, encoding/json refuses it: %v", in, err)
		}
		if h.APIVersion != want.APIVersion || h.Kind != want.Kind || h.Metadata != want.Metadata {
			t.Fatalf("%q: scanner %+v, encoding/json %+v", in, h, want)
		}
	})
}

func TestScanHeaderEscapesInSkippedValues(t *testing.T) {
	for in, ok := range map[string]bool{
		`{"kind":"A","x":"\q"}`:       false,
		`{"kind":"A","x":"\u00zz"}`:   false,
		`{"kind":"A","x":"\u00e9\n"}`: true,
		`{"kind":"A","x":"\`:          false,
	} {
		var h header
		if got := scanHeader([]byte(in), &h); got != ok {
			t.Errorf("%s: ok = %v, want %v", in, got, ok)
		}
	}
}

func TestValidNumber(t *testing.T) {
	for in, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "-1.5e10": true, "2E-3": true, "1e+9": true,
		"": false, "-": false, "01": false, "1.": false, ".5": false, "1e": false, "+1": false, "0x10": false, "1_000": false,
	} {
		if got := validNumber([]byte(in)); got != want {
			t.Errorf("validNumber(%q) = %v, want %v", in, got, want)
		}
	}
}
