package graph

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRetryCount: an HTTPProxy's retryPolicy.count and an Ingress's
// num-retries annotation, as Contour reads them: unset or 0 is one retry,
// -1 keeps the policy (conditions, per-try timeout) with no retry.
func TestRetryCount(t *testing.T) {
	t.Parallel()
	proxy := func(policy string) string {
		return `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: web}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - retryPolicy: ` + policy + `
    services: [{name: s, port: 80}]
`
	}
	ingress := func(numRetries string) string {
		ann := `projectcontour.io/retry-on: "5xx,reset", projectcontour.io/per-try-timeout: 120ms`
		if numRetries != "" {
			ann += `, projectcontour.io/num-retries: "` + numRetries + `"`
		}
		return ingressYAML("web", "i", "", ann, "", "a.com", "/=s")
	}
	for name, tc := range map[string]struct {
		yaml       string
		want       *RetryPolicy
		wantStatus string
	}{
		"HTTPProxy count unset: one retry": {
			yaml: proxy("{perTryTimeout: 2s}"),
			want: &RetryPolicy{RetryOn: []string{"5xx"}, NumRetries: 1, PerTryTimeout: 2 * time.Second},
		},
		"HTTPProxy count 0: one retry": {
			yaml: proxy("{count: 0}"),
			want: &RetryPolicy{RetryOn: []string{"5xx"}, NumRetries: 1},
		},
		"HTTPProxy count 3": {
			yaml: proxy("{count: 3, retryOn: [reset]}"),
			want: &RetryPolicy{RetryOn: []string{"reset"}, NumRetries: 3},
		},
		"HTTPProxy count -1: no retry, the per-try timeout kept": {
			yaml: proxy("{count: -1, perTryTimeout: 105s}"),
			want: &RetryPolicy{RetryOn: []string{"5xx"}, NumRetries: 0, PerTryTimeout: 105 * time.Second},
		},
		"HTTPProxy count -2 is refused": {
			yaml:       proxy("{count: -2}"),
			wantStatus: "HTTPProxy web/p: invalid RetryPolicyNotValid",
		},
		"Ingress num-retries unset: one retry": {
			yaml: ingress(""),
			want: &RetryPolicy{RetryOn: []string{"5xx", "reset"}, NumRetries: 1, PerTryTimeout: 120 * time.Millisecond},
		},
		"Ingress num-retries 0: one retry": {
			yaml: ingress("0"),
			want: &RetryPolicy{RetryOn: []string{"5xx", "reset"}, NumRetries: 1, PerTryTimeout: 120 * time.Millisecond},
		},
		"Ingress num-retries -1: no retry": {
			yaml: ingress("-1"),
			want: &RetryPolicy{RetryOn: []string{"5xx", "reset"}, NumRetries: 0, PerTryTimeout: 120 * time.Millisecond},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, tc.yaml+svcs("web", "s"))
			if tc.wantStatus != "" {
				if got := statuses(r); len(got) != 1 || got[0] != tc.wantStatus {
					t.Errorf("statuses: got %q, want [%q]", got, tc.wantStatus)
				}
				return
			}
			vh := g.VirtualHosts["a.com"]
			if vh == nil || len(vh.Routes) != 1 {
				t.Fatalf("want one route on a.com, got %v", summary(g))
			}
			for _, rt := range vh.Routes {
				if d := cmp.Diff(tc.want, rt.Retry); d != "" {
					t.Errorf("retry policy (-want +got):\n%s", d)
				}
			}
		})
	}
}
