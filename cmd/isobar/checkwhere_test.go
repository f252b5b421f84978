package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// twoTeams is one team's Ingress per file, both claiming the same path;
// the second file also holds an object that is not valid input.
var twoTeams = map[string]string{
	"a.yaml": `# team a
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: blog, namespace: teama, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  rules:
  - host: shop.example.com
    http: {paths: [{path: /blog, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
`,
	"b.yaml": `apiVersion: v1
kind: Service
metadata: {name: web, namespace: teamb}
spec: {ports: [{port: "eighty"}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: blog, namespace: teamb, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  rules:
  - host: shop.example.com
    http: {paths: [{path: /blog, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
`,
}

func writeTwoTeams(t *testing.T) string {
	dir := t.TempDir()
	for name, text := range twoTeams {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCheckLocatesFindings runs `isobar check` on two files and checks,
// written out by hand, where each output says the objects are: the JSON
// locations, the text WHERE column, and GitHub's annotations (one per
// place, escaped as GitHub reads them).
func TestCheckLocatesFindings(t *testing.T) {
	dir := writeTwoTeams(t)
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	out, _, code := runIn(t, dir, "", "check", "-f", "a.yaml", "-f", "b.yaml", "-o", "json")
	if code != 2 {
		t.Fatalf("exit %d, want 2 (a document is bad input)", code)
	}
	var rep struct {
		Findings []checkFinding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ingress := func(ns string) status.Ref { return status.Ref{Kind: status.KindIngress, Namespace: ns, Name: "blog"} }
	var got [][]location
	for _, f := range rep.Findings {
		if f.Code == "DuplicateRoute" {
			got = append(got, f.Locations)
		}
	}
	want := [][]location{{{Ref: ingress("teama"), File: "a.yaml", Doc: 1, Line: 2}, {Ref: ingress("teamb"), File: "b.yaml", Doc: 2, Line: 6}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("DuplicateRoute locations (-want +got):\n%s", d)
	}

	text, _, _ := runIn(t, dir, "", "check", "-f", ".")
	for _, line := range []string{"SEVERITY  CODE", "a.yaml:2, b.yaml:6"} {
		if !strings.Contains(text, line) {
			t.Errorf("text output lacks %q:\n%s", line, text)
		}
	}

	gh, _, code := runIn(t, "/", "", "check", "-f", a, "-f", b, "-o", "github")
	if code != 2 {
		t.Errorf("github: exit %d, want 2", code)
	}
	for _, line := range []string{
		"::error file=" + b + ",line=1,title=InvalidInput::" + b + ": document 1 (line 1): Service teamb/web: field spec.ports.port: cannot be a string",
		"::error file=" + a + ",line=2,title=DuplicateRoute::Ingress teama/blog, Ingress teamb/blog: host \"shop.example.com\"",
		"::error file=" + b + ",line=6,title=DuplicateRoute::Ingress teama/blog, Ingress teamb/blog: host \"shop.example.com\"",
	} {
		if !strings.Contains(gh, line) {
			t.Errorf("github output lacks %q:\n%s", line, gh)
		}
	}
}

// TestAnnotationEscapes checks GitHub's escapes of a workflow command's
// message and properties.
func TestAnnotationEscapes(t *testing.T) {
	if got := escapeData("50% of a\r\nb: c, d"); got != "50%25 of a%0D%0Ab: c, d" {
		t.Errorf("message: %q", got)
	}
	if got := annotationProperties("dir,x/a:b.yaml", 3, "A%B"); got != "file=dir%2Cx/a%3Ab.yaml,line=3,title=A%25B" {
		t.Errorf("properties: %q", got)
	}
	if got := annotationProperties("-", 3, "Code"); got != "title=Code" {
		t.Errorf("stdin: %q", got)
	}
}
