package graph

import (
	"strings"
	"testing"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// TestExcluded: an excluded root's host is not served and the root is
// invalid with EnvoyRejected; an excluded child makes its include answer
// 502 (the rest of the host is served) and is invalid itself.
func TestExcluded(t *testing.T) {
	yaml := svcs("app", "web", "blog") + `---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: shop, namespace: app}
spec:
  virtualhost: {fqdn: shop.example.com}
  routes: [{services: [{name: web, port: 80}]}]
  includes: [{name: blog, conditions: [{prefix: /blog}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: blog, namespace: app}
spec:
  routes: [{services: [{name: blog, port: 80}]}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: other, namespace: app}
spec:
  virtualhost: {fqdn: other.example.com}
  routes: [{services: [{name: web, port: 80}]}]
`
	ref := func(name string) status.Ref {
		return status.Ref{Kind: status.KindHTTPProxy, Namespace: "app", Name: name}
	}
	// routes renders a host's routes as "path→code or cluster".
	routes := func(g *Graph, host string) string {
		vh := g.VirtualHost(host)
		if vh == nil || len(vh.Routes) == 0 {
			return "not served"
		}
		var out []string
		for _, r := range SortedRoutes(vh) {
			what := "forward"
			if r.DirectResponse != nil {
				what = "502"
			}
			out = append(out, r.Path.Value+"→"+what)
		}
		return strings.Join(out, " ")
	}
	reasons := func(rep *status.Report, name string) string {
		for _, o := range rep.Objects() {
			if o.Ref == ref(name) {
				var rs []string
				for _, c := range o.Conditions {
					for _, e := range c.Errors {
						rs = append(rs, e.Reason+": "+e.Message)
					}
				}
				return string(o.CurrentStatus) + " " + strings.Join(rs, "; ")
			}
		}
		return "no status"
	}
	for _, c := range []struct {
		excluded               string
		shop, other            string
		shopStatus, blogStatus string
	}{
		{"", "/blog→forward /→forward", "/→forward", "valid ", "valid "},
		{"blog", "/blog→502 /→forward", "/→forward", "valid ", "invalid EnvoyRejected: rejected: bad route"},
		{"shop", "not served", "/→forward", "invalid EnvoyRejected: rejected: bad route", "orphaned Orphaned: this HTTPProxy is not part of a delegation chain from a root HTTPProxy"},
	} {
		opts := Options{}
		if c.excluded != "" {
			opts.Excluded = map[status.Ref]string{ref(c.excluded): "rejected: bad route"}
		}
		g, rep := build(t, opts, yaml)
		if got := routes(g, "shop.example.com"); got != c.shop {
			t.Errorf("excluded %q: shop.example.com %q, want %q", c.excluded, got, c.shop)
		}
		if got := routes(g, "other.example.com"); got != c.other {
			t.Errorf("excluded %q: other.example.com %q, want %q", c.excluded, got, c.other)
		}
		if got := reasons(rep, "shop"); got != c.shopStatus {
			t.Errorf("excluded %q: shop %q, want %q", c.excluded, got, c.shopStatus)
		}
		if got := reasons(rep, "blog"); got != c.blogStatus {
			t.Errorf("excluded %q: blog %q, want %q", c.excluded, got, c.blogStatus)
		}
	}
}
