package graph

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

func TestCookieRewrites(t *testing.T) {
	t.Parallel()
	path := func(v string) *contourv1.CookiePathRewrite { return &contourv1.CookiePathRewrite{Value: v} }
	domain := func(v string) *contourv1.CookieDomainRewrite { return &contourv1.CookieDomainRewrite{Value: v} }
	list := func(ps ...contourv1.CookieRewritePolicy) []contourv1.CookieRewritePolicy { return ps }
	for name, tc := range map[string]struct {
		in      []contourv1.CookieRewritePolicy
		want    []CookieRewrite
		wantErr string
	}{
		"none": {},
		"every attribute, in the object's order": {
			in: list(
				contourv1.CookieRewritePolicy{Name: "sid", PathRewrite: path("/app"), DomainRewrite: domain("a.example.com"), Secure: ptr.To(true), SameSite: ptr.To("Strict")},
				contourv1.CookieRewritePolicy{Name: "lang", Secure: ptr.To(false)},
				contourv1.CookieRewritePolicy{Name: "x!#$%&'*+-.^_`|~9", SameSite: ptr.To("None")}),
			want: []CookieRewrite{
				{Name: "sid", Path: "/app", Domain: "a.example.com", Secure: ptr.To(true), SameSite: "Strict"},
				{Name: "lang", Secure: ptr.To(false)},
				{Name: "x!#$%&'*+-.^_`|~9", SameSite: "None"}}},
		"a path may hold anything but ';' and control characters": {
			in:   list(contourv1.CookieRewritePolicy{Name: "a", PathRewrite: path(`/" .. x .. "`)}),
			want: []CookieRewrite{{Name: "a", Path: `/" .. x .. "`}}},
		"a duplicate cookie": {in: list(contourv1.CookieRewritePolicy{Name: "a", SameSite: ptr.To("Lax")}, contourv1.CookieRewritePolicy{Name: "a", Secure: ptr.To(true)}),
			wantErr: `f[1]: duplicate cookie rewrite rule for cookie "a"`},
		"no attribute": {in: list(contourv1.CookieRewritePolicy{Name: "a"}),
			wantErr: `f[0]: no attributes rewritten for cookie "a"`},
		"an empty name": {in: list(contourv1.CookieRewritePolicy{SameSite: ptr.To("Lax")}),
			wantErr: `f[0].name: "" must have 1 to 4096 characters`},
		"a separator in the name": {in: list(contourv1.CookieRewritePolicy{Name: "a=b", SameSite: ptr.To("Lax")}),
			wantErr: `f[0].name: "a=b" has '=', which a cookie name cannot have`},
		"a space in the name": {in: list(contourv1.CookieRewritePolicy{Name: "a b", SameSite: ptr.To("Lax")}),
			wantErr: `f[0].name: "a b" has ' ', which a cookie name cannot have`},
		"a name too long": {in: list(contourv1.CookieRewritePolicy{Name: strings.Repeat("n", 4097), SameSite: ptr.To("Lax")}),
			wantErr: `f[0].name: "` + strings.Repeat("n", 4097) + `" must have 1 to 4096 characters`},
		"a ';' in the path": {in: list(contourv1.CookieRewritePolicy{Name: "a", PathRewrite: path("/a; Domain=evil.com")}),
			wantErr: `f[0].pathRewrite.value: "/a; Domain=evil.com" has a ';' or a control character`},
		"a control character in the path": {in: list(contourv1.CookieRewritePolicy{Name: "a", PathRewrite: path("/a\r\nX: y")}),
			wantErr: `f[0].pathRewrite.value: "/a\r\nX: y" has a ';' or a control character`},
		"an empty path": {in: list(contourv1.CookieRewritePolicy{Name: "a", PathRewrite: path("")}),
			wantErr: `f[0].pathRewrite.value: "" must have 1 to 4096 characters`},
		"an upper-case domain": {in: list(contourv1.CookieRewritePolicy{Name: "a", DomainRewrite: domain("Example.com")}),
			wantErr: `f[0].domainRewrite.value: "Example.com" is not a lower-case DNS name of at most 4096 characters`},
		"a domain with a leading dot": {in: list(contourv1.CookieRewritePolicy{Name: "a", DomainRewrite: domain(".example.com")}),
			wantErr: `f[0].domainRewrite.value: ".example.com" is not a lower-case DNS name of at most 4096 characters`},
		"an empty domain": {in: list(contourv1.CookieRewritePolicy{Name: "a", DomainRewrite: domain("")}),
			wantErr: `f[0].domainRewrite.value: "" is not a lower-case DNS name of at most 4096 characters`},
		"sameSite in the wrong case": {in: list(contourv1.CookieRewritePolicy{Name: "a", SameSite: ptr.To("lax")}),
			wantErr: `f[0].sameSite: "lax" is not Strict, Lax or None`},
		"an empty sameSite": {in: list(contourv1.CookieRewritePolicy{Name: "a", SameSite: ptr.To("")}),
			wantErr: `f[0].sameSite: "" is not Strict, Lax or None`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := cookieRewrites(tc.in, "f")
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("rules (-want +got):\n%s", d)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tc.wantErr {
				t.Errorf("error %q, want %q", gotErr, tc.wantErr)
			}
		})
	}
}

// TestCookieRewriteRoutes: where the rules land in the graph, and what a
// bad one, or one without effect, does to its object.
func TestCookieRewriteRoutes(t *testing.T) {
	t.Parallel()
	type placed struct {
		Route    string
		Own      []CookieRewrite
		Backends [][]CookieRewrite
	}
	lax := []CookieRewrite{{Name: "a", SameSite: "Lax"}}
	secure := []CookieRewrite{{Name: "b", Secure: ptr.To(true)}}
	for name, tc := range map[string]struct {
		routes       string
		want         []placed
		wantStatuses []string
		wantMessage  string
	}{
		"route and service rules": {
			routes: `
  - conditions: [{prefix: /x}]
    cookieRewritePolicies: [{name: a, sameSite: Lax}]
    services: [{name: s, port: 80, cookieRewritePolicies: [{name: b, secure: true}]}, {name: t, port: 80}]
  - services: [{name: s, port: 80}]`,
			want:         []placed{{"prefix:/x", lax, [][]CookieRewrite{secure, nil}}, {"prefix:/", nil, [][]CookieRewrite{nil}}},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"a bad route rule makes the object invalid": {
			routes: `
  - cookieRewritePolicies: [{name: a, sameSite: lax}]
    services: [{name: s, port: 80}]`,
			wantStatuses: []string{"HTTPProxy ns/p: invalid CookieRewritePoliciesInvalid"},
			wantMessage:  `Spec.Routes[0]: cookieRewritePolicies[0].sameSite: "lax" is not Strict, Lax or None`,
		},
		"a bad service rule makes the object invalid, even on a missing service": {
			routes: `
  - services: [{name: s, port: 80}, {name: missing, port: 80, cookieRewritePolicies: [{name: a}]}]`,
			wantStatuses: []string{"HTTPProxy ns/p: invalid CookieRewritePoliciesInvalid"},
			wantMessage:  `Spec.Routes[0]: services[1].cookieRewritePolicies[0]: no attributes rewritten for cookie "a"`,
		},
		"rules on a redirect route and on a mirror are checked, then reported as ignored": {
			routes: `
  - conditions: [{prefix: /old}]
    cookieRewritePolicies: [{name: a, sameSite: Lax}]
    requestRedirectPolicy: {hostname: b.com}
  - services: [{name: s, port: 80}, {name: t, port: 80, mirror: true, cookieRewritePolicies: [{name: b, secure: true}]}]`,
			want:         []placed{{"prefix:/old", nil, nil}, {"prefix:/", nil, [][]CookieRewrite{nil}}},
			wantStatuses: []string{"HTTPProxy ns/p: valid warn:IgnoredField,warn:IgnoredField"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			yaml := "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata: {name: p, namespace: ns}\nspec:\n  virtualhost: {fqdn: a.com}\n  routes:" +
				tc.routes + "\n" + svcs("ns", "s", "t")
			g, r := build(t, Options{}, yaml)
			var got []placed
			for _, vh := range SortedVirtualHosts(g) {
				for _, rt := range SortedRoutes(vh) {
					p := placed{Route: rt.MatchString(), Own: rt.CookieRewrites}
					for _, b := range rt.Backends {
						p.Backends = append(p.Backends, b.CookieRewrites)
					}
					got = append(got, p)
				}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("rules (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatuses, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			if tc.wantMessage != "" && !strings.Contains(messages(r), tc.wantMessage) {
				t.Errorf("no message %q in:\n%s", tc.wantMessage, messages(r))
			}
		})
	}
}

// messages joins the messages of every error and warning of r, one a line.
func messages(r *status.Report) string {
	var b strings.Builder
	for _, o := range r.Objects() {
		for _, c := range o.Conditions {
			for _, e := range append(append([]status.SubCondition(nil), c.Errors...), c.Warnings...) {
				b.WriteString(e.Message + "\n")
			}
		}
	}
	return b.String()
}
