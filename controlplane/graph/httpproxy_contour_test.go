package graph

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// typedStatuses renders "Kind ns/name: status [Type/Reason...]", warnings
// as "warn:Type/Reason".
func typedStatuses(r *status.Report) []string {
	var out []string
	for _, o := range r.Objects() {
		var subs []string
		for _, c := range o.Conditions {
			for _, e := range c.Errors {
				subs = append(subs, fmt.Sprintf("%s/%s", e.Type, e.Reason))
			}
			for _, w := range c.Warnings {
				subs = append(subs, fmt.Sprintf("warn:%s/%s", w.Type, w.Reason))
			}
		}
		sort.Strings(subs)
		s := fmt.Sprintf("%s: %s", o.Ref, o.CurrentStatus)
		if len(subs) > 0 {
			s += " " + strings.Join(subs, ",")
		}
		out = append(out, s)
	}
	return out
}

// proxyDoc is an HTTPProxy document ns/name with spec (indented YAML
// lines under spec).
func proxyDoc(ns, name, spec string) string {
	return fmt.Sprintf("---\napiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata: {name: %s, namespace: %s}\nspec:\n%s\n", name, ns, spec)
}

// TestHTTPProxyContourReasons: the condition types and reasons Contour
// gives (its status tests), and what its include rules serve.
func TestHTTPProxyContourReasons(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		yaml         string
		wantRoutes   []string
		wantStatuses []string
	}{
		"includes without conditions or with prefix / are not duplicates": {
			yaml: proxyDoc("r", "root", `  virtualhost: {fqdn: a.com}
  includes: [{name: a}, {name: b}, {name: c, conditions: [{prefix: /}]}, {name: a, conditions: [{prefix: /}]}]`) +
				proxyDoc("r", "a", `  routes: [{conditions: [{prefix: /a}], services: [{name: s, port: 80}]}]`) +
				proxyDoc("r", "b", `  routes: [{conditions: [{prefix: /b}], services: [{name: s, port: 80}]}]`) +
				proxyDoc("r", "c", `  routes: [{conditions: [{prefix: /c}], services: [{name: s, port: 80}]}]`) + svcs("r", "s"),
			wantRoutes: []string{"a.com: prefix:/c -> r/s:80", "a.com: prefix:/b -> r/s:80", "a.com: prefix:/a -> r/s:80"},
			wantStatuses: []string{"HTTPProxy r/a: valid warn:RouteError/RouteConflict", "HTTPProxy r/b: valid",
				"HTTPProxy r/c: valid", "HTTPProxy r/root: valid"},
		},
		"two includes with the same prefix are duplicates": {
			yaml: proxyDoc("r", "root", `  virtualhost: {fqdn: a.com}
  includes: [{name: a, conditions: [{prefix: /x}]}, {name: b, conditions: [{prefix: /x}]}]`) +
				proxyDoc("r", "a", `  routes: [{services: [{name: s, port: 80}]}]`) +
				proxyDoc("r", "b", `  routes: [{services: [{name: s, port: 80}]}]`) + svcs("r", "s"),
			wantRoutes:   []string{"a.com: prefix:/x -> r/s:80"},
			wantStatuses: []string{"HTTPProxy r/a: valid", "HTTPProxy r/b: orphaned Orphaned/Orphaned", "HTTPProxy r/root: invalid IncludeError/DuplicateMatchConditions"},
		},
		"a failed include without conditions answers nothing": {
			yaml: proxyDoc("r", "root", `  virtualhost: {fqdn: a.com}
  includes: [{name: other}]`) +
				proxyDoc("r", "other", `  virtualhost: {fqdn: b.com}
  routes: [{services: [{name: s, port: 80}]}]`) +
				proxyDoc("r", "own", `  virtualhost: {fqdn: c.com}
  includes: [{name: ghost}, {name: ghost, conditions: [{prefix: /ghost}]}]
  routes: [{services: [{name: s, port: 80}]}]`) + svcs("r", "s"),
			wantRoutes: []string{"b.com: prefix:/ -> r/s:80", "c.com: prefix:/ghost -> direct 502", "c.com: prefix:/ -> r/s:80"},
			wantStatuses: []string{"HTTPProxy r/other: valid", "HTTPProxy r/own: invalid IncludeError/IncludeNotFound",
				"HTTPProxy r/root: invalid IncludeError/RootIncludesRoot"},
		},
		"an invalid child included without conditions answers nothing": {
			yaml: proxyDoc("r", "root", `  virtualhost: {fqdn: a.com}
  includes: [{name: child}]
  routes: [{conditions: [{prefix: /keep}], services: [{name: s, port: 80}]}]`) +
				proxyDoc("r", "child", `  routes: [{conditions: [{prefix: nope}], services: [{name: s, port: 80}]}]`) + svcs("r", "s"),
			wantRoutes: []string{"a.com: prefix:/keep -> r/s:80"},
			wantStatuses: []string{"HTTPProxy r/child: invalid RouteError/PathMatchConditionsNotValid",
				"HTTPProxy r/root: valid warn:IncludeError/IncludeNotValid"},
		},
		"duplicate exact query parameters": {
			yaml: proxyDoc("r", "p", `  virtualhost: {fqdn: a.com}
  routes: [{conditions: [{prefix: /foo}, {queryParameter: {name: param, exact: abc}}, {queryParameter: {name: param, exact: "1234"}}], services: [{name: s, port: 80}]}]`) + svcs("r", "s"),
			wantStatuses: []string{"HTTPProxy r/p: invalid RouteError/QueryParameterMatchConditionsNotValid"},
		},
		"an exact query parameter of the include and another of the route": {
			yaml: proxyDoc("r", "root", `  virtualhost: {fqdn: a.com}
  includes: [{name: child, conditions: [{prefix: /c}, {queryParameter: {name: q, exact: "1"}}]}]`) +
				proxyDoc("r", "child", `  routes: [{conditions: [{queryParameter: {name: q, exact: "2"}}], services: [{name: s, port: 80}]}]`) + svcs("r", "s"),
			wantRoutes: []string{"a.com: prefix:/c q:q=exact:1 -> direct 502"},
			wantStatuses: []string{"HTTPProxy r/child: invalid RouteError/QueryParameterMatchConditionsNotValid",
				"HTTPProxy r/root: valid warn:IncludeError/IncludeNotValid"},
		},
		"bad header and query conditions on an include are RouteErrors": {
			yaml: proxyDoc("r", "root", `  virtualhost: {fqdn: a.com}
  includes:
  - {name: child, conditions: [{prefix: /foo}, {header: {name: x-header, exact: abc}}, {header: {name: x-header, exact: "1234"}}]}
  - {name: child, conditions: [{prefix: /bar}, {queryParameter: {name: q, exact: a}}, {queryParameter: {name: q, exact: b}}]}
  - {name: child, conditions: [{exact: /baz}]}`) +
				proxyDoc("r", "child", `  routes: [{services: [{name: s, port: 80}]}]`) + svcs("r", "s"),
			wantStatuses: []string{"HTTPProxy r/child: orphaned Orphaned/Orphaned",
				"HTTPProxy r/root: invalid IncludeError/PathMatchConditionsNotValid,RouteError/HeaderMatchConditionsNotValid,RouteError/QueryParameterMatchConditionsNotValid"},
		},
		"service ports outside 1-65535": {
			yaml: proxyDoc("r", "big", `  virtualhost: {fqdn: a.com}
  routes: [{services: [{name: s, port: 12345678}]}]`) +
				proxyDoc("r", "negative", `  virtualhost: {fqdn: b.com}
  routes: [{services: [{name: missing, port: -80}]}]`) + svcs("r", "s"),
			wantStatuses: []string{"HTTPProxy r/big: invalid ServiceError/ServicePortInvalid", "HTTPProxy r/negative: invalid ServiceError/ServicePortInvalid"},
		},
		"a UDP Service port is unresolved, as in Contour": {
			yaml: proxyDoc("r", "udp", `  virtualhost: {fqdn: a.com}
  routes: [{services: [{name: dns, port: 53}]}]`) +
				"---\napiVersion: v1\nkind: Service\nmetadata: {name: dns, namespace: r}\nspec: {ports: [{name: dns, port: 53, protocol: UDP}]}\n",
			wantRoutes:   []string{"a.com: prefix:/ -> 503"},
			wantStatuses: []string{"HTTPProxy r/udp: invalid ServiceError/ServiceUnresolvedReference"},
		},
		"header policies of a service and of a route": {
			yaml: proxyDoc("r", "svc-response", `  virtualhost: {fqdn: a.com}
  routes: [{services: [{name: s, port: 80, responseHeadersPolicy: {set: [{name: Host, value: x}]}}]}]`) +
				proxyDoc("r", "svc-request", `  virtualhost: {fqdn: b.com}
  routes: [{services: [{name: s, port: 80, requestHeadersPolicy: {set: [{name: X-A, value: "1"}, {name: x-a, value: "2"}]}}]}]`) +
				proxyDoc("r", "route-response", `  virtualhost: {fqdn: c.com}
  routes: [{responseHeadersPolicy: {set: [{name: Host, value: x}]}, services: [{name: s, port: 80}]}]`) +
				proxyDoc("r", "route-request", `  virtualhost: {fqdn: d.com}
  routes: [{requestHeadersPolicy: {remove: ["bad name"]}, services: [{name: s, port: 80}]}]`) + svcs("r", "s"),
			wantStatuses: []string{
				"HTTPProxy r/route-request: invalid RouteError/RequestHeadersPolicyInvalid",
				"HTTPProxy r/route-response: invalid RouteError/ResponseHeaderPolicyInvalid",
				"HTTPProxy r/svc-request: invalid ServiceError/RequestHeadersPolicyInvalid",
				"HTTPProxy r/svc-response: invalid ServiceError/ResponseHeadersPolicyInvalid",
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, tc.yaml)
			if d := cmp.Diff(tc.wantRoutes, summary(g)); d != "" {
				t.Errorf("routes (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatuses, typedStatuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
		})
	}
}

// TestTLSContourReasons: Contour's order and reasons for client
// validation, the fallback certificate and JWT providers, and for upstream
// validation CAs (which keep CACertificateNotDelegated).
func TestTLSContourReasons(t *testing.T) {
	t.Parallel()
	cert := tlsSecretYAML(t, "r", "cert", "a.com")
	for name, tc := range map[string]struct {
		yaml         string
		wantStatuses []string
	}{
		"fallback with client validation, before the missing CA": {
			yaml: proxyDoc("r", "p", `  virtualhost: {fqdn: a.com, tls: {secretName: cert, enableFallbackCertificate: true, clientValidation: {caSecret: missing}}}
  routes: [{services: [{name: s, port: 80}]}]`) + cert + svcs("r", "s"),
			wantStatuses: []string{"HTTPProxy r/p: invalid TLSError/TLSIncompatibleFeatures"},
		},
		"a client CA in another namespace without delegation": {
			yaml: proxyDoc("r", "p", `  virtualhost: {fqdn: a.com, tls: {secretName: cert, clientValidation: {caSecret: other/ca}}}
  routes: [{services: [{name: s, port: 80}]}]`) + cert + caSecretDoc(t, "other", "ca") + svcs("r", "s"),
			wantStatuses: []string{"HTTPProxy r/p: invalid TLSError/DelegationNotPermitted"},
		},
		"a delegated client CA that does not exist": {
			yaml: proxyDoc("r", "p", `  virtualhost: {fqdn: a.com, tls: {secretName: cert, clientValidation: {caSecret: other/ca}}}
  routes: [{services: [{name: s, port: 80}]}]`) + cert + svcs("r", "s") + `---
apiVersion: projectcontour.io/v1
kind: TLSCertificateDelegation
metadata: {name: d, namespace: other}
spec: {delegations: [{secretName: ca, targetNamespaces: [r]}]}
`,
			wantStatuses: []string{"HTTPProxy r/p: invalid TLSError/ClientValidationInvalid"},
		},
		"a client CA Secret without ca.crt": {
			yaml: proxyDoc("r", "p", `  virtualhost: {fqdn: a.com, tls: {secretName: cert, clientValidation: {caSecret: cert}}}
  routes: [{services: [{name: s, port: 80}]}]`) + cert + svcs("r", "s"),
			wantStatuses: []string{"HTTPProxy r/p: invalid TLSError/ClientValidationInvalid"},
		},
		"JWT providers with the fallback certificate only": {
			yaml: proxyDoc("r", "p", `  virtualhost:
    fqdn: a.com
    tls: {enableFallbackCertificate: true}
    jwtProviders: [{name: p1, remoteJWKS: {uri: "https://jwt.example.com/jwks.json"}}]
  routes: [{services: [{name: s, port: 80}]}]`) + svcs("r", "s"),
			wantStatuses: []string{"HTTPProxy r/p: invalid JWTVerificationError/JWTVerificationNotPermitted"},
		},
		"an upstream CA in another namespace without delegation": {
			yaml: proxyDoc("r", "p", `  virtualhost: {fqdn: a.com}
  routes: [{services: [{name: s, port: 80, protocol: tls, validation: {caSecret: other/ca, subjectName: s.r}}]}]`) +
				caSecretDoc(t, "other", "ca") + svcs("r", "s"),
			wantStatuses: []string{"HTTPProxy r/p: invalid TLSError/CACertificateNotDelegated"},
		},
		"an upstream CA that does not exist": {
			yaml: proxyDoc("r", "p", `  virtualhost: {fqdn: a.com}
  routes: [{services: [{name: s, port: 80, protocol: tls, validation: {caSecret: ca, subjectName: s.r}}]}]`) + svcs("r", "s"),
			wantStatuses: []string{"HTTPProxy r/p: invalid ServiceError/TLSUpstreamValidation"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, r := build(t, Options{}, tc.yaml)
			if d := cmp.Diff(tc.wantStatuses, typedStatuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
		})
	}
}

// TestExtensionServiceExternalName: an ExtensionService naming an
// ExternalName Service is UnsupportedServiceType whether or not
// ExternalName Services are enabled, as in Contour; without the port, it
// is unresolved.
func TestExtensionServiceExternalName(t *testing.T) {
	t.Parallel()
	yaml := `
apiVersion: projectcontour.io/v1alpha1
kind: ExtensionService
metadata: {name: ext, namespace: ns}
spec: {services: [{name: external, port: 443}]}
---
apiVersion: projectcontour.io/v1alpha1
kind: ExtensionService
metadata: {name: wrong-port, namespace: ns}
spec: {services: [{name: external, port: 8443}]}
---
apiVersion: v1
kind: Service
metadata: {name: external, namespace: ns}
spec: {type: ExternalName, externalName: auth.example.net, ports: [{port: 443}]}
`
	want := []string{
		"ExtensionService ns/ext: invalid ServiceError/UnsupportedServiceType",
		"ExtensionService ns/wrong-port: invalid ServiceError/ServiceUnresolvedReference",
	}
	for _, enabled := range []bool{false, true} {
		g, r := build(t, Options{EnableExternalName: enabled}, yaml)
		if d := cmp.Diff(want, typedStatuses(r)); d != "" {
			t.Errorf("ExternalName enabled %v: statuses (-want +got):\n%s", enabled, d)
		}
		if len(g.Extensions) != 0 {
			t.Errorf("ExternalName enabled %v: %d extension clusters, want none", enabled, len(g.Extensions))
		}
	}
}
