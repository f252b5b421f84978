package controlplane_test

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
)

const compileInput = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team-a}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: team-a
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- addresses: [10.0.0.2]
- addresses: [10.0.0.1]
  conditions: {ready: true}
- addresses: [10.0.0.3]
  conditions: {ready: false}
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: root, namespace: team-a}
spec:
  virtualhost: {fqdn: a.example.com}
  routes:
  - conditions: [{regex: "/.*"}]
    services: [{name: web, port: 80}]
  - conditions: [{prefix: /api}]
    services: [{name: web, port: 80, weight: 0}, {name: missing, port: 80}]
  - conditions: [{exact: /health}]
    directResponsePolicy: {statusCode: 200, body: ok}
`

func TestCompile(t *testing.T) {
	t.Parallel()
	idx, problems := source.LoadBytes(source.LoadOptions{}, "input.yaml", []byte(compileInput))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	res, err := controlplane.Compile(idx, controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Listeners, RouteConfigs, Clusters, Routes []string
		Endpoints                                 map[string]int
		Statuses, Findings                        []string
	}
	got := summary{Endpoints: map[string]int{}}
	for _, l := range res.Resources.Listeners {
		got.Listeners = append(got.Listeners, l.GetName())
	}
	for _, rc := range res.Resources.Routes {
		got.RouteConfigs = append(got.RouteConfigs, rc.GetName())
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				got.Routes = append(got.Routes, vh.GetName()+" "+matchString(r.GetMatch()))
			}
		}
	}
	for _, c := range res.Resources.Clusters {
		got.Clusters = append(got.Clusters, c.GetName())
	}
	for _, e := range res.Resources.Endpoints {
		for _, l := range e.GetEndpoints() {
			got.Endpoints[e.GetClusterName()] += len(l.GetLbEndpoints())
		}
	}
	for _, s := range res.Statuses {
		got.Statuses = append(got.Statuses, s.Ref.String()+" "+string(s.CurrentStatus))
	}
	for _, f := range res.Findings {
		got.Findings = append(got.Findings, string(f.Severity)+" "+f.Code)
	}
	want := summary{
		Listeners:    []string{"ingress_http"},
		RouteConfigs: []string{"ingress_http"},
		Clusters:     []string{"team-a/web/80/da39a3ee5e"},
		Routes: []string{
			"a.example.com exact /health",
			"a.example.com regex /.*",
			"a.example.com prefix /api",
		},
		Endpoints: map[string]int{"team-a/web/http": 2},
		Statuses:  []string{"HTTPProxy team-a/root invalid"},
		Findings:  []string{"warning ShadowedRoute"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("compile (-want +got):\n%s", d)
	}
}

func matchString(m *routev3.RouteMatch) string {
	switch {
	case m.GetPath() != "":
		return "exact " + m.GetPath()
	case m.GetSafeRegex() != nil:
		return "regex " + m.GetSafeRegex().GetRegex()
	case m.GetPathSeparatedPrefix() != "":
		return "segment " + m.GetPathSeparatedPrefix()
	}
	return "prefix " + m.GetPrefix()
}
