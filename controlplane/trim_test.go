package controlplane_test

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/goldentest"
)

// TestTrimChangesNothing compiles every golden case and the S1k corpus
// twice, from whole objects (the offline commands) and trimmed ones (`serve`
// and the cluster informers, source.Trim), and checks that the resources,
// statuses and findings are the same: trimming drops nothing the core
// reads.
func TestTrimChangesNothing(t *testing.T) {
	type input struct {
		name, path string
		data       []byte
	}
	var inputs []input
	for _, c := range goldentest.Cases(t) {
		inputs = append(inputs, input{name: c.Name, path: c.Input})
	}
	inputs = append(inputs, input{name: "S1k", data: corpus(t, "S1k")}, input{name: "conditions", data: []byte(endpointConditions)})
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			opts := controlplane.Options{}
			load := func(trim bool) xds.Document {
				var idx *source.Index
				if in.data != nil {
					idx, _ = source.LoadBytes(source.LoadOptions{Trim: trim}, in.name, in.data)
				} else {
					raw, err := os.ReadFile(in.path)
					if err != nil {
						t.Fatal(err)
					}
					o, ns := goldentest.CaseOptions(t, raw)
					opts = o
					idx, _ = source.Load(source.LoadOptions{DefaultNamespace: ns, Trim: trim}, in.path)
				}
				res, err := controlplane.Compile(idx, opts)
				if err != nil {
					t.Fatalf("compile (trim %v): %v", trim, err)
				}
				return xds.Document{Resources: res.Resources, Status: res.Statuses, Findings: res.Findings}
			}
			whole, trimmed := load(false), load(true)
			if d := cmp.Diff(whole, trimmed, protocmp.Transform()); d != "" {
				t.Errorf("trimmed differs (-whole +trimmed):\n%s", d)
			}
		})
	}
}

// endpointConditions is a Service whose slices have endpoints ready, not
// ready, unset and terminating, one with an address Envoy refuses between
// others, and a port that is not a port number: what the folding of
// endpoints (source.Trim) must keep apart and in order.
const endpointConditions = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}, {name: admin, port: 9000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-a, namespace: ns, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}, {name: admin, port: 0}]
endpoints:
- {addresses: [10.1.0.1], conditions: {ready: true}, nodeName: n1}
- {addresses: [10.1.0.2, 127.0.0.1], conditions: {ready: true}}
- {addresses: [10.1.0.3], conditions: {ready: false}}
- {addresses: [169.254.0.9], conditions: {ready: false, terminating: true}}
- {addresses: [10.1.0.4]}
- {addresses: [10.1.0.5], conditions: {ready: true, terminating: true}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-b, namespace: ns, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8081}]
endpoints:
- {addresses: [10.1.1.1], conditions: {ready: false}}
- {addresses: [10.1.1.2], conditions: {ready: true}}
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: web, namespace: ns}
spec:
  virtualhost: {fqdn: web.example.com}
  routes:
  - services: [{name: web, port: 80}, {name: web, port: 9000}]
`
