package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sniServices are the Services TestUpstreamSNI routes to: a cleartext one,
// a TLS one, and an ExternalName Service for api.example.com over TLS and
// over cleartext.
const sniServices = `
---
apiVersion: v1
kind: Service
metadata: {name: plain, namespace: ns}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: secure, namespace: ns, annotations: {projectcontour.io/upstream-protocol.tls: "443"}}
spec: {ports: [{name: https, port: 443}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: ns, annotations: {projectcontour.io/upstream-protocol.tls: "443"}}
spec: {type: ExternalName, externalName: api.example.com, ports: [{name: https, port: 443}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext-plain, namespace: ns}
spec: {type: ExternalName, externalName: api.example.com, ports: [{name: http, port: 80}]}
`

// TestUpstreamSNI: the server name an HTTPProxy's TLS cluster sends is
// picked as Contour picks it: the Host the service's requestHeadersPolicy
// sets, else the route's, else the ExternalName; never a validation's
// subject name, and none for a cleartext cluster. A tcpproxy's is its
// ExternalName.
func TestUpstreamSNI(t *testing.T) {
	t.Parallel()
	host := func(h string) string { return "{set: [{name: Host, value: " + h + "}]}" }
	g, report := build(t, Options{EnableExternalName: true}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes:
  - conditions: [{prefix: /ext-plain}]
    services: [{name: ext-plain, port: 80}]
  - conditions: [{prefix: /ext}]
    services: [{name: ext, port: 443}]
  - conditions: [{prefix: /ext-route-host}]
    requestHeadersPolicy: `+host("route.example")+`
    services: [{name: ext, port: 443}]
  - conditions: [{prefix: /ext-service-host}]
    requestHeadersPolicy: `+host("route.example")+`
    services: [{name: ext, port: 443, requestHeadersPolicy: `+host("svc.example")+`}]
  - conditions: [{prefix: /secure}]
    services: [{name: secure, port: 443}]
  - conditions: [{prefix: /secure-validated}]
    services: [{name: secure, port: 443, validation: {caSecret: ca, subjectName: subjname}}]
  - conditions: [{prefix: /secure-route-host}]
    requestHeadersPolicy: `+host("backend.internal")+`
    services: [{name: secure, port: 443}]
  - conditions: [{prefix: /plain-host}]
    requestHeadersPolicy: `+host("backend.internal")+`
    services: [{name: plain, port: 80}]
  - conditions: [{prefix: /h2}]
    services: [{name: plain, port: 80, protocol: h2, requestHeadersPolicy: `+host("svc.example")+`}]
  - conditions: [{prefix: /copied}]
    requestHeadersPolicy: `+host(`"%REQ(x-host)%"`)+`
    services: [{name: ext, port: 443}]
  - conditions: [{prefix: /copied-service}]
    services: [{name: ext, port: 443, requestHeadersPolicy: `+host(`"%REQ(x-host)%"`)+`}]
  - conditions: [{prefix: /mirror}]
    services:
    - {name: plain, port: 80}
    - {name: ext, port: 443, mirror: true, requestHeadersPolicy: `+host("mirror.example")+`}
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: tcp, namespace: ns}
spec:
  virtualhost: {fqdn: tcp.com, tls: {passthrough: true}}
  tcpproxy: {services: [{name: ext, port: 443}]}
`+caSecretDoc(t, "ns", "ca")+sniServices)
	got := map[string]string{}
	for _, r := range g.VirtualHosts["a.com"].Routes {
		for _, be := range r.Backends {
			got[r.Path.Value] = be.Cluster.SNI
			if h := be.RequestHeaders; h != nil && h.HostRewrite != "" {
				got[r.Path.Value+" Host"] = h.HostRewrite
			}
		}
		if r.Mirror != nil {
			got[r.Path.Value+" mirror"] = r.Mirror.Cluster.SNI
		}
	}
	for _, be := range g.SecureVirtualHosts["tcp.com"].TCPProxy.Backends {
		got["tcpproxy"] = be.Cluster.SNI
	}
	want := map[string]string{
		"/ext-plain":             "",
		"/ext":                   "api.example.com",
		"/ext-route-host":        "route.example",
		"/ext-service-host":      "svc.example",
		"/ext-service-host Host": "svc.example",
		"/secure":                "",
		"/secure-validated":      "",
		"/secure-route-host":     "backend.internal",
		"/plain-host":            "",
		"/h2":                    "svc.example",
		"/h2 Host":               "svc.example",
		"/copied":                "api.example.com",
		"/copied-service":        "api.example.com", // and its Host is dropped, with a warning
		"/mirror":                "",
		"/mirror mirror":         "mirror.example",
		"tcpproxy":               "api.example.com",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SNI by route (-want +got):\n%s", d)
	}
	wantStatuses := []string{"HTTPProxy ns/p: valid warn:IgnoredField", "HTTPProxy ns/tcp: valid"}
	if d := cmp.Diff(wantStatuses, statuses(report)); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
}
