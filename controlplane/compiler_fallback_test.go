package controlplane_test

import (
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/translate"
)

// TestCompilerFallbackChild changes only the child of a root that enabled
// the fallback certificate: its routes are in ingress_fallbackcert as well
// as in its own configuration, so the update must equal a full compile
// there too; a change to a host without it stays incremental and keeps
// the fallback chain.
func TestCompilerFallbackChild(t *testing.T) {
	data, err := os.ReadFile("../fixtures/httpproxy-fallback-certificate/input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, []byte(`
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: shop-api, namespace: app}
spec:
  routes: [{conditions: [{prefix: /api}], services: [{name: b, port: 80}]}]
`)...)
	idx, problems := source.LoadBytes(source.LoadOptions{}, "fallback", data)
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	shop := proxyAt(idx, source.Key("app", "shop")).DeepCopy()
	shop.Spec.Includes = []contourv1.Include{{Name: "shop-api"}}
	mustUpsert(idx, shop)
	opts := controlplane.Options{Options: graph.Options{FallbackCertificate: "certs/fallback"}}
	comp := controlplane.NewCompiler(opts)
	if _, err := comp.Compile(idx); err != nil {
		t.Fatal(err)
	}
	step := func(name, proxy, prefix string, full bool) {
		t.Helper()
		next := idx.Clone()
		p := proxyAt(idx, source.Key("app", proxy)).DeepCopy()
		p.Spec.Routes[0].Conditions = []contourv1.MatchCondition{{Prefix: prefix}}
		mustUpsert(next, p)
		fulls := comp.FullCompiles()
		got, err := comp.Update(next, []types.NamespacedName{source.Key("app", proxy)})
		if err != nil {
			t.Fatal(err)
		}
		want, err := controlplane.Compile(next, opts)
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, name, got, want)
		if took := comp.FullCompiles() > fulls; took != full {
			t.Errorf("%s: full compile %v, want %v", name, took, full)
		}
		if rc := got.Resources.RouteConfiguration(translate.FallbackRoutes); len(rc.GetVirtualHosts()) != 2 {
			t.Errorf("%s: ingress_fallbackcert has %d hosts, want 2", name, len(rc.GetVirtualHosts()))
		}
		idx = next
	}
	step("the child of a fallback host", "shop-api", "/v2", true)
	step("a host without the fallback certificate", "plain", "/other", false)
}
