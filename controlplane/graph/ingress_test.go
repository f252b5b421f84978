package graph

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIngress(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		yaml         string
		wantRoutes   []string
		wantStatuses []string
	}{
		"path types and the default backend": {
			yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: web}
spec:
  defaultBackend: {service: {name: s, port: {number: 80}}}
  rules:
  - host: A.Example.com
    http:
      paths:
      - {path: /exact, pathType: Exact, backend: {service: {name: s, port: {number: 80}}}}
      - {path: /seg/, pathType: Prefix, backend: {service: {name: s, port: {name: http}}}}
      - {path: /impl, pathType: ImplementationSpecific, backend: {service: {name: s, port: {number: 80}}}}
      - {path: "/re[0-9]", backend: {service: {name: s, port: {number: 80}}}}
` + svcs("web", "s"),
			wantRoutes: []string{
				"*: prefix:/ -> web/s:80",
				"a.example.com: exact:/exact -> web/s:80",
				"a.example.com: regex:/re[0-9] -> web/s:80",
				"a.example.com: prefix:/impl -> web/s:80", // longer prefixes first
				"a.example.com: segment:/seg -> web/s:80",
			},
			wantStatuses: []string{"Ingress web/i: valid"},
		},
		"two Ingresses, the older keeps the path": {
			yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: new, namespace: a, creationTimestamp: "2026-02-01T00:00:00Z"}
spec: {rules: [{host: x.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: old, namespace: b, creationTimestamp: "2026-01-01T00:00:00Z"}
spec: {rules: [{host: x.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]}
` + svcs("a", "s") + svcs("b", "s"),
			wantRoutes:   []string{"x.com: prefix:/ -> b/s:80"},
			wantStatuses: []string{"Ingress a/new: valid warn:RouteConflict", "Ingress b/old: valid"},
		},
		"one bad rule does not hide the others": {
			yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: web}
spec:
  rules:
  - host: x.com
    http:
      paths:
      - {path: "/a b", pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}
      - {path: /ok, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}
      - {path: /missing, pathType: Prefix, backend: {service: {name: nope, port: {number: 80}}}}
` + svcs("web", "s"),
			wantRoutes:   []string{"x.com: segment:/missing -> 503", "x.com: segment:/ok -> web/s:80"},
			wantStatuses: []string{"Ingress web/i: invalid PathNotValid,ServiceUnresolvedReference"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, tc.yaml)
			if d := cmp.Diff(tc.wantRoutes, summary(g)); d != "" {
				t.Errorf("routes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatuses, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
		})
	}
}

func TestIngressRoute(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		yaml         string
		wantRoutes   []string
		wantStatuses []string
	}{
		"blue/green: the delegate chosen by the root serves, the other is orphaned": {
			yaml: `
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {name: root, namespace: d}
spec:
  virtualhost: {fqdn: bg.com}
  routes: [{match: /, delegate: {name: green}}]
---
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {name: blue, namespace: d}
spec: {routes: [{match: /, services: [{name: blue, port: 80}]}]}
---
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {name: green, namespace: d}
spec: {routes: [{match: /, services: [{name: green, port: 80}]}]}
` + svcs("d", "blue", "green"),
			wantRoutes:   []string{"bg.com: prefix:/ -> d/green:80"},
			wantStatuses: []string{"IngressRoute d/blue: orphaned Orphaned", "IngressRoute d/green: valid", "IngressRoute d/root: valid"},
		},
		"a delegate outside the parent's prefix is invalid and its prefix answers 502": {
			yaml: `
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {name: root, namespace: d}
spec:
  virtualhost: {fqdn: x.com}
  routes: [{match: /api, delegate: {name: child}}, {match: /, services: [{name: s, port: 80}]}]
---
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {name: child, namespace: d}
spec: {routes: [{match: /admin, services: [{name: s, port: 80}]}]}
` + svcs("d", "s"),
			wantRoutes:   []string{"x.com: prefix:/api -> direct 502", "x.com: prefix:/ -> d/s:80"},
			wantStatuses: []string{"IngressRoute d/child: invalid PrefixMismatch", "IngressRoute d/root: valid warn:IncludeNotValid"},
		},
		"delegation cycle": {
			yaml: `
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {name: root, namespace: d}
spec:
  virtualhost: {fqdn: x.com}
  routes: [{match: /, delegate: {name: a}}]
---
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {name: a, namespace: d}
spec: {routes: [{match: /, delegate: {name: b}}]}
---
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {name: b, namespace: d}
spec: {routes: [{match: /, delegate: {name: a}}]}
`,
			wantRoutes:   []string{"x.com: prefix:/ -> direct 502"},
			wantStatuses: []string{"IngressRoute d/a: valid", "IngressRoute d/b: invalid DelegationCreatesCycle", "IngressRoute d/root: valid"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, tc.yaml)
			if d := cmp.Diff(tc.wantRoutes, summary(g)); d != "" {
				t.Errorf("routes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatuses, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
		})
	}
}

// TestIngressDefaultBackendOverridden: a rule of the same Ingress with no
// host and path "/" replaces spec.defaultBackend, as in Contour, with an info
// finding instead of a route conflict; another Ingress's rule does not (the
// older object keeps the route).
func TestIngressDefaultBackendOverridden(t *testing.T) {
	t.Parallel()
	withDefault := func(name, created string, paths ...string) string {
		s := fmt.Sprintf("---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: %s, namespace: web, creationTimestamp: %q}\n", name, created)
		s += "spec:\n  defaultBackend: {service: {name: fallback, port: {number: 80}}}\n"
		if len(paths) > 0 {
			s += "  rules:\n  - http:\n      paths:\n"
			for _, p := range paths {
				s += "      - " + p + "\n"
			}
		}
		return s
	}
	const unused = "IgnoredField info"
	for name, tc := range map[string]struct {
		yaml         string
		wantRoutes   []string
		wantFindings []string
	}{
		"a Prefix / rule replaces it": {
			yaml:         withDefault("i", "2026-01-01T00:00:00Z", "{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}"),
			wantRoutes:   []string{"*: prefix:/ -> web/app:80"},
			wantFindings: []string{unused},
		},
		"an empty ImplementationSpecific path replaces it": {
			yaml:         withDefault("i", "2026-01-01T00:00:00Z", "{backend: {service: {name: app, port: {number: 80}}}}"),
			wantRoutes:   []string{"*: prefix:/ -> web/app:80"},
			wantFindings: []string{unused},
		},
		"an Exact / rule does not": {
			yaml:       withDefault("i", "2026-01-01T00:00:00Z", "{path: /, pathType: Exact, backend: {service: {name: app, port: {number: 80}}}}"),
			wantRoutes: []string{"*: exact:/ -> web/app:80", "*: prefix:/ -> web/fallback:80"},
		},
		"a longer path does not": {
			yaml:       withDefault("i", "2026-01-01T00:00:00Z", "{path: /api, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}"),
			wantRoutes: []string{"*: segment:/api -> web/app:80", "*: prefix:/ -> web/fallback:80"},
		},
		"another, newer Ingress's rule does not: the older keeps the route": {
			yaml: withDefault("old", "2026-01-01T00:00:00Z") +
				"---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: new, namespace: web, creationTimestamp: \"2026-02-01T00:00:00Z\"}\n" +
				"spec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}]}}]}\n",
			wantRoutes:   []string{"*: prefix:/ -> web/fallback:80"},
			wantFindings: []string{"DuplicateRoute error"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, tc.yaml+svcs("web", "app", "fallback"))
			if d := cmp.Diff(tc.wantRoutes, summary(g)); d != "" {
				t.Errorf("routes (-want +got):\n%s", d)
			}
			var got []string
			for _, f := range r.Findings() {
				got = append(got, fmt.Sprintf("%s %s", f.Code, f.Severity))
			}
			if d := cmp.Diff(tc.wantFindings, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
		})
	}
}
