package graph

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ingressYAML is an Ingress document with one rule for host (none when
// empty) and one path per entry of paths ("path=service"), with annotations
// (flow-style pairs, or empty) and TLS for tlsHost when it is set.
func ingressYAML(ns, name, created, annotations, tlsHost, host string, paths ...string) string {
	meta := fmt.Sprintf("name: %s, namespace: %s", name, ns)
	if created != "" {
		meta += fmt.Sprintf(", creationTimestamp: %q", created)
	}
	if annotations != "" {
		meta += ", annotations: {" + annotations + "}"
	}
	s := "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {" + meta + "}\nspec:\n"
	if tlsHost != "" {
		s += fmt.Sprintf("  tls: [{hosts: [%s], secretName: cert}]\n", tlsHost)
	}
	s += "  rules:\n  - "
	if host != "" {
		s += "host: " + host + "\n    "
	}
	s += "http:\n      paths:\n"
	for _, p := range paths {
		path, svc, _ := strings.Cut(p, "=")
		s += fmt.Sprintf("      - {path: %s, pathType: Prefix, backend: {service: {name: %s, port: {number: 80}}}}\n", path, svc)
	}
	return s
}

// TestIngressTLSAndRedirects: which listener an Ingress path is served on,
// as Contour decides it: force-ssl-redirect redirects on port 80 with TLS or
// without, and despite allow-http "false"; a path of an Ingress without TLS
// is served on the https host another Ingress makes (the older Ingress still
// keeps a contested path); a minimum TLS version above the maximum serves no
// https host.
func TestIngressTLSAndRedirects(t *testing.T) {
	t.Parallel()
	const force, noHTTP = `ingress.kubernetes.io/force-ssl-redirect: "true"`, `kubernetes.io/ingress.allow-http: "false"`
	cert := tlsSecretYAML(t, "web", "cert", "a.com", "b.com")
	for name, tc := range map[string]struct {
		yaml         string
		opts         Options
		wantRoutes   []string
		wantStatuses []string
	}{
		"force-ssl-redirect without TLS redirects": {
			yaml:         ingressYAML("web", "i", "", force, "", "a.com", "/=s", "/api=s") + svcs("web", "s"),
			wantRoutes:   []string{"a.com: segment:/api -> 301 https", "a.com: prefix:/ -> 301 https"},
			wantStatuses: []string{"Ingress web/i: valid"},
		},
		"force-ssl-redirect without TLS and without a host redirects every host": {
			yaml:         ingressYAML("web", "i", "", force, "", "", "/=s") + svcs("web", "s"),
			wantRoutes:   []string{"*: prefix:/ -> 301 https"},
			wantStatuses: []string{"Ingress web/i: valid"},
		},
		"force-ssl-redirect and allow-http false without TLS: port 80 still redirects": {
			yaml:         ingressYAML("web", "i", "", force+", "+noHTTP, "", "a.com", "/=s") + svcs("web", "s"),
			wantRoutes:   []string{"a.com: prefix:/ -> 301 https"},
			wantStatuses: []string{"Ingress web/i: valid"},
		},
		"force-ssl-redirect and allow-http false with TLS: https serves, port 80 redirects": {
			yaml:         ingressYAML("web", "i", "", force+", "+noHTTP, "a.com", "a.com", "/=s") + svcs("web", "s") + cert,
			wantRoutes:   []string{"a.com: prefix:/ -> 301 https", "https a.com: prefix:/ -> web/s:80"},
			wantStatuses: []string{"Ingress web/i: valid"},
		},
		"allow-http false alone without TLS serves nothing": {
			yaml:         ingressYAML("web", "i", "", noHTTP, "", "a.com", "/=s") + svcs("web", "s"),
			wantStatuses: []string{"Ingress web/i: valid"},
		},
		"an Ingress without TLS adds its paths to another Ingress's https host": {
			yaml: ingressYAML("web", "tls", "", force, "a.com", "a.com", "/=s") +
				ingressYAML("acme", "solver", "", "", "", "a.com", "/.well-known/acme-challenge=solver") +
				svcs("web", "s") + svcs("acme", "solver") + cert,
			wantRoutes: []string{
				"a.com: segment:/.well-known/acme-challenge -> acme/solver:80",
				"a.com: prefix:/ -> 301 https",
				"https a.com: segment:/.well-known/acme-challenge -> acme/solver:80",
				"https a.com: prefix:/ -> web/s:80",
			},
			wantStatuses: []string{"Ingress acme/solver: valid", "Ingress web/tls: valid"},
		},
		"a newer Ingress without TLS does not take a path of the https host": {
			yaml: ingressYAML("web", "tls", "2026-01-01T00:00:00Z", "", "a.com", "a.com", "/=s") +
				ingressYAML("other", "grab", "2026-02-01T00:00:00Z", "", "", "a.com", "/=x") +
				svcs("web", "s") + svcs("other", "x") + cert,
			wantRoutes:   []string{"a.com: prefix:/ -> web/s:80", "https a.com: prefix:/ -> web/s:80"},
			wantStatuses: []string{"Ingress other/grab: valid warn:RouteConflict", "Ingress web/tls: valid"},
		},
		"an older Ingress without TLS keeps its path on both listeners": {
			yaml: ingressYAML("web", "tls", "2026-02-01T00:00:00Z", force, "a.com", "a.com", "/=s") +
				ingressYAML("other", "old", "2026-01-01T00:00:00Z", "", "", "a.com", "/=x") +
				svcs("web", "s") + svcs("other", "x") + cert,
			wantRoutes:   []string{"a.com: prefix:/ -> other/x:80", "https a.com: prefix:/ -> other/x:80"},
			wantStatuses: []string{"Ingress other/old: valid", "Ingress web/tls: valid warn:RouteConflict"},
		},
		"the https host of a TLS Ingress whose Secret is missing does not exist": {
			yaml:         ingressYAML("web", "tls", "", "", "b.com", "b.com", "/=s") + ingressYAML("web", "plain", "", "", "", "b.com", "/p=s") + svcs("web", "s"),
			wantRoutes:   []string{"b.com: segment:/p -> web/s:80", "b.com: prefix:/ -> web/s:80"},
			wantStatuses: []string{"Ingress web/plain: valid", "Ingress web/tls: invalid SecretNotValid"},
		},
		"with permitInsecure disabled, port 80 redirects the paths of the Ingress with TLS only": {
			yaml: ingressYAML("web", "tls", "", "", "a.com", "a.com", "/=s") +
				ingressYAML("web", "plain", "", "", "", "a.com", "/p=s") + svcs("web", "s") + cert,
			opts: Options{DisablePermitInsecure: true},
			wantRoutes: []string{
				"a.com: segment:/p -> web/s:80", "a.com: prefix:/ -> 301 https",
				"https a.com: segment:/p -> web/s:80", "https a.com: prefix:/ -> web/s:80",
			},
			wantStatuses: []string{"Ingress web/plain: valid", "Ingress web/tls: valid"},
		},
		"minimum TLS version above the maximum: no https host": {
			yaml: ingressYAML("web", "i", "", `projectcontour.io/tls-minimum-protocol-version: "1.3", projectcontour.io/tls-maximum-protocol-version: "1.2"`,
				"a.com", "a.com", "/=s") + svcs("web", "s") + cert,
			wantRoutes:   []string{"a.com: prefix:/ -> web/s:80"},
			wantStatuses: []string{"Ingress web/i: invalid AnnotationNotValid"},
		},
		"minimum TLS version above the maximum, another Ingress's https host still takes the paths": {
			yaml: ingressYAML("web", "i", "", `projectcontour.io/tls-minimum-protocol-version: "1.3", projectcontour.io/tls-maximum-protocol-version: "1.2"`,
				"a.com", "a.com", "/=s") + ingressYAML("web", "ok", "", "", "a.com", "a.com", "/ok=s") + svcs("web", "s") + cert,
			wantRoutes: []string{
				"a.com: segment:/ok -> web/s:80", "a.com: prefix:/ -> web/s:80",
				"https a.com: segment:/ok -> web/s:80", "https a.com: prefix:/ -> web/s:80",
			},
			wantStatuses: []string{"Ingress web/i: invalid AnnotationNotValid", "Ingress web/ok: valid"},
		},
		"minimum TLS version above the maximum without TLS is still reported": {
			yaml: ingressYAML("web", "i", "", `projectcontour.io/tls-minimum-protocol-version: "1.3", projectcontour.io/tls-maximum-protocol-version: "1.2"`,
				"", "a.com", "/=s") + svcs("web", "s"),
			wantRoutes:   []string{"a.com: prefix:/ -> web/s:80"},
			wantStatuses: []string{"Ingress web/i: invalid AnnotationNotValid"},
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

// TestIngressTLSVersionsMessage: the status says why no https host is
// served.
func TestIngressTLSVersionsMessage(t *testing.T) {
	t.Parallel()
	_, r := build(t, Options{}, ingressYAML("web", "i", "", `projectcontour.io/tls-minimum-protocol-version: "1.3", projectcontour.io/tls-maximum-protocol-version: "1.2"`,
		"a.com", "a.com", "/=s")+svcs("web", "s")+tlsSecretYAML(t, "web", "cert", "a.com"))
	objs := r.Objects()
	if len(objs) != 1 || len(objs[0].Conditions) != 1 || len(objs[0].Conditions[0].Errors) != 1 {
		t.Fatalf("want one error on one object, got %+v", objs)
	}
	want := `annotation tls-minimum-protocol-version "1.3" is above tls-maximum-protocol-version "1.2": no TLS version is left, so the hosts of spec.tls are not served over HTTPS`
	if got := objs[0].Conditions[0].Errors[0]; got.Type != "TLSError" || got.Message != want {
		t.Errorf("got %s %q, want TLSError %q", got.Type, got.Message, want)
	}
}
