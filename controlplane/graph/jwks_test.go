package graph

import (
	"strings"
	"testing"
)

// TestCheckJWKS: a local key set must be a JSON object with a "keys"
// array, as Contour checks it.
func TestCheckJWKS(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"keys": []}`:                  "",
		` {"keys": [{"kty": "RSA"}]} `:  "",
		`[]`:                            "not a JSON object",
		`not json`:                      "not a JSON object",
		`{"key": []}`:                   `no "keys" array`,
		`{"keys": {"kty": "RSA"}}`:      `"keys" must be an array`,
		`{"keys": null}`:                `"keys" must be an array`,
		`{"keys": []} trailing garbage`: "not a JSON object",
	} {
		err := checkJWKS([]byte(in))
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", in, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want one saying %q", in, err, want)
		}
	}
}
