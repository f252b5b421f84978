package main

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/isobar-dev/isobar/internal/goldentest"
)

// TestCli: `isobar cli` (Contour's) prints what serve serves, over state of
// the world and delta, with private keys redacted, and names resources to
// subscribe to.
func TestCli(t *testing.T) {
	src, err := os.ReadFile(goldentest.Path("fixtures/httpproxy-ext-authz/input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv := startFixtureServe(t, map[string]string{"app.yaml": string(src)}, serveFlags{})
	addr := "127.0.0.1:" + strconv.Itoa(srv.xdsPort)
	untilServed(t, func() error {
		_, _, code := run(t, "", "cli", "lds", "--contour", addr, "--once")
		if code != 0 {
			return os.ErrNotExist
		}
		return nil
	})
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"cli", "lds", "--once"}, []string{`"name": "ingress_http"`, `"name": "ingress_https"`}},
		{[]string{"cli", "sds", "--once", "--delta"}, []string{`"inline_string": "[redacted]"`}},
		{[]string{"cli", "rds", "https/shop.example.com", "--once"}, []string{`"name": "https/shop.example.com"`}},
	} {
		out, stderr, code := run(t, "", append(c.args, "--contour", addr)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v: not one JSON answer: %v\n%s", c.args, err, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: no %s in\n%.2000s", c.args, w, out)
			}
		}
		if strings.Contains(out, "BEGIN EC PRIVATE KEY") || strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("%v: a private key was printed", c.args)
		}
	}
}
