package translate

import (
	"fmt"
	"runtime"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/parallel"
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
	tr, err := TranslateAll(g, idx)
	if err != nil {
		return nil, nil, err
	}
	return tr.Resources, tr.Findings, nil
}

// TranslateAll is Translate, with the cluster registry.
func TranslateAll(g *graph.Graph, idx *source.Index) (*Translation, error) {
	kit, err := kitFor(g.AccessLog, g.Connections)
	if err != nil {
		return nil, err
	}
	t := &translator{g: g, idx: idx, clusters: map[string]*graph.Cluster{}, secrets: map[string]*graph.Secret{},
		names: map[*graph.Cluster]string{}, metadata: map[status.Ref]*corev3.Metadata{}, kit: kit, rateLimit: g.RateLimit}
	res := &xds.Resources{}
	res.Routes = t.routeConfigurations()
	res.Listeners = t.listeners()
	for _, c := range g.Extensions {
		t.cluster(c)
	}
	clusterNames := sortedKeys(t.clusters)
	res.Clusters = t.clusterResources(clusterNames)
	res.Endpoints = t.endpoints(clusterNames)
	res.Secrets = t.secretResources()
	res.Sort()
	if err := validate(res); err != nil {
		return nil, err
	}
	return &Translation{Resources: res, Findings: t.findings, Clusters: t.clusters}, nil
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
	// lastSource and lastMetadata skip the map for consecutive routes of
	// one object.
	lastSource   status.Ref
	lastMetadata *corev3.Metadata
	// kit is what every connection manager and TCP proxy shares.
	kit listenerKit
	// rateLimit, when set, is the rate limit service every connection
	// manager asks (Graph.RateLimit).
	rateLimit *graph.GlobalRateLimit
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

// clusterResources builds the clusters called names (sorted).
func (t *translator) clusterResources(names []string) []*clusterv3.Cluster {
	out := make([]*clusterv3.Cluster, len(names))
	parallel.For(len(names), minParallelHosts, func(i int) { out[i] = clusterResource(names[i], t.clusters[names[i]]) })
	return out
}

// validate runs Envoy's validation on every resource, spread over the
// available CPUs. The error reported is the first in resource order, so the
// answer does not depend on scheduling.
func validate(res *xds.Resources) error {
	type item struct {
		kind, name string
		v          validator
	}
	items := make([]item, 0, len(res.Listeners)+len(res.Routes)+len(res.Clusters)+len(res.Endpoints)+len(res.Secrets))
	for _, r := range res.Listeners {
		items = append(items, item{"listener", r.GetName(), r})
	}
	for _, r := range res.Routes {
		// Each virtual host is checked on its own so that ingress_http,
		// which holds most of them, is spread over the workers too; the
		// configuration is checked without them.
		items = append(items, item{"route configuration", r.GetName(),
			&routev3.RouteConfiguration{Name: r.GetName(), RequestHeadersToAdd: r.GetRequestHeadersToAdd()}})
		for _, vh := range r.GetVirtualHosts() {
			items = append(items, item{"route configuration " + r.GetName() + " virtual host", vh.GetName(), vh})
		}
	}
	for _, r := range res.Clusters {
		items = append(items, item{"cluster", r.GetName(), r})
	}
	for _, r := range res.Endpoints {
		items = append(items, item{"cluster load assignment", r.GetClusterName(), r})
	}
	for _, r := range res.Secrets {
		items = append(items, item{"secret", r.GetName(), r})
	}
	errs := make([]error, len(items))
	workers := min(runtime.GOMAXPROCS(0), 1+len(items)/256)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(items); i += workers {
				errs[i] = items[i].v.Validate()
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("%s %q is not valid (this is an Isobar bug): %w", items[i].kind, items[i].name, err)
		}
	}
	return nil
}
