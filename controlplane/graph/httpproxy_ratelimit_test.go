package graph

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// TestRateLimitPolicy: the local part of a rateLimitPolicy, with Contour's
// checks (requests at least 1, a known unit, valid and distinct canonical
// header names) and the ones that keep Envoy from refusing it (a status
// code Envoy knows, a bucket that fits in 32 bits, header values without
// line breaks).
func TestRateLimitPolicy(t *testing.T) {
	t.Parallel()
	local := func(l contourv1.LocalRateLimitPolicy) *contourv1.RateLimitPolicy {
		return &contourv1.RateLimitPolicy{Local: &l}
	}
	hdr := func(kv ...string) []contourv1.HeaderValue {
		var out []contourv1.HeaderValue
		for i := 0; i < len(kv); i += 2 {
			out = append(out, contourv1.HeaderValue{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for name, tc := range map[string]struct {
		in      *contourv1.RateLimitPolicy
		want    *LocalRateLimit
		wantErr string // substring of the error; "" means valid
	}{
		"none":        {in: nil},
		"global only": {in: &contourv1.RateLimitPolicy{Global: &contourv1.GlobalRateLimitPolicy{Disabled: true}}},
		"per second": {in: local(contourv1.LocalRateLimitPolicy{Requests: 10, Unit: "second"}),
			want: &LocalRateLimit{Requests: 10, Unit: RateLimitSecond}},
		"per hour with burst and status": {in: local(contourv1.LocalRateLimitPolicy{Requests: 100, Unit: "hour", Burst: 20, ResponseStatusCode: 503}),
			want: &LocalRateLimit{Requests: 100, Burst: 20, Unit: RateLimitHour, StatusCode: 503}},
		"headers canonical, sorted, % escaped": {
			in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "minute", ResponseHeadersToAdd: hdr("x-rate-limited", "yes", "retry-after", "60", "X-Quota", "5%")}),
			want: &LocalRateLimit{Requests: 1, Unit: RateLimitMinute, ResponseHeaders: []Header{
				{Name: "Retry-After", Value: "60"}, {Name: "X-Quota", Value: "5%%"}, {Name: "X-Rate-Limited", Value: "yes"}}},
		},
		"header values: Envoy's variables kept, other % escaped (Contour's CustomResponseHeaders)": {
			in: local(contourv1.LocalRateLimitPolicy{Requests: 100, Unit: "minute", Burst: 50,
				ResponseHeadersToAdd: hdr("header-name-1", "header-value-1", "header-name-2", "%HOSTNAME%", "header-name-3", "%NON-ENVOY-VAR%")}),
			want: &LocalRateLimit{Requests: 100, Burst: 50, Unit: RateLimitMinute, ResponseHeaders: []Header{
				{Name: "Header-Name-1", Value: "header-value-1"}, {Name: "Header-Name-2", Value: "%HOSTNAME%"}, {Name: "Header-Name-3", Value: "%%NON-ENVOY-VAR%%"}}},
		},
		"largest bucket": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1 << 31, Burst: 1<<31 - 1, Unit: "second"}),
			want: &LocalRateLimit{Requests: 1 << 31, Burst: 1<<31 - 1, Unit: RateLimitSecond}},
		"zero requests":    {in: local(contourv1.LocalRateLimitPolicy{Unit: "second"}), wantErr: "X.local.requests: must be at least 1"},
		"bucket too large": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1 << 31, Burst: 1 << 31, Unit: "second"}), wantErr: "X.local.burst: requests + burst is 4294967296"},
		"unknown unit":     {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "day"}), wantErr: `X.local.unit: "day" is not second, minute or hour`},
		"no unit":          {in: local(contourv1.LocalRateLimitPolicy{Requests: 1}), wantErr: `X.local.unit: "" is not`},
		"capitalised unit": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "Second"}), wantErr: `X.local.unit: "Second"`},
		"2xx status":       {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "second", ResponseStatusCode: 200}), wantErr: "X.local.responseStatusCode: 200 is not"},
		"status Envoy does not know": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "second", ResponseStatusCode: 499}),
			wantErr: "X.local.responseStatusCode: 499 is not a 4xx or 5xx status code Envoy knows"},
		"status above 599": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "second", ResponseStatusCode: 600}), wantErr: "responseStatusCode: 600"},
		"header with a space": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "second", ResponseHeadersToAdd: hdr("x rate", "1")}),
			wantErr: `X.local.responseHeadersToAdd[0].name: "x rate" is not a valid header name`},
		"header with an underscore (Contour's rule)": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "second", ResponseHeadersToAdd: hdr("a", "1", "x_rate", "1")}),
			wantErr: `X.local.responseHeadersToAdd[1].name: "x_rate" is not a valid header name`},
		"empty header name": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "second", ResponseHeadersToAdd: hdr("", "1")}),
			wantErr: `responseHeadersToAdd[0].name: "" is not a valid header name`},
		"duplicate once canonical": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "second", ResponseHeadersToAdd: hdr("x-a", "1", "X-A", "2")}),
			wantErr: `X.local.responseHeadersToAdd[1].name: duplicate header addition: "X-A"`},
		"Host, which Envoy refuses to set": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "second", ResponseHeadersToAdd: hdr("host", "x")}),
			wantErr: `X.local.responseHeadersToAdd[0].name: setting Host is not supported: Envoy refuses to set the Host header`},
		"value with a line break": {in: local(contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "second", ResponseHeadersToAdd: hdr("x-a", "1\r\nx-b: 2")}),
			wantErr: `X.local.responseHeadersToAdd[0].value: header value "1\r\nx-b: 2" contains a line break or NUL`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := rateLimitPolicy(tc.in, "X")
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

// TestRateLimitGraph: where local rate limits land in the graph, and what
// the HTTPProxy's status says.
func TestRateLimitGraph(t *testing.T) {
	t.Parallel()
	vhostRL := &LocalRateLimit{Requests: 100, Burst: 10, Unit: RateLimitMinute}
	routeRL := &LocalRateLimit{Requests: 5, Unit: RateLimitSecond, StatusCode: 503}
	for name, tc := range map[string]struct {
		vhost, routes string
		tls           bool
		// wantInsecure and wantSecure are the hosts' limits and their
		// routes' (by match), nil when the host is absent.
		wantInsecure, wantSecure *hostLimits
		wantStatus               []string
	}{
		"virtual host and route, insecure": {
			vhost:        `rateLimitPolicy: {local: {requests: 100, unit: minute, burst: 10}}`,
			routes:       `[{conditions: [{prefix: /api}], rateLimitPolicy: {local: {requests: 5, unit: second, responseStatusCode: 503}}, services: [{name: s, port: 80}]}, {services: [{name: s, port: 80}]}]`,
			wantInsecure: &hostLimits{host: vhostRL, routes: map[string]*LocalRateLimit{"prefix:/api": routeRL, "prefix:/": nil}},
			wantStatus:   []string{"HTTPProxy ns/p: valid"},
		},
		"TLS: both hosts get the virtual host's limit, only the secure route its own": {
			vhost:        `rateLimitPolicy: {local: {requests: 100, unit: minute, burst: 10}}`,
			routes:       `[{conditions: [{prefix: /api}], rateLimitPolicy: {local: {requests: 5, unit: second, responseStatusCode: 503}}, services: [{name: s, port: 80}]}]`,
			tls:          true,
			wantInsecure: &hostLimits{host: vhostRL, routes: map[string]*LocalRateLimit{"prefix:/api https": routeRL}},
			wantSecure:   &hostLimits{host: vhostRL, routes: map[string]*LocalRateLimit{"prefix:/api": routeRL}},
			wantStatus:   []string{"HTTPProxy ns/p: valid"},
		},
		"a route limit on a redirect is ignored, and so is global": {
			vhost:        `rateLimitPolicy: {global: {descriptors: [{entries: [{remoteAddress: {}}]}]}}`,
			routes:       `[{rateLimitPolicy: {local: {requests: 5, unit: second}, global: {disabled: true}}, requestRedirectPolicy: {path: /new}}]`,
			wantInsecure: &hostLimits{routes: map[string]*LocalRateLimit{"prefix:/": nil}},
			wantStatus:   []string{"HTTPProxy ns/p: valid warn:IgnoredField,warn:IgnoredField,warn:IgnoredField"},
		},
		"invalid virtual host policy: nothing served": {
			vhost:      `rateLimitPolicy: {local: {requests: 100, unit: day}}`,
			routes:     `[{services: [{name: s, port: 80}]}]`,
			wantStatus: []string{"HTTPProxy ns/p: invalid RateLimitPolicyNotValid"},
		},
		"invalid route policy, even on a direct response: nothing served": {
			routes:     `[{services: [{name: s, port: 80}]}, {conditions: [{prefix: /x}], rateLimitPolicy: {local: {requests: 0, unit: second}}, directResponsePolicy: {statusCode: 200}}]`,
			wantStatus: []string{"HTTPProxy ns/p: invalid RateLimitPolicyNotValid"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			vhost, extra := "", svcs("ns", "s")
			if tc.vhost != "" {
				vhost = "\n    " + tc.vhost
			}
			if tc.tls {
				vhost += "\n    tls: {secretName: cert}"
				extra += tlsSecretYAML(t, "ns", "cert", "a.com")
			}
			g, r := build(t, Options{}, fmt.Sprintf(`
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost:
    fqdn: a.com%s
  routes: %s
`, vhost, tc.routes)+extra)
			var insecure, secure *VirtualHost
			if vh := g.VirtualHosts["a.com"]; vh != nil {
				insecure = vh
			}
			if vh := g.SecureVirtualHosts["a.com"]; vh != nil {
				secure = &vh.VirtualHost
			}
			if d := cmp.Diff(tc.wantInsecure, limitsOf(insecure), cmp.AllowUnexported(hostLimits{})); d != "" {
				t.Errorf("insecure host (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantSecure, limitsOf(secure), cmp.AllowUnexported(hostLimits{})); d != "" {
				t.Errorf("secure host (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatus, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
		})
	}
}

// TestRateLimitMessages: the messages name the field, with Contour's
// reason and sub-condition types.
func TestRateLimitMessages(t *testing.T) {
	t.Parallel()
	_, r := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: vhost, namespace: ns}
spec:
  virtualhost:
    fqdn: a.com
    rateLimitPolicy: {local: {requests: 1, unit: second, responseHeadersToAdd: [{name: "x rate", value: "1"}]}}
  routes: [{services: [{name: s, port: 80}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: route, namespace: ns}
spec:
  virtualhost: {fqdn: b.com, rateLimitPolicy: {global: {disabled: true}}}
  routes:
  - services: [{name: s, port: 80}]
  - conditions: [{prefix: /x}]
    rateLimitPolicy: {local: {requests: 1, unit: week}}
    services: [{name: s, port: 80}]
`+svcs("ns", "s"))
	var got []string
	for _, o := range r.Objects() {
		for _, c := range o.Conditions {
			for _, e := range c.Errors {
				got = append(got, fmt.Sprintf("%s %s %s: %s", o.Ref.Name, e.Type, e.Reason, e.Message))
			}
			for _, w := range c.Warnings {
				got = append(got, fmt.Sprintf("%s warning %s %s: %s", o.Ref.Name, w.Type, w.Reason, w.Message))
			}
		}
	}
	want := []string{
		`route RouteError RateLimitPolicyNotValid: Spec.Routes[1]: rateLimitPolicy.local.unit: "week" is not second, minute or hour`,
		`route warning SpecError IgnoredField: Spec.VirtualHost.rateLimitPolicy.global is ignored: no rateLimitService is configured`,
		`vhost VirtualHostError RateLimitPolicyNotValid: Spec.VirtualHost.rateLimitPolicy.local.responseHeadersToAdd[0].name: "x rate" is not a valid header name: ` +
			`a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// hostLimits is what a test compares of one virtual host: its limit and
// its routes' by match (" https" marks a redirect to https).
type hostLimits struct {
	host   *LocalRateLimit
	routes map[string]*LocalRateLimit
}

func limitsOf(vh *VirtualHost) *hostLimits {
	if vh == nil {
		return nil
	}
	out := &hostLimits{host: vh.RateLimit, routes: map[string]*LocalRateLimit{}}
	for _, r := range vh.Routes {
		key := r.MatchString()
		if r.HTTPSRedirect {
			key += " https"
		}
		out.routes[key] = r.RateLimit
	}
	return out
}

// tlsSecretYAML is a kubernetes.io/tls Secret document for names.
func tlsSecretYAML(t *testing.T, ns, name string, names ...string) string {
	cert, key := testCert(t, names[0], names...)
	return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: kubernetes.io/tls\ndata: {tls.crt: %s, tls.key: %s}\n",
		name, ns, base64.StdEncoding.EncodeToString(cert), base64.StdEncoding.EncodeToString(key))
}

// TestRateLimitTCPProxy: a tcpproxy takes the whole TLS connection, so a
// virtual host limit is ignored, and reported; an invalid one is still an
// error, as in Contour.
func TestRateLimitTCPProxy(t *testing.T) {
	t.Parallel()
	g, r := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: ok, namespace: ns}
spec:
  virtualhost:
    fqdn: a.com
    tls: {passthrough: true}
    rateLimitPolicy: {local: {requests: 1, unit: second}}
  tcpproxy: {services: [{name: s, port: 80}]}
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: bad, namespace: ns}
spec:
  virtualhost:
    fqdn: b.com
    tls: {passthrough: true}
    rateLimitPolicy: {local: {requests: 0, unit: second}}
  tcpproxy: {services: [{name: s, port: 80}]}
`+svcs("ns", "s"))
	want := []string{"HTTPProxy ns/bad: invalid RateLimitPolicyNotValid", "HTTPProxy ns/ok: valid warn:IgnoredField"}
	if d := cmp.Diff(want, statuses(r)); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	if g.SecureVirtualHosts["a.com"] == nil || g.SecureVirtualHosts["a.com"].TCPProxy == nil || g.SecureVirtualHosts["b.com"] != nil {
		t.Errorf("want a.com's tcpproxy and nothing for b.com, got %v", g.SecureVirtualHosts)
	}
}
