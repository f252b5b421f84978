package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUpstreamValidationProtocol: as in Contour, a service's validation
// applies to a service reached over TLS (protocol tls or h2, on the
// service or by the Service's annotation) only: elsewhere it is ignored,
// with a warning, and the cluster stays cleartext. A validation that
// cannot be used makes the HTTPProxy invalid, serving nothing: a CA
// Secret not delegated is TLSError/CACertificateNotDelegated, a missing
// one ServiceError/TLSUpstreamValidation.
func TestUpstreamValidationProtocol(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		service, annotations string
		wantRoutes           []string
		wantProtocol         string
		wantValidation       bool
		wantErrors           []string
		wantWarnings         []string
	}{
		"protocol tls: validated": {
			service:    `{name: s, port: 80, protocol: tls, validation: {caSecret: ca, subjectName: s.ns}}`,
			wantRoutes: []string{"a.com: prefix:/ -> ns/s:80"}, wantProtocol: "tls", wantValidation: true,
		},
		"h2 by the Service's annotation: validated": {
			service: `{name: s, port: 80, validation: {caSecret: ca, subjectName: s.ns}}`, annotations: `{projectcontour.io/upstream-protocol.h2: "80"}`,
			wantRoutes: []string{"a.com: prefix:/ -> ns/s:80"}, wantProtocol: "h2", wantValidation: true,
		},
		"no protocol: ignored, cleartext": {
			service:    `{name: s, port: 80, validation: {caSecret: ca, subjectName: s.ns}}`,
			wantRoutes: []string{"a.com: prefix:/ -> ns/s:80"},
			wantWarnings: []string{`ServiceError IgnoredField: service "s" port 80: validation is ignored: Envoy reaches the service in cleartext ` +
				`(validation needs protocol tls or h2, set on the service, by the Service port's appProtocol or by the Service's projectcontour.io/upstream-protocol.* annotation)`},
		},
		"h2c: ignored, cleartext": {
			service:    `{name: s, port: 80, protocol: h2c, validation: {caSecret: other/ca, subjectName: s.ns}}`,
			wantRoutes: []string{"a.com: prefix:/ -> ns/s:80"}, wantProtocol: "h2c",
			wantWarnings: []string{`ServiceError IgnoredField: service "s" port 80: validation is ignored: Envoy reaches the service in cleartext ` +
				`(validation needs protocol tls or h2, set on the service, by the Service port's appProtocol or by the Service's projectcontour.io/upstream-protocol.* annotation)`},
		},
		"CA Secret not delegated: nothing served": {
			service:    `{name: s, port: 80, protocol: tls, validation: {caSecret: other/ca, subjectName: s.ns}}`,
			wantErrors: []string{`TLSError CACertificateNotDelegated: Spec.Routes[0]: services[0].validation: CA Secret "other/ca" is not delegated to namespace "ns"`},
		},
		"CA Secret missing: nothing served": {
			service:    `{name: s, port: 80, protocol: tls, validation: {caSecret: nope, subjectName: s.ns}}`,
			wantErrors: []string{`ServiceError TLSUpstreamValidation: Spec.Routes[0]: services[0].validation: CA Secret "ns/nope" not found`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes: [{services: [`+tc.service+`]}]
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns, annotations: `+orEmpty(tc.annotations)+`}
spec: {ports: [{name: http, port: 80}]}
`+caSecretDoc(t, "ns", "ca")+caSecretDoc(t, "other", "ca"))
			if d := cmp.Diff(tc.wantRoutes, summary(g)); d != "" {
				t.Errorf("routes (-want +got):\n%s", d)
			}
			var errs, warns []string
			for _, c := range r.Objects()[0].Conditions {
				for _, e := range c.Errors {
					errs = append(errs, string(e.Type)+" "+e.Reason+": "+e.Message)
				}
				for _, w := range c.Warnings {
					warns = append(warns, string(w.Type)+" "+w.Reason+": "+w.Message)
				}
			}
			if d := cmp.Diff(tc.wantErrors, errs); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantWarnings, warns); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
			if tc.wantRoutes == nil {
				return
			}
			c := SortedRoutes(SortedVirtualHosts(g)[0])[0].Backends[0].Cluster
			if c.Protocol != tc.wantProtocol || (c.Validation != nil) != tc.wantValidation {
				t.Errorf("protocol %q, validation %v; want %q, %v", c.Protocol, c.Validation != nil, tc.wantProtocol, tc.wantValidation)
			}
		})
	}
}

func orEmpty(annotations string) string {
	if annotations == "" {
		return "{}"
	}
	return annotations
}
