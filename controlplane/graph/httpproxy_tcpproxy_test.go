package graph

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTCPProxyRoutes: the routes (and includes) of a root whose TLS goes to
// a tcpproxy, or is passed through without one, are served on port 80 only,
// as in Contour: redirects to https unless permitInsecure.
func TestTCPProxyRoutes(t *testing.T) {
	t.Parallel()
	// root is HTTPProxy ns/p for a.com with tls (and what follows it in
	// the virtual host) and rest of its spec.
	root := func(tls, rest string) string {
		return "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata: {name: p, namespace: ns}\nspec:\n  virtualhost: {fqdn: a.com, tls: " +
			tls + "}\n" + rest + svcs("ns", "s", "t")
	}
	const tcp = "  tcpproxy: {services: [{name: t, port: 80}]}\n"
	const routes = `  routes:
  - services: [{name: s, port: 80}]
  - conditions: [{prefix: /open}]
    permitInsecure: true
    services: [{name: s, port: 80}]
`
	for name, tc := range map[string]struct {
		yaml         string
		opts         Options
		wantRoutes   []string
		wantStatuses []string
	}{
		"TLS terminated to a tcpproxy: port 80 redirects, permitInsecure forwards": {
			yaml: root("{secretName: cert}", tcp+routes) + certSecret(t, "ns", "cert"),
			wantRoutes: []string{
				"a.com: prefix:/open -> ns/s:80",
				"a.com: prefix:/ -> 301 https",
				"https a.com: tcpproxy -> ns/t:80",
			},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"passthrough to a tcpproxy": {
			yaml: root("{passthrough: true}", tcp+routes),
			wantRoutes: []string{
				"a.com: prefix:/open -> ns/s:80",
				"a.com: prefix:/ -> 301 https",
				"https a.com: tcpproxy -> ns/t:80",
			},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"permitInsecure disabled globally: every port-80 route redirects": {
			yaml: root("{passthrough: true}", tcp+routes),
			opts: Options{DisablePermitInsecure: true},
			wantRoutes: []string{
				"a.com: prefix:/open -> 301 https",
				"a.com: prefix:/ -> 301 https",
				"https a.com: tcpproxy -> ns/t:80",
			},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"a missing service makes the root invalid; the redirect and the tcpproxy stay": {
			yaml: root("{passthrough: true}", tcp+"  routes: [{services: [{name: nope, port: 80}]}]\n"),
			wantRoutes: []string{
				"a.com: prefix:/ -> 301 https",
				"https a.com: tcpproxy -> ns/t:80",
			},
			wantStatuses: []string{"HTTPProxy ns/p: invalid ServiceUnresolvedReference"},
		},
		"an unmatched service port too": {
			yaml: root("{passthrough: true}", tcp+"  routes: [{permitInsecure: true, services: [{name: s, port: 9999}]}]\n"),
			wantRoutes: []string{
				"a.com: prefix:/ -> 503",
				"https a.com: tcpproxy -> ns/t:80",
			},
			wantStatuses: []string{"HTTPProxy ns/p: invalid ServiceUnresolvedReference"},
		},
		"a fatal route error: the root serves nothing, tcpproxy included": {
			yaml:         root("{passthrough: true}", tcp+"  routes: [{timeoutPolicy: {response: soon}, services: [{name: s, port: 80}]}]\n"),
			wantStatuses: []string{"HTTPProxy ns/p: invalid TimeoutPolicyNotValid"},
		},
		"includes are followed": {
			yaml: root("{passthrough: true}", tcp+"  includes: [{name: child, conditions: [{prefix: /blog}]}]\n") + `---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: child, namespace: ns}
spec:
  routes: [{permitInsecure: true, services: [{name: s, port: 80}]}]
`,
			wantRoutes: []string{
				"a.com: prefix:/blog -> ns/s:80",
				"https a.com: tcpproxy -> ns/t:80",
			},
			wantStatuses: []string{"HTTPProxy ns/child: valid", "HTTPProxy ns/p: valid"},
		},
		"passthrough without a tcpproxy: port 80 only, with a warning": {
			yaml: root("{passthrough: true}", routes),
			wantRoutes: []string{
				"a.com: prefix:/open -> ns/s:80",
				"a.com: prefix:/ -> 301 https",
			},
			wantStatuses: []string{"HTTPProxy ns/p: valid warn:TLSConfigNotValid"},
		},
		"passthrough without a tcpproxy, with an authorization: ignored": {
			yaml: root("{passthrough: true}, authorization: {extensionRef: {name: auth}}", routes) + extensionDoc("ns", "auth", "{protocol: h2c, services: [{name: s, port: 80}]}"),
			wantRoutes: []string{
				"a.com: prefix:/open -> ns/s:80",
				"a.com: prefix:/ -> 301 https",
			},
			wantStatuses: []string{"ExtensionService ns/auth: valid", "HTTPProxy ns/p: valid warn:IgnoredField,warn:TLSConfigNotValid"},
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

// TestTCPProxyRoutePolicies: the HTTP policies of a tcpproxy root's virtual
// host apply to its port-80 host when it has routes (never to the TCP
// proxy), and are reported ignored when it has none.
func TestTCPProxyRoutePolicies(t *testing.T) {
	t.Parallel()
	const vhost = `{fqdn: a.com, tls: {passthrough: true}, corsPolicy: {allowOrigin: ["*"], allowMethods: [GET]},
    ipDenyPolicy: [{source: Peer, cidr: 10.0.0.0/8}], rateLimitPolicy: {local: {requests: 5, unit: second}}}`
	doc := func(rest string) string {
		return "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata: {name: p, namespace: ns}\nspec:\n  virtualhost: " + vhost +
			"\n  tcpproxy: {services: [{name: s, port: 80}]}\n" + rest + svcs("ns", "s")
	}
	wantCORS := &CORSPolicy{AllowOrigin: []OriginMatch{{Value: "*"}}, AllowMethods: []string{"GET"}, AllowHeaders: []string{}, ExposeHeaders: []string{}}
	wantIP := &IPFilter{Allow: false, Rules: []IPFilterRule{{CIDR: netip.MustParsePrefix("10.0.0.0/8")}}}
	wantRL := &LocalRateLimit{Requests: 5, Unit: "second"}

	t.Run("with routes", func(t *testing.T) {
		t.Parallel()
		g, r := build(t, Options{}, doc("  routes: [{services: [{name: s, port: 80}]}]\n"))
		if d := cmp.Diff([]string{"HTTPProxy ns/p: valid"}, statuses(r)); d != "" {
			t.Errorf("statuses (-want +got):\n%s", d)
		}
		vh, svh := g.VirtualHosts["a.com"], g.SecureVirtualHosts["a.com"]
		if vh == nil || svh == nil || svh.TCPProxy == nil {
			t.Fatalf("want a port-80 host and a tcpproxy, got %v %v", vh, svh)
		}
		if d := cmp.Diff([]any{wantCORS, wantIP, wantRL}, []any{vh.CORS, vh.IPFilter, vh.RateLimit}, prefixes); d != "" {
			t.Errorf("port-80 host policies (-want +got):\n%s", d)
		}
		if svh.CORS != nil || svh.IPFilter != nil || svh.RateLimit != nil || len(svh.Routes) > 0 {
			t.Errorf("the tcpproxy host has HTTP settings: %+v", svh)
		}
	})
	t.Run("without routes", func(t *testing.T) {
		t.Parallel()
		g, r := build(t, Options{}, doc(""))
		if d := cmp.Diff([]string{"HTTPProxy ns/p: valid warn:IgnoredField,warn:IgnoredField,warn:IgnoredField"}, statuses(r)); d != "" {
			t.Errorf("statuses (-want +got):\n%s", d)
		}
		if g.VirtualHosts["a.com"] != nil {
			t.Errorf("a port-80 host without routes: %+v", g.VirtualHosts["a.com"])
		}
	})
}

// TestTCPProxyRoutesGlobalAuthorization: with a global authorization server,
// a tcpproxy root's port-80 routes take its policy, as any root's.
func TestTCPProxyRoutesGlobalAuthorization(t *testing.T) {
	t.Parallel()
	ga, err := ParseGlobalAuthorization(`{"extensionService":"auth/authz","authPolicy":{"context":{"tier":"edge"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	g, r := build(t, Options{GlobalAuthorization: ga}, extensionDoc("auth", "authz", "{protocol: h2c, services: [{name: authz, port: 80}]}")+
		svcs("auth", "authz")+svcs("ns", "s")+`---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com, tls: {passthrough: true}}
  tcpproxy: {services: [{name: s, port: 80}]}
  routes:
  - permitInsecure: true
    services: [{name: s, port: 80}]
  - conditions: [{prefix: /off}]
    permitInsecure: true
    authPolicy: {disabled: true}
    services: [{name: s, port: 80}]
`)
	if d := cmp.Diff([]string{"ExtensionService auth/authz: valid", "HTTPProxy ns/p: valid"}, statuses(r)); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	got := map[string]string{}
	for _, rt := range SortedRoutes(g.VirtualHosts["a.com"]) {
		if a := rt.Authorization; a != nil {
			got[rt.MatchString()] = map[bool]string{true: "disabled", false: "checked"}[a.Disabled] + " " + strings.Join(sortedPairs(a.Context), ",")
		}
	}
	want := map[string]string{"prefix:/": "checked tier=edge", "prefix:/off": "disabled tier=edge"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("route authorization (-want +got):\n%s", d)
	}
	if svh := g.SecureVirtualHosts["a.com"]; svh == nil || svh.TCPProxy == nil || svh.Authorization != nil {
		t.Errorf("want the tcpproxy host without a server, got %+v", svh)
	}
}
