package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// TestHeaderFlags reads the global header policy's flags: NAME=VALUE
// entries (the value may hold "="), sorted by name; bad names, a missing
// "=" and Host are refused, naming the flag.
func TestHeaderFlags(t *testing.T) {
	got, err := (&headerFlags{requestSet: []string{"x-b=1", "x-a=k=v"}, requestRemove: []string{"x-debug"},
		responseRemove: []string{"server"}, applyToIngress: true}).headers()
	if err != nil {
		t.Fatal(err)
	}
	want := graph.GlobalHeaders{ApplyToIngress: true,
		Request:  graph.HeadersPolicy{Set: []graph.Header{{Name: "x-a", Value: "k=v"}, {Name: "x-b", Value: "1"}}, Remove: []string{"x-debug"}},
		Response: graph.HeadersPolicy{Remove: []string{"server"}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, c := range []struct {
		f    headerFlags
		want string
	}{
		{headerFlags{requestSet: []string{"x-a"}}, `--policy-request-header-set "x-a": must be NAME=VALUE`},
		{headerFlags{responseSet: []string{"Host=a"}}, `--policy-response-header-set "Host=a": setting Host`},
		{headerFlags{responseRemove: []string{"a b"}}, `--policy-response-header-remove "a b"`},
	} {
		if _, err := c.f.headers(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.f, err, c.want)
		}
	}
	_, stderr, code := run(t, "", "translate", "-f", "fixtures/seeds/talk-canary/input.yaml", "--policy-request-header-set", "x")
	if code != 2 || !strings.Contains(stderr, "must be NAME=VALUE") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
