package graph

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// jwtRoot is a TLS root on a.com with the given jwtProviders and routes
// (YAML lists, indented as under spec).
func jwtRoot(providers, routes string) string {
	return `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost:
    fqdn: a.com
    tls: {secretName: cert}
    jwtProviders:
` + providers + `
  routes:
` + routes + "\n"
}

// caSecretDoc is an Opaque Secret holding a CA bundle (ca.crt).
func caSecretDoc(t *testing.T, ns, name string) string {
	t.Helper()
	cert, _ := testCert(t, "ca", "ca")
	return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: Opaque\ndata: {ca.crt: %s}\n",
		name, ns, base64.StdEncoding.EncodeToString(cert))
}

// errorMessages lists each error of r as "ns/name reason: message".
func errorMessages(r *status.Report) []string {
	var out []string
	for _, o := range r.Objects() {
		for _, c := range o.Conditions {
			for _, e := range c.Errors {
				out = append(out, fmt.Sprintf("%s/%s %s: %s", o.Ref.Namespace, o.Ref.Name, e.Reason, e.Message))
			}
		}
	}
	return out
}

func TestJWTProviders(t *testing.T) {
	t.Parallel()
	plain := `    - {name: p1, remoteJWKS: {uri: "https://keys.a.com/jwks"}}`
	for name, tc := range map[string]struct {
		yaml          string
		opts          Options
		wantProviders []JWTProvider
		wantRoutes    map[string]string // route match → provider
		wantStatuses  []string
		wantErrors    []string // only checked when set
	}{
		"defaults: a 1s timeout, the scheme's port, SNI and TLS for https": {
			yaml: jwtRoot(plain, `  - services: [{name: s, port: 80}]`),
			wantProviders: []JWTProvider{{Name: "p1", URI: "https://keys.a.com/jwks", Timeout: time.Second,
				Cluster: &Cluster{DNSNameScheme: "https", ExternalName: "keys.a.com", Protocol: "tls", SNI: "keys.a.com", Port: port(443)}}},
			wantRoutes:   map[string]string{"prefix:/": ""},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"every field; the global DNS lookup family applies when the provider sets none": {
			opts: Options{Upstream: Upstream{DNSLookupFamily: DNSv6}},
			yaml: jwtRoot(`    - name: idp
      default: true
      issuer: https://idp.a.com
      audiences: [aud1, aud2]
      forwardJWT: true
      remoteJWKS: {uri: "http://idp.a.com:8080/keys?v=1", timeout: 250ms, cacheDuration: 1h}
    - {name: p2, remoteJWKS: {uri: "https://keys.a.com/jwks", dnsLookupFamily: all, validation: {caSecret: ca, subjectName: keys.a.com}}}`,
				`  - services: [{name: s, port: 80}]
  - conditions: [{prefix: /p2}]
    jwtVerificationPolicy: {require: p2}
    services: [{name: s, port: 80}]
  - conditions: [{prefix: /off}]
    jwtVerificationPolicy: {disabled: true}
    services: [{name: s, port: 80}]`),
			wantProviders: []JWTProvider{
				{Name: "idp", Issuer: "https://idp.a.com", Audiences: []string{"aud1", "aud2"}, ForwardJWT: true, URI: "http://idp.a.com:8080/keys?v=1",
					Timeout: 250 * time.Millisecond, CacheDuration: time.Hour,
					Cluster: &Cluster{DNSNameScheme: "http", ExternalName: "idp.a.com", Port: port(8080), DNSLookupFamily: DNSv6}},
				{Name: "p2", URI: "https://keys.a.com/jwks", Timeout: time.Second,
					Cluster: &Cluster{DNSNameScheme: "https", ExternalName: "keys.a.com", Protocol: "tls", SNI: "keys.a.com", Port: port(443),
						DNSLookupFamily: DNSAll, Validation: &UpstreamValidation{CA: &Secret{Namespace: "ns", Name: "ca"}, SubjectNames: []string{"keys.a.com"}}}},
			},
			wantRoutes:   map[string]string{"prefix:/": "idp", "prefix:/p2": "p2", "prefix:/off": ""},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"the configured upstream TLS parameters reach an https key set's cluster": {
			opts: Options{Upstream: Upstream{TLSMinimumVersion: "1.3"}},
			yaml: jwtRoot(plain, `  - services: [{name: s, port: 80}]`),
			wantProviders: []JWTProvider{{Name: "p1", URI: "https://keys.a.com/jwks", Timeout: time.Second,
				Cluster: &Cluster{DNSNameScheme: "https", ExternalName: "keys.a.com", Protocol: "tls", SNI: "keys.a.com", Port: port(443),
					UpstreamTLSMin: "1.3", UpstreamTLSMax: "1.3", UpstreamTLSCipherSuites: strings.Join(contourCipherSuites, "\n")}}},
			wantRoutes:   map[string]string{"prefix:/": ""},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"auto is the default family": {
			yaml: jwtRoot(`    - {name: p1, remoteJWKS: {uri: "https://keys.a.com", dnsLookupFamily: auto}}`, `  - services: [{name: s, port: 80}]`),
			wantProviders: []JWTProvider{{Name: "p1", URI: "https://keys.a.com", Timeout: time.Second,
				Cluster: &Cluster{DNSNameScheme: "https", ExternalName: "keys.a.com", Protocol: "tls", SNI: "keys.a.com", Port: port(443)}}},
			wantRoutes:   map[string]string{"prefix:/": ""},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"every bad provider is reported, naming its field, and the root is not served": {
			yaml: jwtRoot(`    - {name: a, default: true, remoteJWKS: {uri: "ftp://k.a.com/jwks"}}
    - {name: a, remoteJWKS: {uri: "https://k.a.com"}}
    - {name: b, default: true, remoteJWKS: {uri: "https://k.a.com"}}
    - {name: c, remoteJWKS: {uri: "https:///jwks"}}
    - {name: d, remoteJWKS: {uri: "https://k.a.com:0"}}
    - {name: e, remoteJWKS: {uri: "http://k.a.com", validation: {caSecret: ca, subjectName: k.a.com}}}
    - {name: f, remoteJWKS: {uri: "https://k.a.com", validation: {caSecret: other/ca, subjectName: k.a.com}}}
    - {name: g, remoteJWKS: {uri: "https://k.a.com", validation: {caSecret: ca}}}
    - {name: h, remoteJWKS: {uri: "https://k.a.com", timeout: -1s}}
    - {name: i, remoteJWKS: {uri: "https://k.a.com", cacheDuration: 0s}}
    - {name: j, remoteJWKS: {uri: "https://k.a.com", dnsLookupFamily: V4}}
    - {name: k, remoteJWKS: {uri: ""}}
    - {name: "", remoteJWKS: {uri: "https://k.a.com"}}
    - {name: l, remoteJWKS: {uri: "https://k.a.com", timeout: 5000000h}}
    - {name: m, remoteJWKS: {uri: "%zz"}}
    - {name: p15, remoteJWKS: {uri: "https://keys_a.com/jwks"}}
    - {name: p16, remoteJWKS: {uri: "https://[::1]/jwks"}}
    - {name: p17, remoteJWKS: {uri: "https://Keys.A.com./jwks"}}`, `  - services: [{name: s, port: 80}]`),
			wantStatuses: []string{"HTTPProxy ns/p: invalid DuplicateProviderName,JWKSSourceMissing,JWTProviderNameInvalid,MultipleDefaultProvidersSpecified," +
				"RemoteJWKSCACertificateNotDelegated,RemoteJWKSCacheDurationInvalid,RemoteJWKSDNSLookupFamilyInvalid,RemoteJWKSPortInvalid," +
				"RemoteJWKSSchemeInvalid,RemoteJWKSTimeoutInvalid,RemoteJWKSTimeoutInvalid,RemoteJWKSURIInvalid,RemoteJWKSURIInvalid,RemoteJWKSURIInvalid," +
				"RemoteJWKSUpstreamValidationInvalid,RemoteJWKSUpstreamValidationInvalid"},
			wantErrors: []string{
				`ns/p DuplicateProviderName: Spec.VirtualHost.JWTProviders[1].name: duplicate name a`,
				`ns/p JWKSSourceMissing: Spec.VirtualHost.JWTProviders[11]: provider "k" needs the address of its key set (remoteJWKS.uri) or a Secret holding it (localJWKS)`,
				`ns/p JWTProviderNameInvalid: Spec.VirtualHost.JWTProviders[12].name: a provider needs a name`,
				`ns/p MultipleDefaultProvidersSpecified: Spec.VirtualHost.JWTProviders[2].default: at most one provider can be the default (a already is)`,
				`ns/p RemoteJWKSCACertificateNotDelegated: Spec.VirtualHost.JWTProviders[6].remoteJWKS.validation: CA Secret "other/ca" is not delegated to namespace "ns"`,
				`ns/p RemoteJWKSCacheDurationInvalid: Spec.VirtualHost.JWTProviders[9].remoteJWKS.cacheDuration "0s" is invalid: want a duration such as 5m, from 1ms to 2499999h59m59.999999999s`,
				`ns/p RemoteJWKSDNSLookupFamilyInvalid: Spec.VirtualHost.JWTProviders[10].remoteJWKS.dnsLookupFamily has an invalid value "V4", must be auto, all, v4 or v6`,
				`ns/p RemoteJWKSPortInvalid: Spec.VirtualHost.JWTProviders[4].remoteJWKS.uri has an invalid port "0"`,
				`ns/p RemoteJWKSSchemeInvalid: Spec.VirtualHost.JWTProviders[0].remoteJWKS.uri has invalid scheme "ftp", must be http or https`,
				`ns/p RemoteJWKSTimeoutInvalid: Spec.VirtualHost.JWTProviders[13].remoteJWKS.timeout "5000000h" is invalid: want a duration such as 1s, from 0s to 1193046h28m15s`,
				`ns/p RemoteJWKSTimeoutInvalid: Spec.VirtualHost.JWTProviders[8].remoteJWKS.timeout "-1s" is invalid: want a duration such as 1s, from 0s to 1193046h28m15s`,
				`ns/p RemoteJWKSURIInvalid: Spec.VirtualHost.JWTProviders[14].remoteJWKS.uri is invalid: parse "%zz": invalid URL escape "%zz"`,
				`ns/p RemoteJWKSURIInvalid: Spec.VirtualHost.JWTProviders[3].remoteJWKS.uri "https:///jwks" has no host`,
				// An IP address and a DNS name in any case pass (p16, p17).
				`ns/p RemoteJWKSURIInvalid: Spec.VirtualHost.JWTProviders[15].remoteJWKS.uri's host "keys_a.com" is neither a DNS name nor an IP address`,
				`ns/p RemoteJWKSUpstreamValidationInvalid: Spec.VirtualHost.JWTProviders[5].remoteJWKS.validation must not be set when the uri's scheme is http`,
				`ns/p RemoteJWKSUpstreamValidationInvalid: Spec.VirtualHost.JWTProviders[7].remoteJWKS.validation is invalid: validation needs subjectName (missing subject alternative name)`,
			},
		},
		"providers need TLS termination": {
			yaml:         strings.Replace(jwtRoot(plain, `  - services: [{name: s, port: 80}]`), "tls: {secretName: cert}", "", 1),
			wantStatuses: []string{"HTTPProxy ns/p: invalid JWTVerificationNotPermitted"},
		},
		"providers and the fallback certificate are incompatible": {
			yaml:         strings.Replace(jwtRoot(plain, `  - services: [{name: s, port: 80}]`), "tls: {secretName: cert}", "tls: {secretName: cert, enableFallbackCertificate: true}", 1),
			wantStatuses: []string{"HTTPProxy ns/p: invalid TLSIncompatibleFeatures"},
		},
		"a route requiring an undefined provider": {
			yaml: jwtRoot(plain, `  - jwtVerificationPolicy: {require: nope}
    services: [{name: s, port: 80}]`),
			wantStatuses: []string{"HTTPProxy ns/p: invalid JWTProviderNotDefined"},
			wantErrors:   []string{`ns/p JWTProviderNotDefined: Spec.Routes[0]: jwtVerificationPolicy.require: route references an undefined JWT provider "nope"`},
		},
		"a route requiring and disabling": {
			yaml: jwtRoot(plain, `  - jwtVerificationPolicy: {require: p1, disabled: true}
    services: [{name: s, port: 80}]`),
			wantStatuses: []string{"HTTPProxy ns/p: invalid InvalidJWTVerificationPolicy"},
		},
		"a route of a root without providers requiring one": {
			yaml: `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - jwtVerificationPolicy: {require: p1}
    services: [{name: s, port: 80}]
  - conditions: [{prefix: /x}]
    jwtVerificationPolicy: {disabled: true}
    services: [{name: s, port: 80}]
`,
			wantStatuses: []string{"HTTPProxy ns/p: invalid JWTProviderNotDefined"},
		},
		"an included route inherits the default, and only the bad child is invalid": {
			yaml: jwtRoot(strings.Replace(plain, "name: p1,", "name: p1, default: true,", 1), `  - services: [{name: s, port: 80}]
  includes:
  - {name: good, conditions: [{prefix: /good}]}
  - {name: bad, conditions: [{prefix: /bad}]}
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: good, namespace: ns}
spec:
  routes: [{services: [{name: s, port: 80}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: bad, namespace: ns}
spec:
  routes: [{jwtVerificationPolicy: {require: other}, services: [{name: s, port: 80}]}]`),
			wantProviders: []JWTProvider{{Name: "p1", URI: "https://keys.a.com/jwks", Timeout: time.Second,
				Cluster: &Cluster{DNSNameScheme: "https", ExternalName: "keys.a.com", Protocol: "tls", SNI: "keys.a.com", Port: port(443)}}},
			wantRoutes:   map[string]string{"prefix:/": "p1", "prefix:/good": "p1", "prefix:/bad": ""},
			wantStatuses: []string{"HTTPProxy ns/bad: invalid JWTProviderNotDefined", "HTTPProxy ns/good: valid", "HTTPProxy ns/p: valid warn:IncludeNotValid"},
		},
		"a permitInsecure route requiring a token is served unverified on port 80, and says so": {
			yaml: jwtRoot(strings.Replace(plain, "name: p1,", "name: p1, default: true,", 1), `  - permitInsecure: true
    services: [{name: s, port: 80}]
  - conditions: [{prefix: /off}]
    permitInsecure: true
    jwtVerificationPolicy: {disabled: true}
    services: [{name: s, port: 80}]`),
			wantProviders: []JWTProvider{{Name: "p1", URI: "https://keys.a.com/jwks", Timeout: time.Second,
				Cluster: &Cluster{DNSNameScheme: "https", ExternalName: "keys.a.com", Protocol: "tls", SNI: "keys.a.com", Port: port(443)}}},
			wantRoutes:   map[string]string{"prefix:/": "p1", "prefix:/off": ""},
			wantStatuses: []string{"HTTPProxy ns/p: valid warn:JWTNotVerifiedOverHTTP"},
		},
		"no warning when permitInsecure is disabled globally": {
			opts: Options{DisablePermitInsecure: true},
			yaml: jwtRoot(strings.Replace(plain, "name: p1,", "name: p1, default: true,", 1), `  - permitInsecure: true
    services: [{name: s, port: 80}]`),
			wantProviders: []JWTProvider{{Name: "p1", URI: "https://keys.a.com/jwks", Timeout: time.Second,
				Cluster: &Cluster{DNSNameScheme: "https", ExternalName: "keys.a.com", Protocol: "tls", SNI: "keys.a.com", Port: port(443)}}},
			wantRoutes:   map[string]string{"prefix:/": "p1"},
			wantStatuses: []string{"HTTPProxy ns/p: valid"},
		},
		"a tcpproxy ignores providers, and says so": {
			yaml:         strings.Replace(jwtRoot(plain, ""), "  routes:\n\n", "  tcpproxy: {services: [{name: s, port: 80}]}\n", 1),
			wantStatuses: []string{"HTTPProxy ns/p: valid warn:IgnoredField"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, tc.opts, tc.yaml+svcs("ns", "s")+certSecret(t, "ns", "cert")+caSecretDoc(t, "ns", "ca")+caSecretDoc(t, "other", "ca"))
			var providers []JWTProvider
			routes := map[string]string{}
			if svh := g.SecureVirtualHosts["a.com"]; svh != nil {
				providers = svh.JWTProviders
				for _, rt := range SortedRoutes(&svh.VirtualHost) {
					routes[rt.MatchString()] = rt.JWTProvider
				}
			}
			if tc.wantRoutes == nil {
				tc.wantRoutes = map[string]string{}
			}
			if d := cmp.Diff(tc.wantProviders, providers, cmpopts.IgnoreFields(Secret{}, "CA"), cmpopts.EquateEmpty()); d != "" {
				t.Errorf("providers (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantRoutes, routes); d != "" {
				t.Errorf("route providers (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantStatuses, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			if tc.wantErrors != nil {
				got := errorMessages(r)
				if d := cmp.Diff(tc.wantErrors, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
					t.Errorf("errors (-want +got):\n%s", d)
				}
			}
		})
	}
}

// port is a Service port with only its number.
func port(n int32) corev1.ServicePort { return corev1.ServicePort{Port: n} }
