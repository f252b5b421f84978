package graph

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// rewrites renders the routes of every insecure virtual host as
// "host: match -> rewrite" ("-" without one), in Envoy's order (longer
// prefixes first, those of one length in reverse lexical order).
func rewrites(g *Graph) []string {
	var out []string
	for _, vh := range SortedVirtualHosts(g) {
		for _, r := range SortedRoutes(vh) {
			rw := "-"
			if r.PrefixRewrite != nil {
				rw = r.PrefixRewrite.Replacement
			}
			if r.DirectResponse != nil {
				rw = "direct"
			}
			out = append(out, vh.Name+": "+r.MatchString()+" -> "+rw)
		}
	}
	return out
}

// TestPrefixRewrite: which replacePrefix entry a route uses (the one naming
// its whole routing prefix, include chain included, else the one without a
// prefix), and the /p/ twin Contour adds to a lone /p route that rewrites.
// The expected lines are Contour's (replaceprefix_test.go and the rules of
// its processor).
func TestPrefixRewrite(t *testing.T) {
	t.Parallel()
	root := func(routes string) string {
		return `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes: ` + routes + "\n" + svcs("ns", "s")
	}
	withChild := func(includes, childRoutes string) string {
		return `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  includes: ` + includes + `
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: c, namespace: ns}
spec:
  routes: ` + childRoutes + "\n" + svcs("ns", "s")
	}
	for name, tc := range map[string]struct {
		yaml       string
		want       []string
		wantStatus []string
	}{
		"no prefix: the replacement takes the place of the route's prefix": {
			yaml: root(`[{conditions: [{prefix: /api}], pathRewritePolicy: {replacePrefix: [{replacement: /api/v1}]}, services: [{name: s, port: 80}]}]`),
			want: []string{"a.com: prefix:/api/ -> /api/v1/", "a.com: prefix:/api -> /api/v1"},
		},
		"the entry naming the route's prefix wins over the one without": {
			yaml: root(`[{conditions: [{prefix: /api}], pathRewritePolicy: {replacePrefix: [{prefix: /api, replacement: /full}, {replacement: /empty}]}, services: [{name: s, port: 80}]}]`),
			want: []string{"a.com: prefix:/api/ -> /full/", "a.com: prefix:/api -> /full"},
		},
		"an entry naming another prefix is not used": {
			yaml: root(`[{conditions: [{prefix: /api}], pathRewritePolicy: {replacePrefix: [{prefix: /foo, replacement: /full}]}, services: [{name: s, port: 80}]}]`),
			want: []string{"a.com: prefix:/api -> -"},
		},
		"no condition: the prefix / has one form": {
			yaml: root(`[{pathRewritePolicy: {replacePrefix: [{prefix: /api, replacement: /full}, {replacement: /api/empty}]}, services: [{name: s, port: 80}]}]`),
			want: []string{"a.com: prefix:/ -> /api/empty"},
		},
		"replacing with /": {
			yaml: root(`[{conditions: [{prefix: /foo}], pathRewritePolicy: {replacePrefix: [{replacement: /}]}, services: [{name: s, port: 80}]}]`),
			want: []string{"a.com: prefix:/foo/ -> /", "a.com: prefix:/foo -> /"},
		},
		"a prefix with a trailing slash gets its twin without": {
			yaml: root(`[{conditions: [{prefix: /bar/}], pathRewritePolicy: {replacePrefix: [{replacement: /}]}, services: [{name: s, port: 80}]}]`),
			want: []string{"a.com: prefix:/bar/ -> /", "a.com: prefix:/bar -> /"},
		},
		"a replacement with a trailing slash": {
			yaml: root(`[{conditions: [{prefix: /foo}], pathRewritePolicy: {replacePrefix: [{replacement: /bar/}]}, services: [{name: s, port: 80}]}]`),
			want: []string{"a.com: prefix:/foo/ -> /bar/", "a.com: prefix:/foo -> /bar"},
		},
		"no twin when the proxy routes the other form itself": {
			yaml: root(`[{conditions: [{prefix: /foo}], pathRewritePolicy: {replacePrefix: [{replacement: /bar}]}, services: [{name: s, port: 80}]},
    {conditions: [{prefix: /foo/}], services: [{name: s, port: 80}]}]`),
			want: []string{"a.com: prefix:/foo/ -> -", "a.com: prefix:/foo -> /bar"},
		},
		"no twin when an included proxy routes the other form": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes: [{conditions: [{prefix: /foo}], pathRewritePolicy: {replacePrefix: [{replacement: /bar}]}, services: [{name: s, port: 80}]}]
  includes: [{name: c, conditions: [{prefix: /foo/}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: c, namespace: ns}
spec:
  routes: [{services: [{name: s, port: 80}]}]
` + svcs("ns", "s"),
			want: []string{"a.com: prefix:/foo/ -> -", "a.com: prefix:/foo -> /bar"},
		},
		"included twice: each include chain's prefix picks its entry": {
			yaml: withChild(`[{name: c, conditions: [{prefix: /v1}]}, {name: c, conditions: [{prefix: /v2}]}, {name: c, conditions: [{prefix: /v3}]}]`,
				`[{pathRewritePolicy: {replacePrefix: [{prefix: /v2, replacement: /api/v2}, {prefix: /v1, replacement: /api/v1}]}, services: [{name: s, port: 80}]}]`),
			want: []string{
				"a.com: prefix:/v2/ -> /api/v2/", "a.com: prefix:/v1/ -> /api/v1/",
				"a.com: prefix:/v3 -> -", "a.com: prefix:/v2 -> /api/v2", "a.com: prefix:/v1 -> /api/v1",
			},
		},
		"the entry must name the whole routing prefix, not the include's": {
			yaml: withChild(`[{name: c, conditions: [{prefix: /v1}]}]`,
				`[{conditions: [{prefix: /foo}], pathRewritePolicy: {replacePrefix: [{prefix: /v1, replacement: /x}]}, services: [{name: s, port: 80}]},
    {conditions: [{prefix: /bar}], pathRewritePolicy: {replacePrefix: [{prefix: /v1/bar, replacement: /y}]}, services: [{name: s, port: 80}]},
    {conditions: [{prefix: /baz}], pathRewritePolicy: {replacePrefix: [{replacement: /z}]}, services: [{name: s, port: 80}]}]`),
			want: []string{
				"a.com: prefix:/v1/baz/ -> /z/", "a.com: prefix:/v1/bar/ -> /y/",
				"a.com: prefix:/v1/foo -> -", "a.com: prefix:/v1/baz -> /z", "a.com: prefix:/v1/bar -> /y",
			},
		},
		"two entries without a prefix are ambiguous": {
			yaml:       root(`[{conditions: [{prefix: /api}], pathRewritePolicy: {replacePrefix: [{replacement: /a}, {replacement: /b}]}, services: [{name: s, port: 80}]}]`),
			wantStatus: []string{"HTTPProxy ns/p: invalid AmbiguousReplacement"},
		},
		"two entries for one prefix": {
			yaml:       root(`[{conditions: [{prefix: /api}], pathRewritePolicy: {replacePrefix: [{prefix: /foo, replacement: /a}, {prefix: /foo, replacement: /b}]}, services: [{name: s, port: 80}]}]`),
			wantStatus: []string{"HTTPProxy ns/p: invalid DuplicateReplacement"},
		},
		"an empty replacement (Contour's CRD refuses it)": {
			yaml:       root(`[{conditions: [{prefix: /api}], pathRewritePolicy: {replacePrefix: [{replacement: ""}]}, services: [{name: s, port: 80}]}]`),
			wantStatus: []string{"HTTPProxy ns/p: invalid ReplacementNotValid"},
		},
		"an exact path cannot be rewritten": {
			yaml:       root(`[{conditions: [{exact: /api}], pathRewritePolicy: {replacePrefix: [{replacement: /a}]}, services: [{name: s, port: 80}]}]`),
			wantStatus: []string{"HTTPProxy ns/p: invalid MustHavePrefix"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, rep := build(t, Options{}, tc.yaml)
			if d := cmp.Diff(tc.want, rewrites(g)); d != "" {
				t.Errorf("routes (-want +got):\n%s", d)
			}
			if tc.wantStatus == nil {
				for _, s := range statuses(rep) {
					if !strings.HasSuffix(s, ": valid") {
						t.Errorf("status %s, want valid", s)
					}
				}
				return
			}
			if d := cmp.Diff(tc.wantStatus, statuses(rep)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
		})
	}
}

// TestEscapeHeaderValue: "%" is escaped except in Contour's dynamic values,
// the Envoy variables Contour lists and %REQ(...)%.
func TestEscapeHeaderValue(t *testing.T) {
	t.Parallel()
	svc := contourv1.Service{Name: "web", Port: 8080}
	for _, tc := range []struct {
		in, want string
		svc      contourv1.Service
	}{
		{in: "plain", want: "plain"},
		{in: "100%", want: "100%%"},
		{in: "%HOSTNAME%", want: "%HOSTNAME%"},
		{in: "%NON-ENVOY-VAR%", want: "%%NON-ENVOY-VAR%%"},
		{in: "%DOWNSTREAM_REMOTE_ADDRESS%", want: "%DOWNSTREAM_REMOTE_ADDRESS%"},
		{in: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", want: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"},
		{in: "%TLS_JA4_FINGERPRINT%", want: "%TLS_JA4_FINGERPRINT%"},
		{in: "%hostname%", want: "%%hostname%%"},     // names are upper case
		{in: "%START_TIME%", want: "%%START_TIME%%"}, // not in Contour's list
		{in: "ip=%DOWNSTREAM_REMOTE_ADDRESS% proto=%PROTOCOL% 5%", want: "ip=%DOWNSTREAM_REMOTE_ADDRESS% proto=%PROTOCOL% 5%%"},
		{in: "%REQ(x-user)%", want: "%REQ(x-user)%"},
		{in: "%REQ(:authority)%", want: "%REQ(:authority)%"},
		{in: "%REQ(x-a?x-b):10%", want: "%REQ(x-a?x-b):10%"},
		{in: "%REQ(x a)%", want: "%%REQ(x a)%%"},
		{in: "%CONTOUR_NAMESPACE%", want: "ns"},
		{in: "%CONTOUR_SERVICE_NAME%:%CONTOUR_SERVICE_PORT%", want: "%%CONTOUR_SERVICE_NAME%%:%%CONTOUR_SERVICE_PORT%%"}, // a route's: no service
		{in: "%CONTOUR_SERVICE_NAME%:%CONTOUR_SERVICE_PORT%", svc: svc, want: "web:8080"},
		{in: "%%HOSTNAME%%", want: "%%%HOSTNAME%%%"}, // a literal % around the variable
	} {
		if got := expandDynamic(tc.in, "ns", &tc.svc); got != tc.want {
			t.Errorf("expandDynamic(%q, svc %q) = %q, want %q", tc.in, tc.svc.Name, got, tc.want)
		}
	}
	// The local rate limit's headers have no dynamic values.
	if got, want := escapeHeaderValue("%CONTOUR_NAMESPACE% %HOSTNAME%", nil), "%%CONTOUR_NAMESPACE%% %HOSTNAME%"; got != want {
		t.Errorf("escapeHeaderValue = %q, want %q", got, want)
	}
}

// TestHeadersPolicyHost: a Host value naming a request header with
// %REQ(name)% rewrites the Host to that header (its name in canonical
// form), any other value is a literal; a response policy cannot set Host.
func TestHeadersPolicyHost(t *testing.T) {
	t.Parallel()
	set := func(v string) *contourv1.HeadersPolicy {
		return &contourv1.HeadersPolicy{Set: []contourv1.HeaderValue{{Name: "host", Value: v}}}
	}
	for name, tc := range map[string]struct {
		in       *contourv1.HeadersPolicy
		response bool
		want     *HeadersPolicy
		wantErr  string
	}{
		"literal":                      {in: set("internal.app"), want: &HeadersPolicy{HostRewrite: "internal.app"}},
		"request header":               {in: set("%REQ(x-goodbye-planet)%"), want: &HeadersPolicy{HostRewriteHeader: "X-Goodbye-Planet"}},
		"header within text":           {in: set("a-%REQ(X-Tenant)%-b"), want: &HeadersPolicy{HostRewriteHeader: "X-Tenant"}},
		"pseudo-header":                {in: set("%REQ(:authority)%"), want: &HeadersPolicy{HostRewrite: "%REQ(:authority)%"}},
		"on a response":                {in: set("%REQ(x-a)%"), response: true, wantErr: `rewriting "Host" header is not supported on response headers`},
		"removed, which Envoy refuses": {in: &contourv1.HeadersPolicy{Remove: []string{"x-a", "HOST"}}, wantErr: `removing "HOST" is not supported: Envoy refuses to remove the Host header`},
		"removed from a response":      {in: &contourv1.HeadersPolicy{Remove: []string{"Host"}}, response: true, wantErr: `removing "Host" is not supported`},
		"with another header":          {in: &contourv1.HeadersPolicy{Set: []contourv1.HeaderValue{{Name: "X-A", Value: "%HOSTNAME%"}, {Name: "Host", Value: "%REQ(x-b)%"}}}, want: &HeadersPolicy{Set: []Header{{Name: "X-A", Value: "%HOSTNAME%"}}, HostRewriteHeader: "X-B"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := headersPolicy(tc.in, "ns", &contourv1.Service{}, tc.response)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestServiceHostAndInternalRedirect: a service's Host rewrite to a literal
// stays on its backend, one to a request header is dropped with a warning
// (Envoy has it per route only); internalRedirectPolicy's cross-scheme
// setting, unknown values taken for Never with a warning.
func TestServiceHostAndInternalRedirect(t *testing.T) {
	t.Parallel()
	g, rep := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - conditions: [{prefix: /a}]
    internalRedirectPolicy: {maxInternalRedirects: 2, redirectResponseCodes: [302], allowCrossSchemeRedirect: SafeOnly, denyRepeatedRouteRedirect: true}
    services:
    - {name: s, port: 80, requestHeadersPolicy: {set: [{name: Host, value: s.internal}]}}
    - {name: t, port: 80, requestHeadersPolicy: {set: [{name: Host, value: "%REQ(x-up)%"}, {name: X-B, value: "1"}]}}
    - {name: s, port: 80, requestHeadersPolicy: {set: [{name: Host, value: "%REQ(x-up)%"}]}}
  - conditions: [{prefix: /b}]
    internalRedirectPolicy: {allowCrossSchemeRedirect: safeOnly}
    services: [{name: s, port: 80}]
  - conditions: [{prefix: /c}]
    internalRedirectPolicy: {}
    services: [{name: s, port: 80}]
`+svcs("ns", "s", "t"))
	routes := map[string]*Route{}
	for _, r := range SortedRoutes(g.VirtualHost("a.com")) {
		routes[r.MatchString()] = r
	}
	a := routes["prefix:/a"]
	var got []*HeadersPolicy
	for _, be := range a.Backends {
		got = append(got, be.RequestHeaders)
	}
	want := []*HeadersPolicy{{HostRewrite: "s.internal"}, {Set: []Header{{Name: "X-B", Value: "1"}}}, nil}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("backends' request headers (-want +got):\n%s", d)
	}
	for match, want := range map[string]*InternalRedirect{
		"prefix:/a": {MaxRedirects: 2, Codes: []uint32{302}, CrossScheme: CrossSchemeSafeOnly, DenyRepeatedRouteRedirect: true},
		"prefix:/b": {CrossScheme: CrossSchemeNever},
		"prefix:/c": {CrossScheme: CrossSchemeNever},
	} {
		if d := cmp.Diff(want, routes[match].InternalRedirect); d != "" {
			t.Errorf("%s: internal redirect (-want +got):\n%s", match, d)
		}
	}
	var warnings []string
	for _, o := range rep.Objects() {
		for _, c := range o.Conditions {
			for _, w := range c.Warnings {
				warnings = append(warnings, w.Reason+": "+w.Message)
			}
		}
	}
	wantWarnings := []string{
		`IgnoredField: Spec.Routes[1].internalRedirectPolicy.allowCrossSchemeRedirect "safeOnly" is not Always, SafeOnly or Never: redirects to another scheme are not followed`,
		"IgnoredField: Spec.Routes[0].Services[1].requestHeadersPolicy: the Host from request header X-Up is ignored: Envoy rewrites the Host from a header per route only (set it in the route's requestHeadersPolicy)",
		"IgnoredField: Spec.Routes[0].Services[2].requestHeadersPolicy: the Host from request header X-Up is ignored: Envoy rewrites the Host from a header per route only (set it in the route's requestHeadersPolicy)",
	}
	if d := cmp.Diff(wantWarnings, warnings); d != "" {
		t.Errorf("warnings (-want +got):\n%s", d)
	}
}

// TestHeadersPolicyDuplicates: as in Contour, a header named twice in set,
// or twice in remove, in any case, makes the policy invalid; one name set
// and removed is not a duplicate. Where the policy is decides the
// condition: a route's is a RouteError (RequestHeadersPolicyInvalid or
// ResponseHeaderPolicyInvalid), a service's a ServiceError
// (RequestHeadersPolicyInvalid or ResponseHeadersPolicyInvalid).
func TestHeadersPolicyDuplicates(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		route, service string // policies of the route and of its service
		wantErrors     []string
	}{
		"route response remove, same case": {
			route:      `responseHeadersPolicy: {remove: [X-Header, X-Header]}`,
			wantErrors: []string{`RouteError ResponseHeaderPolicyInvalid: Spec.Routes[0]: responseHeadersPolicy: duplicate header removal: "X-Header"`},
		},
		"route request remove, other case": {
			route:      `requestHeadersPolicy: {remove: [K-Foo, k-foo]}`,
			wantErrors: []string{`RouteError RequestHeadersPolicyInvalid: Spec.Routes[0]: requestHeadersPolicy: duplicate header removal: "k-foo"`},
		},
		"service request remove": {
			service:    `requestHeadersPolicy: {remove: [x-a, X-B, X-A]}`,
			wantErrors: []string{`ServiceError RequestHeadersPolicyInvalid: Spec.Routes[0]: services[0].requestHeadersPolicy: duplicate header removal: "X-A"`},
		},
		"service response remove": {
			service:    `responseHeadersPolicy: {remove: [x-a, x-a]}`,
			wantErrors: []string{`ServiceError ResponseHeadersPolicyInvalid: Spec.Routes[0]: services[0].responseHeadersPolicy: duplicate header removal: "x-a"`},
		},
		"route request set, other case": {
			route:      `requestHeadersPolicy: {set: [{name: X-A, value: "1"}, {name: x-a, value: "2"}]}`,
			wantErrors: []string{`RouteError RequestHeadersPolicyInvalid: Spec.Routes[0]: requestHeadersPolicy: duplicate header addition: "x-a"`},
		},
		"set and removed once each: valid": {
			route: `requestHeadersPolicy: {set: [{name: X-A, value: "1"}], remove: [x-a, x-b]}`,
		},
		"the same name in the route's and the service's remove: valid": {
			route: `requestHeadersPolicy: {remove: [x-a]}`, service: `requestHeadersPolicy: {remove: [x-a]}`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, r := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - services: [{name: s, port: 80, `+tc.service+`}]
    `+tc.route+`
`+svcs("ns", "s"))
			var errs []string
			for _, c := range r.Objects()[0].Conditions {
				for _, e := range c.Errors {
					errs = append(errs, string(e.Type)+" "+e.Reason+": "+e.Message)
				}
			}
			if d := cmp.Diff(tc.wantErrors, errs); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}
