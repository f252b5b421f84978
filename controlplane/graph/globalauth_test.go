package graph

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGlobalAuthorization(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"extensionService":"auth/authz","failOpen":true,"authPolicy":{"disabled":true,"context":{"a":"b"}}}`:    "",
		`{"extensionService":"auth/authz","responseTimeout":"infinity","withRequestBody":{"maxRequestBytes":10}}`: "",
		`{"extensionService":"authz"}`:                           `extensionService: "authz" is not namespace/name`,
		`{"extensionService":"auth/authz","serviceType":"http"}`: "",
		`{"extensionService":"auth/authz","serviceType":"http","httpSettings":{"pathPrefix":"/auth","allowedUpstreamHeaders":[{"prefix":"x-"}]}}`: "",
		`{"extensionService":"auth/authz","serviceType":"HTTP"}`:                                                                                  `ServiceType "HTTP" is not one of grpc or http`,
		`{"extensionService":"auth/authz","serviceType":"http","authPolicy":{"context":{"a":"b"}}}`:                                               "AuthPolicy.Context are only applied to grpc service type",
		`{"extensionService":"auth/authz","serviceType":"http","httpSettings":{"allowedAuthorizationHeaders":[{}]}}`:                              "AllowedAuthorizationHeaders is invalid: [0]: one of prefix, suffix, exact or contains is required",
		`{"extensionService":"auth/authz","responseTimeout":"soon"}`:                                                                              `responseTimeout "soon": not a duration`,
		`{"extensionService":"auth/authz","httpSettings":{"pathPrefix":"/"}}`:                                                                     `HTTPServerSettings is ignored: it applies to serviceType http only`,
		`{"extensionService":"auth/authz","serviceType":"http","httpSettings":{"prefix":"/"}}`:                                                    `unknown field "prefix"`,
	} {
		_, err := ParseGlobalAuthorization(in)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", in, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want one saying %q", in, err, want)
		}
	}
}

// TestGlobalAuthorization checks who gets the global server and which
// policy their routes inherit, and that a server that cannot be used
// makes the roots that do not opt out invalid.
func TestGlobalAuthorization(t *testing.T) {
	t.Parallel()
	ext := `
apiVersion: projectcontour.io/v1alpha1
kind: ExtensionService
metadata: {name: authz, namespace: auth}
spec: {protocol: h2c, services: [{name: authz, port: 80}], timeoutPolicy: {response: 3s}}
` + svcs("auth", "authz") + svcs("ns", "s") + certSecret(t, "ns", "cert")
	roots := `---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: plain, namespace: ns}
spec:
  virtualhost: {fqdn: plain.com}
  routes:
  - services: [{name: s, port: 80}]
  - conditions: [{prefix: /off}]
    authPolicy: {disabled: true}
    services: [{name: s, port: 80}]
  - conditions: [{prefix: /insecure}]
    permitInsecure: true
    services: [{name: s, port: 80}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: tls, namespace: ns}
spec:
  virtualhost: {fqdn: tls.com, tls: {secretName: cert}}
  routes:
  - conditions: [{prefix: /insecure}]
    permitInsecure: true
    services: [{name: s, port: 80}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: optout, namespace: ns}
spec:
  virtualhost: {fqdn: optout.com, authorization: {authPolicy: {disabled: true, context: {who: me}}}}
  routes:
  - services: [{name: s, port: 80}]
`
	ga, err := ParseGlobalAuthorization(`{"extensionService":"auth/authz","failOpen":true,"authPolicy":{"context":{"tier":"edge"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	g, r := build(t, Options{GlobalAuthorization: ga}, ext+roots)
	if d := cmp.Diff([]string{"ExtensionService auth/authz: valid", "HTTPProxy ns/optout: valid", "HTTPProxy ns/plain: valid", "HTTPProxy ns/tls: valid"}, statuses(r)); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	az := g.GlobalAuthorization
	if az == nil || az.Cluster.Extension.Name != "authz" || !az.FailOpen || az.Timeout.Duration != 3e9 {
		t.Fatalf("the graph's global server: %+v", az)
	}
	if g.SecureVirtualHosts["tls.com"].Authorization != az {
		t.Errorf("a TLS host without its own server does not get the global one")
	}
	got := map[string]string{}
	for _, host := range []string{"plain.com", "optout.com", "tls.com"} {
		for _, rt := range SortedRoutes(g.VirtualHosts[host]) {
			a := rt.Authorization
			if a == nil {
				got[host+rt.MatchString()] = "none"
				continue
			}
			got[host+rt.MatchString()] = map[bool]string{true: "disabled", false: "checked"}[a.Disabled] + " " + strings.Join(sortedPairs(a.Context), ",")
		}
	}
	want := map[string]string{"plain.comprefix:/": "checked tier=edge", "plain.comprefix:/off": "disabled tier=edge",
		"plain.comprefix:/insecure": "checked tier=edge", "optout.comprefix:/": "disabled who=me", "tls.comprefix:/insecure": "checked tier=edge"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("route authorization (-want +got):\n%s", d)
	}

	missing, _ := ParseGlobalAuthorization(`{"extensionService":"auth/nothing"}`)
	g, r = build(t, Options{GlobalAuthorization: missing}, ext+roots)
	if d := cmp.Diff([]string{"ExtensionService auth/authz: valid", "HTTPProxy ns/optout: valid",
		"HTTPProxy ns/plain: invalid ExtensionServiceNotFound", "HTTPProxy ns/tls: invalid ExtensionServiceNotFound"}, statuses(r)); d != "" {
		t.Errorf("a missing server: statuses (-want +got):\n%s", d)
	}
	if fs := r.Findings(); len(fs) != 1 || fs[0].Code != FindingGlobalAuthServiceNotFound || g.GlobalAuthorization != nil {
		t.Errorf("a missing server: findings %v, graph server %v", fs, g.GlobalAuthorization)
	}
}

// sortedPairs lists m as sorted key=value pairs.
func sortedPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
