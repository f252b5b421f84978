package graph

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTracing(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"extensionService":"obs/otel"}`:                                                                            "",
		`{"extensionService":"otel"}`:                                                                                `extensionService: "otel" is not namespace/name`,
		`{"extensionService":"obs/otel","sampling":"1"}`:                                                             `unknown field "sampling"`,
		`{"extensionService":"obs/otel","overallSampling":"abc"}`:                                                    `overallSampling: "abc" is not a percentage`,
		`{"extensionService":"obs/otel","randomSampling":"101"}`:                                                     `randomSampling: "101" is not a percentage`,
		`{"extensionService":"obs/otel","customTags":[{"literal":"x"}]}`:                                             "customTags[0]: tagName must be defined",
		`{"extensionService":"obs/otel","customTags":[{"tagName":"a"}]}`:                                             "customTags[0]: must set exactly one of literal or requestHeaderName",
		`{"extensionService":"obs/otel","customTags":[{"tagName":"a","literal":"x","requestHeaderName":"h"}]}`:       "exactly one",
		`{"extensionService":"obs/otel","customTags":[{"tagName":"a","literal":"x"},{"tagName":"a","literal":"y"}]}`: "customTags[1]: tagName a is duplicate",
		`{"extensionService":"obs/otel","customTags":[{"tagName":"a","literal":"x\ny"}]}`:                            "a line break or NUL byte",
	} {
		_, err := ParseTracing(in)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", in, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want one saying %q", in, err, want)
		}
	}
}

func TestTracingSettings(t *testing.T) {
	t.Parallel()
	ext := `
apiVersion: projectcontour.io/v1alpha1
kind: ExtensionService
metadata: {name: otel, namespace: obs}
spec:
  services: [{name: collector, port: 80}]
  validation: {caSecret: ca, subjectName: otel.obs}
  timeoutPolicy: {response: 2s}
` + svcs("obs", "collector") + caSecretDoc(t, "obs", "ca")
	tr, err := ParseTracing(`{"extensionService":"obs/otel","includePodDetail":false,"clientSampling":"0","randomSampling":"2.5",` +
		`"maxPathTagLength":64,"customTags":[{"tagName":"team","literal":"pay"},{"tagName":"ua","requestHeaderName":"User-Agent"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	g, r := build(t, Options{Tracing: tr}, ext)
	want := TracingSettings{Cluster: "extension/obs/otel", Authority: "otel.obs", Timeout: Timeout{Duration: 2e9}, ServiceName: "contour",
		Overall: 100, Client: 100, Random: 2.5, MaxPathTagLength: 64, Tags: "team\x00literal\x00pay\nua\x00header\x00User-Agent"}
	if d := cmp.Diff(want, g.Connections.Tracing); d != "" {
		t.Errorf("settings (-want +got):\n%s", d)
	}
	if fs := r.Findings(); len(fs) != 0 {
		t.Errorf("findings %v; statuses %v", fs, statuses(r))
	}
	missing, _ := ParseTracing(`{"extensionService":"obs/nothing"}`)
	g, r = build(t, Options{Tracing: missing}, ext)
	if g.Connections.Tracing.On() {
		t.Errorf("a missing collector: tracing is on")
	}
	if fs := r.Findings(); len(fs) != 1 || fs[0].Code != FindingTracingServiceNotFound {
		t.Errorf("a missing collector: findings %v, want one %s", fs, FindingTracingServiceNotFound)
	}
}
