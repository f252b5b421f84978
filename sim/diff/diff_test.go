package diff_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/sim/diff"
	"github.com/isobar-dev/isobar/sim/router"
)

const manifests = `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: a, namespace: ns}
spec:
  virtualhost: {fqdn: a.com}
  routes: [{services: [{name: web, port: 80}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: b, namespace: ns}
spec:
  virtualhost: {fqdn: b.com}
  routes: [{services: [{name: other, port: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: ns}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: other-1, namespace: ns, labels: {kubernetes.io/service-name: other}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: ["10.0.0.2"]}]
`

const webEndpoints = `
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: ns, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: ["10.0.0.1"]}]
`

func state(t *testing.T, yaml string) diff.State {
	t.Helper()
	idx, problems := source.LoadBytes(source.LoadOptions{}, t.Name(), []byte(yaml))
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	res, err := controlplane.Compile(idx, controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return diff.State{Index: idx, Result: res}
}

func evaluate() diff.Evaluator {
	return func(res *xds.Resources, q diff.Request) (diff.Answer, error) {
		r := router.New(res, router.Options{}).Evaluate(router.Request{URL: q.URL, Method: q.Method, Headers: q.Headers})
		a := diff.Answer{Routed: r.Routed, Status: r.Status, Redirect: r.Redirect, Backends: []diff.Backend{}}
		for _, b := range r.Backends {
			a.Backends = append(a.Backends, diff.Backend{Namespace: b.Namespace, Service: b.Service, Port: b.Port, Weight: b.Weight})
		}
		return a, nil
	}
}

// TestEndpointsOnlyChange: removing the only endpoints of a Service changes
// no route configuration, yet the request to it goes from 200 to 503 and is
// reported as unrouted (probes of unchanged hosts may be skipped, but not
// those whose clusters' endpoints changed).
func TestEndpointsOnlyChange(t *testing.T) {
	t.Parallel()
	rep, err := diff.Compare(state(t, manifests+webEndpoints), state(t, manifests), diff.Options{Evaluate: evaluate()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range rep.Requests {
		got = append(got, q.Request.URL+" "+q.Before.String()+" -> "+q.After.String())
	}
	want := []string{"http://a.com/ 200 ns/web:80 -> 503 ns/web:80"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	if len(rep.Dangers) != 1 || !strings.Contains(rep.Dangers[0], "http://a.com/ was routed") {
		t.Errorf("dangers %v", rep.Dangers)
	}
	if rep.Probes != 2 {
		t.Errorf("probes %d, want 2 (one per route of each state)", rep.Probes)
	}
}

// TestNoChange: identical states report nothing.
func TestNoChange(t *testing.T) {
	t.Parallel()
	rep, err := diff.Compare(state(t, manifests+webEndpoints), state(t, manifests+webEndpoints), diff.Options{Evaluate: evaluate()})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Empty() || len(rep.Dangers) != 0 {
		t.Errorf("want no change, got %+v", rep)
	}
}
