package translate

import (
	"fmt"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Listener and route configuration names, Contour's.
const (
	HTTPListener  = "ingress_http"
	HTTPSListener = "ingress_https"
	// HTTPRoutes is the route configuration of every insecure virtual host.
	HTTPRoutes = "ingress_http"
	// HTTPSRoutesPrefix prefixes the route configuration of each secure
	// virtual host: https/<fqdn>.
	HTTPSRoutesPrefix = "https/"
)

// validator is what every go-control-plane resource implements.
type validator interface{ Validate() error }

// Translate builds every xDS resource of g. ClusterLoadAssignments come
// from idx (EndpointSlices, or Endpoints when a Service has no slices). The
// findings say which endpoint source was chosen when both existed. An error
// means a resource failed Envoy's validation: an Isobar bug, never the
// user's input.
func Translate(g *graph.Graph, idx *source.Index) (*xds.Resources, []status.Finding, error) {
	t := &translator{g: g, idx: idx, clusters: map[string]*graph.Cluster{}, secrets: map[string]*graph.Secret{},
		names: map[*graph.Cluster]string{}, metadata: map[status.Ref]*corev3.Metadata{}}
	res := &xds.Resources{}
	res.Routes = t.routeConfigurations()
	res.Listeners = t.listeners()
	res.Clusters = t.clusterResources()
	res.Endpoints = t.endpoints()
	res.Secrets = t.secretResources()
	res.Sort()
	if err := validate(res); err != nil {
		return nil, nil, err
	}
	return res, t.findings, nil
}

type translator struct {
	g        *graph.Graph
	idx      *source.Index
	clusters map[string]*graph.Cluster // by Envoy name
	secrets  map[string]*graph.Secret  // by SDS name
	findings []status.Finding
	// names memoises ClusterName; metadata shares one (immutable) source
	// metadata message between the routes of an object.
	names    map[*graph.Cluster]string
	metadata map[status.Ref]*corev3.Metadata
}

// cluster registers c and returns its Envoy name.
func (t *translator) cluster(c *graph.Cluster) string {
	name, ok := t.names[c]
	if !ok {
		name = ClusterName(c)
		t.names[c] = name
	}
	if _, ok := t.clusters[name]; !ok {
		t.clusters[name] = c
	}
	return name
}

// secret registers s and returns its SDS name.
func (t *translator) secret(s *graph.Secret) string {
	name := SecretName(s)
	t.secrets[name] = s
	return name
}

func (t *translator) clusterResources() []*clusterv3.Cluster {
	names := make([]string, 0, len(t.clusters))
	for n := range t.clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*clusterv3.Cluster, 0, len(names))
	for _, n := range names {
		out = append(out, clusterResource(n, t.clusters[n]))
	}
	return out
}

// validate runs Envoy's validation on every resource.
func validate(res *xds.Resources) error {
	check := func(kind, name string, v validator) error {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%s %q is not valid (this is an Isobar bug): %w", kind, name, err)
		}
		return nil
	}
	for _, r := range res.Listeners {
		if err := check("listener", r.GetName(), r); err != nil {
			return err
		}
	}
	for _, r := range res.Routes {
		if err := check("route configuration", r.GetName(), r); err != nil {
			return err
		}
	}
	for _, r := range res.Clusters {
		if err := check("cluster", r.GetName(), r); err != nil {
			return err
		}
	}
	for _, r := range res.Endpoints {
		if err := check("cluster load assignment", r.GetClusterName(), r); err != nil {
			return err
		}
	}
	for _, r := range res.Secrets {
		if err := check("secret", r.GetName(), r); err != nil {
			return err
		}
	}
	return nil
}
