package graph

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

func TestHTTPProxy(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		yaml         string
		opts         Options
		wantRoutes   []string
		wantStatuses []string
	}{
		"includes concatenate prefixes and accumulate headers": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: root, namespace: r}
spec:
  virtualhost: {fqdn: a.com}
  includes:
  - {name: child, namespace: c, conditions: [{prefix: /blog}, {header: {name: X-Beta, present: true}}]}
  routes: [{services: [{name: s, port: 80}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: child, namespace: c}
spec:
  routes:
  - services: [{name: s, port: 80}]
  - conditions: [{prefix: /admin}, {queryParameter: {name: k, exact: v}}]
    services: [{name: s, port: 80, weight: 3}, {name: t, port: 80, weight: 1}]
  - conditions: [{exact: /x}]
    services: [{name: s, port: 80}]
` + svcs("r", "s") + svcs("c", "s", "t"),
			wantRoutes: []string{
				"a.com: exact:/blog/x h:x-beta=present: -> c/s:80",
				"a.com: prefix:/blog/admin h:x-beta=present: q:k=exact:v -> c/s:80*3,c/t:80*1",
				"a.com: prefix:/blog h:x-beta=present: -> c/s:80",
				"a.com: prefix:/ -> r/s:80",
			},
			wantStatuses: []string{"HTTPProxy c/child: valid", "HTTPProxy r/root: valid"},
		},
		"a child regex cannot escape the include prefix": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: root, namespace: r}
spec:
  virtualhost: {fqdn: a.com}
  includes: [{name: child, conditions: [{prefix: /app/}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: child, namespace: r}
spec:
  routes: [{conditions: [{regex: "/x|/admin.*"}], services: [{name: s, port: 80}]}]
` + svcs("r", "s"),
			wantRoutes:   []string{`a.com: regex:/app(?:/x|/admin.*) -> r/s:80`},
			wantStatuses: []string{"HTTPProxy r/child: valid", "HTTPProxy r/root: valid"},
		},
		"missing service degrades one route to 503": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - conditions: [{prefix: /gone}]
    services: [{name: nope, port: 80}]
  - services: [{name: s, port: 80}, {name: nope, port: 80}]
` + svcs("ns", "s"),
			wantRoutes:   []string{"a.com: prefix:/gone -> 503", "a.com: prefix:/ -> ns/s:80"},
			wantStatuses: []string{"HTTPProxy ns/p: invalid ServiceUnresolvedReference,ServiceUnresolvedReference"},
		},
		"passthrough with tcpproxy": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com, tls: {passthrough: true}}
  tcpproxy: {services: [{name: s, port: 80}]}
` + svcs("ns", "s"),
			wantRoutes:   []string{"https a.com: tcpproxy -> ns/s:80"},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"an invalid child answers 502 and warns the parent": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: root, namespace: r}
spec:
  virtualhost: {fqdn: a.com}
  includes: [{name: child, conditions: [{prefix: /c}]}]
  routes: [{services: [{name: s, port: 80}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: child, namespace: r}
spec:
  routes: [{conditions: [{prefix: nope}], services: [{name: s, port: 80}]}]
` + svcs("r", "s"),
			wantRoutes:   []string{"a.com: prefix:/c -> direct 502", "a.com: prefix:/ -> r/s:80"},
			wantStatuses: []string{"HTTPProxy r/child: invalid PathMatchConditionsNotValid", "HTTPProxy r/root: valid warn:IncludeNotValid"},
		},
		"an include with invalid conditions is skipped; its proxy still serves its routes": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: root, namespace: r}
spec:
  virtualhost: {fqdn: a.com}
  includes:
  - {name: child, conditions: [{prefix: /v1}, {prefix: /api}]}
  - {name: other, conditions: [{prefix: /other}]}
  routes: [{services: [{name: s, port: 80}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: child, namespace: r}
spec:
  routes: [{services: [{name: s, port: 80}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: other, namespace: r}
spec:
  includes: [{name: child, conditions: [{exact: /x}]}]
  routes: [{services: [{name: s, port: 80}]}]
` + svcs("r", "s"),
			wantRoutes: []string{"a.com: prefix:/other -> r/s:80", "a.com: prefix:/ -> r/s:80"},
			wantStatuses: []string{"HTTPProxy r/child: orphaned Orphaned", "HTTPProxy r/other: invalid PathMatchConditionsNotValid",
				"HTTPProxy r/root: invalid PathMatchConditionsNotValid"},
		},
		"nothing defined": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
`,
			wantRoutes:   nil,
			wantStatuses: []string{"HTTPProxy ns/p: invalid NothingDefined"},
		},
		"redirect and direct response": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - conditions: [{prefix: /old}]
    requestRedirectPolicy: {hostname: b.com, path: /new}
  - conditions: [{prefix: /teapot}]
    directResponsePolicy: {statusCode: 418}
`,
			wantRoutes:   []string{"a.com: prefix:/teapot -> direct 418", "a.com: prefix:/old -> redirect 302 b.com/new"},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"redirect codes are Contour's: 301, 302, 303, 307 and 308": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - conditions: [{prefix: /see-other}]
    requestRedirectPolicy: {hostname: b.com, statusCode: 303}
  - conditions: [{prefix: /temporary}]
    requestRedirectPolicy: {hostname: b.com, statusCode: 307}
  - conditions: [{prefix: /permanent}]
    requestRedirectPolicy: {hostname: b.com, statusCode: 308}
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: bad, namespace: ns}
spec:
  virtualhost: {fqdn: bad.com}
  routes: [{requestRedirectPolicy: {hostname: b.com, statusCode: 304}}]
`,
			wantRoutes: []string{"a.com: prefix:/temporary -> redirect 307 b.com", "a.com: prefix:/see-other -> redirect 303 b.com",
				"a.com: prefix:/permanent -> redirect 308 b.com"},
			wantStatuses: []string{"HTTPProxy ns/bad: invalid RequestRedirectPolicy", "HTTPProxy ns/p: valid"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, tc.opts, tc.yaml)
			if d := cmp.Diff(tc.wantRoutes, summary(g)); d != "" {
				t.Errorf("routes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatuses, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
		})
	}
}

func TestShadowedRoutes(t *testing.T) {
	t.Parallel()
	_, r := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - conditions: [{regex: "/.*"}]
    services: [{name: s, port: 80}]
  - conditions: [{prefix: /api}]
    services: [{name: s, port: 80}]
  - conditions: [{regex: "/v[0-9]"}]
    services: [{name: s, port: 80}]
  - conditions: [{exact: /v1}]
    services: [{name: s, port: 80}]
`+svcs("ns", "s"))
	var got []string
	for _, f := range r.Findings() {
		got = append(got, f.Code+": "+f.Message)
	}
	want := []string{
		`ShadowedRoute: host "a.com": path prefix:/api of HTTPProxy ns/p can never match: path regex:/.* of the same object comes first in Envoy's order and matches every request it would`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

// TestHealthCheckBounds: negative or absurd health-check numbers make the
// route invalid instead of reaching Envoy (whose validation refused the
// whole configuration); zero keeps the default.
func TestHealthCheckBounds(t *testing.T) {
	for _, tc := range []struct {
		p    contourv1.HTTPHealthCheckPolicy
		want string
	}{
		{contourv1.HTTPHealthCheckPolicy{Path: "/hc"}, ""},
		{contourv1.HTTPHealthCheckPolicy{Path: "/hc", IntervalSeconds: 10, TimeoutSeconds: 3, UnhealthyThresholdCount: 2, HealthyThresholdCount: 2}, ""},
		{contourv1.HTTPHealthCheckPolicy{Path: "/hc", IntervalSeconds: -5}, "intervalSeconds is -5"},
		{contourv1.HTTPHealthCheckPolicy{Path: "/hc", TimeoutSeconds: 1 << 40}, "timeoutSeconds is 1099511627776"},
		{contourv1.HTTPHealthCheckPolicy{Path: "/hc", UnhealthyThresholdCount: -1}, "unhealthyThresholdCount is -1"},
		{contourv1.HTTPHealthCheckPolicy{Path: "/hc", HealthyThresholdCount: 1 << 33}, "healthyThresholdCount is 8589934592"},
	} {
		_, err := healthCheck(&tc.p)
		if got := fmt.Sprint(err); (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(got, tc.want)) {
			t.Errorf("healthCheck(%+v) = %v, want %q", tc.p, err, tc.want)
		}
	}
}

// TestIdleConnection: a route's timeoutPolicy.idleConnection as Contour
// reads it: unset or 0s is Envoy's default (nil), "infinity" never (0), a
// duration that duration; anything else is TimeoutPolicyNotValid.
func TestIdleConnection(t *testing.T) {
	ninety, never := 90*time.Second, time.Duration(0)
	for _, tc := range []struct {
		v    string
		want *time.Duration
		err  string
	}{
		{v: ""}, {v: "0s"},
		{v: "90s", want: &ninety}, {v: "infinity", want: &never}, {v: "infinite", want: &never},
		{v: "soon", err: `timeoutPolicy.idleConnection "soon" is not a duration or "infinity"`},
		{v: "-1s", err: `timeoutPolicy.idleConnection "-1s"`},
	} {
		got, err := idleConnection(&contourv1.TimeoutPolicy{IdleConnection: tc.v})
		if tc.err != "" {
			if re, ok := err.(routeError); !ok || re.reason != ReasonTimeoutPolicyNotValid || !strings.Contains(re.msg, tc.err) {
				t.Errorf("%q: error %v, want TimeoutPolicyNotValid %q", tc.v, err, tc.err)
			}
			continue
		}
		if err != nil || (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%q: got %v, %v; want %v", tc.v, got, err, tc.want)
		}
	}
	if got, err := idleConnection(nil); got != nil || err != nil {
		t.Errorf("no timeoutPolicy: got %v, %v", got, err)
	}
}

// TestIncludePaths: every include is checked against its own chain from
// the root, whatever its siblings and cousins included before: a proxy
// reached through two branches (a diamond) is no cycle, and a cycle below
// a later branch names that branch's chain.
func TestIncludePaths(t *testing.T) {
	t.Parallel()
	_, r := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: root, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  includes: [{name: a, conditions: [{prefix: /a}]}, {name: b, conditions: [{prefix: /b}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: a, namespace: ns}
spec:
  includes: [{name: c, conditions: [{prefix: /c}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: b, namespace: ns}
spec:
  includes: [{name: c, conditions: [{prefix: /c}]}, {name: d, conditions: [{prefix: /d}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: c, namespace: ns}
spec:
  routes: [{services: [{name: s, port: 80}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: d, namespace: ns}
spec:
  includes: [{name: b, conditions: [{prefix: /again}]}]
`+svcs("ns", "s"))
	var got []string
	for _, o := range r.Objects() {
		s := fmt.Sprintf("%s: %s", o.Ref, o.CurrentStatus)
		for _, e := range o.Conditions[0].Errors {
			s += " " + e.Message
		}
		got = append(got, s)
	}
	want := []string{
		"HTTPProxy ns/a: valid",
		"HTTPProxy ns/b: valid",
		"HTTPProxy ns/c: valid",
		"HTTPProxy ns/d: invalid include creates an include cycle: ns/root -> ns/b -> ns/d -> ns/b",
		"HTTPProxy ns/root: valid",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
}
