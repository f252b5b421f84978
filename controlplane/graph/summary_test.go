package graph

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// summary renders a graph as lines "host: match [conditions] -> action",
// in Envoy's route order, secure hosts prefixed "https ". Tests write the
// expected lines by hand.
func summary(g *Graph) []string {
	var out []string
	line := func(prefix string, vh *VirtualHost) {
		for _, r := range SortedRoutes(vh) {
			s := prefix + vh.Name + ": " + r.MatchString()
			for _, h := range r.Headers {
				not := ""
				if h.Invert {
					not = "!"
				}
				s += fmt.Sprintf(" h:%s%s=%s:%s", not, strings.ToLower(h.Name), h.Kind, h.Value)
			}
			for _, q := range r.Query {
				s += fmt.Sprintf(" q:%s=%s:%s", q.Name, q.Kind, q.Value)
			}
			s += " -> " + action(r)
			out = append(out, s)
		}
	}
	for _, vh := range SortedVirtualHosts(g) {
		line("", vh)
	}
	for _, vh := range SortedSecureVirtualHosts(g) {
		line("https ", &vh.VirtualHost)
		if vh.TCPProxy != nil {
			out = append(out, "https "+vh.Name+": tcpproxy -> "+backends(vh.TCPProxy.Backends))
		}
	}
	return out
}

func action(r *Route) string {
	switch {
	case r.HTTPSRedirect:
		return "301 https"
	case r.Redirect != nil:
		return fmt.Sprintf("redirect %d %s%s%s", r.Redirect.Code, r.Redirect.Host, r.Redirect.Path, r.Redirect.Prefix)
	case r.DirectResponse != nil:
		return fmt.Sprintf("direct %d", r.DirectResponse.Code)
	case len(r.Backends) == 0:
		return "503"
	}
	return backends(r.Backends)
}

func backends(bs []Backend) string {
	var parts []string
	for _, b := range bs {
		p := fmt.Sprintf("%s/%s:%d", b.Cluster.Namespace, b.Cluster.Service, b.Cluster.Port.Port)
		if len(bs) > 1 {
			p += fmt.Sprintf("*%d", b.Weight)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ",")
}

// statuses renders "Kind ns/name: status [reasons]".
func statuses(r *status.Report) []string {
	var out []string
	for _, o := range r.Objects() {
		var reasons []string
		for _, c := range o.Conditions {
			for _, e := range c.Errors {
				reasons = append(reasons, e.Reason)
			}
			for _, w := range c.Warnings {
				reasons = append(reasons, "warn:"+w.Reason)
			}
		}
		sort.Strings(reasons)
		s := fmt.Sprintf("%s: %s", o.Ref, o.CurrentStatus)
		if len(reasons) > 0 {
			s += " " + strings.Join(reasons, ",")
		}
		out = append(out, s)
	}
	return out
}

// build loads YAML documents and builds the graph.
func build(t *testing.T, opts Options, yaml string) (*Graph, *status.Report) {
	t.Helper()
	idx, problems := source.LoadBytes(source.LoadOptions{}, t.Name(), []byte(yaml))
	if len(problems) > 0 {
		t.Fatalf("bad test input: %v", problems[0])
	}
	return Build(idx, opts)
}

// svcs returns Service documents with one port 80 named http.
func svcs(ns string, names ...string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec: {ports: [{name: http, port: 80}]}\n", n, ns)
	}
	return b.String()
}
