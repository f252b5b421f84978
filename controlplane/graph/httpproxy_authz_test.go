package graph

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
)

// extensionDoc is an ExtensionService ns/name with the given spec (YAML
// flow mapping).
func extensionDoc(ns, name, spec string) string {
	return "---\napiVersion: projectcontour.io/v1alpha1\nkind: ExtensionService\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec: " + spec + "\n"
}

func TestExtensionServices(t *testing.T) {
	t.Parallel()
	http := corev1.ServicePort{Name: "http", Port: 80}
	fortyFive, never := 45*time.Second, time.Duration(0)
	for name, tc := range map[string]struct {
		yaml         string
		want         []*Cluster
		wantStatuses []string
		wantErrors   []string
	}{
		"defaults: h2 over TLS, round robin, one target": {
			yaml: extensionDoc("ns", "auth", "{services: [{name: a, port: 80}]}"),
			want: []*Cluster{{Namespace: "ns", Protocol: "h2", LoadBalancer: RoundRobin,
				Extension: &ExtensionUpstream{Name: "auth", Targets: []ExtensionTarget{{Service: "a", Port: http}}}}},
			wantStatuses: []string{"ExtensionService ns/auth: valid"},
		},
		"every field; the SNI is the first subject name": {
			yaml: extensionDoc("ns", "auth", `{services: [{name: a, port: 80, weight: 3}, {name: b, port: 80}],
  validation: {caSecret: ca, subjectName: auth.ns, subjectNames: [auth.ns, other]}, loadBalancerPolicy: {strategy: Random},
  timeoutPolicy: {response: 2s}, protocolVersion: v3,
  circuitBreakerPolicy: {maxConnections: 1, maxPendingRequests: 2, maxRequests: 3, maxRetries: 4, perHostMaxConnections: 5}}`),
			want: []*Cluster{{Namespace: "ns", Protocol: "h2", LoadBalancer: Random, SNI: "auth.ns",
				Validation:      &UpstreamValidation{CA: &Secret{Namespace: "ns", Name: "ca"}, SubjectNames: []string{"auth.ns", "other"}},
				CircuitBreakers: CircuitBreakers{1, 2, 3, 4, 5},
				Extension:       &ExtensionUpstream{Name: "auth", Targets: []ExtensionTarget{{Service: "a", Port: http, Weight: 3}, {Service: "b", Port: http}}}}},
			wantStatuses: []string{"ExtensionService ns/auth: valid"},
		},
		"h2c; cookie balancing and idle timeouts are ignored, with warnings": {
			yaml: extensionDoc("ns", "auth", "{services: [{name: a, port: 80}], protocol: h2c, loadBalancerPolicy: {strategy: Cookie}, timeoutPolicy: {idle: 1s}}"),
			want: []*Cluster{{Namespace: "ns", Protocol: "h2c", LoadBalancer: RoundRobin,
				Extension: &ExtensionUpstream{Name: "auth", Targets: []ExtensionTarget{{Service: "a", Port: http}}}}},
			wantStatuses: []string{"ExtensionService ns/auth: valid warn:IgnoredField,warn:IgnoredField"},
		},
		"idleConnection: the idle timeout of the cluster's connections (infinity: never)": {
			yaml: extensionDoc("ns", "auth", "{services: [{name: a, port: 80}], timeoutPolicy: {idleConnection: 45s}}") +
				extensionDoc("ns", "forever", "{services: [{name: a, port: 80}], timeoutPolicy: {idleConnection: infinity}}"),
			want: []*Cluster{
				{Namespace: "ns", Protocol: "h2", LoadBalancer: RoundRobin, IdleConnection: &fortyFive,
					Extension: &ExtensionUpstream{Name: "auth", Targets: []ExtensionTarget{{Service: "a", Port: http}}}},
				{Namespace: "ns", Protocol: "h2", LoadBalancer: RoundRobin, IdleConnection: &never,
					Extension: &ExtensionUpstream{Name: "forever", Targets: []ExtensionTarget{{Service: "a", Port: http}}}},
			},
			wantStatuses: []string{"ExtensionService ns/auth: valid", "ExtensionService ns/forever: valid"},
		},
		"http/1.1, which Contour's CRD allows: a plain HTTP/1 cluster, with a warning": {
			yaml: extensionDoc("ns", "auth", "{services: [{name: a, port: 80}], protocol: http/1.1}"),
			want: []*Cluster{{Namespace: "ns", LoadBalancer: RoundRobin,
				Extension: &ExtensionUpstream{Name: "auth", Targets: []ExtensionTarget{{Service: "a", Port: http}}}}},
			wantStatuses: []string{"ExtensionService ns/auth: valid"}, // its users are warned (TestExtensionNotHTTP2)
		},
		"errors: each named; an invalid ExtensionService has no cluster": {
			yaml: extensionDoc("ns", "a", "{services: [{name: nope, port: 80}, {name: a, port: 81}, {name: ext, port: 80}]}") +
				extensionDoc("ns", "b", "{services: [{name: a, port: 80}], protocol: h2c, validation: {caSecret: ca, subjectName: x}}") +
				extensionDoc("ns", "c", "{services: [{name: a, port: 80}], validation: {caSecret: other/ca, subjectName: x}}") +
				extensionDoc("ns", "d", "{services: [{name: a, port: 80}], timeoutPolicy: {response: soon}}") +
				extensionDoc("ns", "i", "{services: [{name: a, port: 80}], timeoutPolicy: {idleConnection: a while}}") +
				extensionDoc("ns", "e", "{services: [{name: a, port: 80}], validation: {caSecret: ca}}") +
				extensionDoc("ns", "f", "{services: []}") +
				extensionDoc("ns", "g", "{services: [{name: a, port: 80}], protocol: tls}") +
				extensionDoc("ns", "h", "{services: [{name: a, port: 80}], protocol: http/1.1, validation: {caSecret: ca, subjectName: x}}") +
				extensionDoc("ns", "j", "{services: [{name: a, port: 80}], validation: {caSecret: ca, subjectName: "+strings.Repeat("x", 256)+"}}") +
				extensionDoc("ns", "k", "{services: [{name: a, port: 4294967376}]}") +
				"---\napiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: ns}\nspec: {type: ExternalName, externalName: x.com, ports: [{port: 80}]}\n",
			wantStatuses: []string{
				"ExtensionService ns/a: invalid ServiceUnresolvedReference,ServiceUnresolvedReference,UnsupportedServiceType",
				"ExtensionService ns/b: invalid InconsistentProtocol", "ExtensionService ns/c: invalid CACertificateNotDelegated",
				"ExtensionService ns/d: invalid TimeoutPolicyNotValid", "ExtensionService ns/e: invalid TLSUpstreamValidation",
				"ExtensionService ns/f: invalid ServiceUnresolvedReference", "ExtensionService ns/g: invalid UnsupportedProtocol",
				"ExtensionService ns/h: invalid InconsistentProtocol",
				"ExtensionService ns/i: invalid TimeoutPolicyNotValid",
				"ExtensionService ns/j: invalid TLSUpstreamValidation",
				"ExtensionService ns/k: invalid ServicePortInvalid",
			},
			wantErrors: []string{
				`ns/a ServiceUnresolvedReference: Spec.Services[0]: unresolved service reference: service "ns/nope" not found`,
				`ns/a ServiceUnresolvedReference: Spec.Services[1]: unresolved service reference: port "81" on service "ns/a" not matched`,
				`ns/a UnsupportedServiceType: Spec.Services[2]: Service "ns/ext" is of unsupported type "ExternalName"`,
				`ns/b InconsistentProtocol: upstream TLS validation not supported for "h2c" protocol`,
				`ns/c CACertificateNotDelegated: Spec.UpstreamValidation: CA Secret "other/ca" is not delegated to namespace "ns"`,
				`ns/d TimeoutPolicyNotValid: Spec.TimeoutPolicy.Response "soon" is not a duration or "infinity"`,
				`ns/e TLSUpstreamValidation: TLS upstream validation policy error: validation needs subjectName (missing subject alternative name)`,
				`ns/f ServiceUnresolvedReference: Spec.Services must name at least one Service`,
				`ns/g UnsupportedProtocol: Spec.Protocol "tls" is not supported: use h2 or h2c`,
				`ns/h InconsistentProtocol: upstream TLS validation not supported for "http/1.1" protocol`,
				`ns/i TimeoutPolicyNotValid: Spec.TimeoutPolicy.IdleConnection "a while" is not a duration or "infinity"`,
				`ns/j TLSUpstreamValidation: TLS upstream validation policy error: the subject name (256 bytes) is sent as the server name (SNI), which TLS limits to 255 bytes`,
				// Not truncated to 32 bits, which is port 80.
				`ns/k ServicePortInvalid: Spec.Services[0]: service "ns/a": port 4294967376 must be in the range 1-65535`,
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{EnableExternalName: true}, tc.yaml+svcs("ns", "a", "b")+caSecretDoc(t, "ns", "ca")+caSecretDoc(t, "other", "ca"))
			if d := cmp.Diff(tc.want, g.Extensions, cmpopts.IgnoreFields(Secret{}, "CA"), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("clusters (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatuses, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			if tc.wantErrors != nil {
				if d := cmp.Diff(tc.wantErrors, errorMessages(r), cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
					t.Errorf("errors (-want +got):\n%s", d)
				}
			}
		})
	}
}

// authRoot is a TLS root ns/p on a.com with the given authorization (YAML
// flow mapping) and routes (a YAML list, indented as under spec).
func authRoot(authorization, routes string) string {
	return `---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost:
    fqdn: a.com
    tls: {secretName: cert}
    authorization: ` + authorization + `
  routes:
` + routes + "\n"
}

func TestHTTPProxyAuthorization(t *testing.T) {
	t.Parallel()
	ext := extensionDoc("ns", "auth", "{services: [{name: s, port: 80}], timeoutPolicy: {response: 3s}}")
	cluster := &Cluster{Namespace: "ns", Protocol: "h2", LoadBalancer: RoundRobin,
		Extension: &ExtensionUpstream{Name: "auth", Targets: []ExtensionTarget{{Service: "s", Port: corev1.ServicePort{Name: "http", Port: 80}}}}}
	svc := `  - services: [{name: s, port: 80}]`
	for name, tc := range map[string]struct {
		yaml         string
		want         *ExternalAuthorization
		wantRoutes   map[string]*RouteAuthorization
		wantStatuses []string
		wantErrors   []string
	}{
		"defaults: the ExtensionService's timeout; routes checked with no context": {
			yaml:         authRoot("{extensionRef: {name: auth}}", svc),
			want:         &ExternalAuthorization{Cluster: cluster, Timeout: Timeout{Duration: 3 * time.Second}},
			wantRoutes:   map[string]*RouteAuthorization{"prefix:/": {}},
			wantStatuses: []string{"ExtensionService ns/auth: valid", "HTTPProxy ns/p: valid"},
		},
		"every field; route policies override the host's, contexts merge, included routes inherit": {
			yaml: authRoot(`{extensionRef: {apiVersion: projectcontour.io/v1alpha1, namespace: ns, name: auth}, responseTimeout: infinity, failOpen: true,
      withRequestBody: {allowPartialMessage: true, packAsBytes: true}, authPolicy: {disabled: true, context: {k: host, h: "1"}}}`,
				`  - services: [{name: s, port: 80}]
  - conditions: [{prefix: /on}]
    authPolicy: {context: {k: route, r: "2"}}
    services: [{name: s, port: 80}]
  includes:
  - {name: child, conditions: [{prefix: /child}]}`) + `---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: child, namespace: ns}
spec:
  routes:
  - services: [{name: s, port: 80}]
  - conditions: [{prefix: /x}]
    authPolicy: {disabled: false}
    services: [{name: s, port: 80}]
`,
			want: &ExternalAuthorization{Cluster: cluster, FailOpen: true, Timeout: Timeout{Infinite: true},
				Body: &AuthorizationBody{MaxRequestBytes: 1024, AllowPartialMessage: true, PackAsBytes: true}},
			wantRoutes: map[string]*RouteAuthorization{
				"prefix:/":        {Disabled: true, Context: map[string]string{"k": "host", "h": "1"}},
				"prefix:/on":      {Context: map[string]string{"k": "route", "h": "1", "r": "2"}},
				"prefix:/child":   {Disabled: true, Context: map[string]string{"k": "host", "h": "1"}},
				"prefix:/child/x": {Context: map[string]string{"k": "host", "h": "1"}},
			},
			wantStatuses: []string{"ExtensionService ns/auth: valid", "HTTPProxy ns/child: valid", "HTTPProxy ns/p: valid"},
		},
		"a responseTimeout of 0s is no setting: the ExtensionService's timeout applies": {
			yaml:         authRoot("{extensionRef: {name: auth}, responseTimeout: 0s}", svc),
			want:         &ExternalAuthorization{Cluster: cluster, Timeout: Timeout{Duration: 3 * time.Second}},
			wantRoutes:   map[string]*RouteAuthorization{"prefix:/": {}},
			wantStatuses: []string{"ExtensionService ns/auth: valid", "HTTPProxy ns/p: valid"},
		},
		"without TLS: AuthNotPermitted": {
			yaml:         strings.Replace(authRoot("{extensionRef: {name: auth}}", svc), "tls: {secretName: cert}", "", 1),
			wantStatuses: []string{"ExtensionService ns/auth: valid", "HTTPProxy ns/p: invalid AuthNotPermitted"},
			wantErrors:   []string{"ns/p AuthNotPermitted: Spec.VirtualHost.Authorization.ExtensionServiceRef can only be defined for root HTTPProxies that terminate TLS"},
		},
		"a missing, an invalid ExtensionService, a bad version and a bad timeout": {
			yaml: authRoot("{extensionRef: {name: nope}}", svc) +
				strings.NewReplacer("name: p,", "name: q,", "a.com", "b.com").Replace(authRoot("{extensionRef: {name: bad}}", svc)) +
				strings.NewReplacer("name: p,", "name: r,", "a.com", "c.com").Replace(authRoot("{extensionRef: {apiVersion: v1, name: auth}}", svc)) +
				strings.NewReplacer("name: p,", "name: t,", "a.com", "d.com").Replace(authRoot("{extensionRef: {name: auth}, responseTimeout: soon}", svc)) +
				extensionDoc("ns", "bad", "{services: [{name: nope, port: 80}]}"),
			wantStatuses: []string{"ExtensionService ns/auth: valid", "ExtensionService ns/bad: invalid ServiceUnresolvedReference",
				"HTTPProxy ns/p: invalid ExtensionServiceNotFound", "HTTPProxy ns/q: invalid ExtensionServiceNotFound",
				"HTTPProxy ns/r: invalid AuthBadResourceVersion", "HTTPProxy ns/t: invalid AuthResponseTimeoutInvalid"},
			wantErrors: []string{
				`ns/bad ServiceUnresolvedReference: Spec.Services[0]: unresolved service reference: service "ns/nope" not found`,
				`ns/p ExtensionServiceNotFound: Spec.Virtualhost.Authorization.ServiceRef extension service "ns/nope" not found (or not valid: see its status)`,
				`ns/q ExtensionServiceNotFound: Spec.Virtualhost.Authorization.ServiceRef extension service "ns/bad" not found (or not valid: see its status)`,
				`ns/r AuthBadResourceVersion: Spec.Virtualhost.Authorization.extensionRef specifies an unsupported resource version "v1"`,
				`ns/t AuthResponseTimeoutInvalid: Spec.Virtualhost.Authorization.ResponseTimeout is invalid: "soon" is not a duration or "infinity"`,
			},
		},
		"fallback certificate: TLSIncompatibleFeatures": {
			yaml:         strings.Replace(authRoot("{extensionRef: {name: auth}}", svc), "tls: {secretName: cert}", "tls: {secretName: cert, enableFallbackCertificate: true}", 1),
			wantStatuses: []string{"ExtensionService ns/auth: valid", "HTTPProxy ns/p: invalid TLSIncompatibleFeatures"},
		},
		"a permitInsecure route that is checked is not checked on port 80, and says so": {
			yaml: authRoot("{extensionRef: {name: auth}}", `  - permitInsecure: true
    services: [{name: s, port: 80}]
  - conditions: [{prefix: /off}]
    permitInsecure: true
    authPolicy: {disabled: true}
    services: [{name: s, port: 80}]`),
			want:         &ExternalAuthorization{Cluster: cluster, Timeout: Timeout{Duration: 3 * time.Second}},
			wantRoutes:   map[string]*RouteAuthorization{"prefix:/": {}, "prefix:/off": {Disabled: true}},
			wantStatuses: []string{"ExtensionService ns/auth: valid", "HTTPProxy ns/p: valid warn:AuthNotCheckedOverHTTP"},
		},
		"a route policy without a host authorization is ignored, with a warning": {
			yaml: strings.Replace(authRoot("{extensionRef: {name: auth}}", `  - authPolicy: {disabled: true}
    services: [{name: s, port: 80}]`), "    authorization: {extensionRef: {name: auth}}\n", "", 1),
			wantRoutes:   map[string]*RouteAuthorization{"prefix:/": nil},
			wantStatuses: []string{"ExtensionService ns/auth: valid", "HTTPProxy ns/p: valid warn:IgnoredField"},
		},
		"a tcpproxy ignores the authorization, and says so": {
			yaml:         strings.Replace(authRoot("{extensionRef: {name: auth}}", ""), "  routes:\n\n", "  tcpproxy: {services: [{name: s, port: 80}]}\n", 1),
			wantStatuses: []string{"ExtensionService ns/auth: valid", "HTTPProxy ns/p: valid warn:IgnoredField"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, tc.yaml+ext+svcs("ns", "s")+certSecret(t, "ns", "cert"))
			var got *ExternalAuthorization
			routes := map[string]*RouteAuthorization{}
			if svh := g.SecureVirtualHosts["a.com"]; svh != nil {
				got = svh.Authorization
				for _, rt := range SortedRoutes(&svh.VirtualHost) {
					routes[rt.MatchString()] = rt.Authorization
				}
			}
			if tc.wantRoutes == nil {
				tc.wantRoutes = map[string]*RouteAuthorization{}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("authorization (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantRoutes, routes); d != "" {
				t.Errorf("route authorizations (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatuses, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			if tc.wantErrors != nil {
				if d := cmp.Diff(tc.wantErrors, errorMessages(r), cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
					t.Errorf("errors (-want +got):\n%s", d)
				}
			}
		})
	}
}

// TestExtensionNotHTTP2: an ExtensionService of protocol http/1.1 is valid
// (Contour's CRD allows it, for HTTP authorization servers); who calls it
// with gRPC is warned: a root's gRPC authorization (on the root), the rate
// limit service (a finding on the ExtensionService); an HTTP authorization
// server is not.
func TestExtensionNotHTTP2(t *testing.T) {
	t.Parallel()
	svc := `  - services: [{name: s, port: 80}]`
	yaml := authRoot("{extensionRef: {name: plain}}", svc) +
		strings.NewReplacer("name: p,", "name: q,", "a.com", "b.com").Replace(authRoot("{extensionRef: {name: plain}, serviceType: http}", svc)) +
		extensionDoc("ns", "plain", "{services: [{name: s, port: 80}], protocol: http/1.1}") + svcs("ns", "s") + certSecret(t, "ns", "cert")
	g, r := build(t, Options{RateLimitService: RateLimitService{Namespace: "ns", Name: "plain", Domain: "d"}}, yaml)
	want := []string{"ExtensionService ns/plain: valid", "HTTPProxy ns/p: valid warn:ExtensionNotHTTP2", "HTTPProxy ns/q: valid"}
	if d := cmp.Diff(want, statuses(r)); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	if g.SecureVirtualHosts["a.com"].Authorization == nil || g.SecureVirtualHosts["b.com"].Authorization.HTTP == nil {
		t.Errorf("both roots keep their authorization servers")
	}
	var codes []string
	for _, f := range r.Findings() {
		codes = append(codes, f.Code+" "+f.Objects[0].String())
	}
	if d := cmp.Diff([]string{"ExtensionNotHTTP2 ExtensionService ns/plain"}, codes); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}
