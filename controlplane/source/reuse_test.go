package source

import (
	"strings"
	"testing"

	"github.com/isobar-dev/isobar/controlplane/status"
)

func TestReuseSharesUnchangedDocuments(t *testing.T) {
	base := []byte(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {ports: [{port: 80}]}
`)
	head := []byte(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Nonsense
metadata: {name: x}
`)
	r := NewReuse()
	b, bp := LoadBytes(LoadOptions{Reuse: r, DefaultNamespace: "team"}, "base.yaml", base)
	h, hp := LoadBytes(LoadOptions{Reuse: r, DefaultNamespace: "team", Origins: true}, "head.yaml", head)
	if len(bp) != 0 || len(hp) != 1 || hp[0].File != "head.yaml" || hp[0].Doc != 3 {
		t.Fatalf("problems: base %v, head %v", bp, hp)
	}
	if b.Services[Key("apps", "web")].Object != h.Services[Key("apps", "web")].Object {
		t.Error("the unchanged Service was decoded twice")
	}
	bapi, hapi := b.Services[Key("team", "api")], h.Services[Key("team", "api")]
	if bapi == nil || hapi == nil || bapi == hapi || hapi.Ports[0].Port != 8080 || bapi.Ports[0].Port != 80 {
		t.Errorf("the changed Service: base %v, head %v", bapi, hapi)
	}
	if o := h.Origins[status.Ref{Kind: "Service", Namespace: "apps", Name: "web"}]; o.File != "head.yaml" || o.Doc != 1 {
		t.Errorf("origin of a reused object: %+v", o)
	}
	// Another default namespace does not reuse.
	o, _ := LoadBytes(LoadOptions{Reuse: r, DefaultNamespace: "other"}, "base.yaml", base)
	if o.Services[Key("apps", "web")].Object == b.Services[Key("apps", "web")].Object {
		t.Error("a load with another default namespace reused objects")
	}
}

func TestSplitDocumentsRawText(t *testing.T) {
	docs := splitDocuments("a: 1\r\nb: 2\n---\n--- \nc: 3\n---")
	want := []document{
		{index: 1, start: 1, lines: []string{"a: 1", "b: 2"}, raw: "a: 1\r\nb: 2\n"},
		{index: 2, start: 4, raw: ""},
		{index: 3, start: 5, lines: []string{"c: 3"}, raw: "c: 3\n"},
		{index: 4, start: 7, raw: ""},
	}
	if len(docs) != len(want) {
		t.Fatalf("%d documents, want %d: %+v", len(docs), len(want), docs)
	}
	for i := range want {
		d, w := docs[i], want[i]
		d.splitLines()
		if d.index != w.index || d.start != w.start || d.raw != w.raw || strings.Join(d.lines, "|") != strings.Join(w.lines, "|") {
			t.Errorf("document %d: got %+v, want %+v", i+1, d, w)
		}
	}
}
