package translate

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
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
	// FallbackRoutes is the route configuration of the fallback
	// certificate's filter chain: the virtual hosts of every host that
	// enabled it.
	FallbackRoutes = "ingress_fallbackcert"
	// FallbackChain names ingress_https's filter chain for TLS clients
	// that send no server name, present when a host enabled the fallback
	// certificate.
	FallbackChain = "fallback-certificate"
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
		names: map[*graph.Cluster]string{}, sources: newSourceMemo(len(g.VirtualHosts)+len(g.SecureVirtualHosts), kit.sourceMetadata), kit: kit, rateLimit: g.RateLimit}
	res := &xds.Resources{}
	res.Routes = t.routeConfigurations()
	res.SortRoutes() // checked from now on, in the order of the result
	routesChecked := startValidation(routeValidationItems(res.Routes))
	res.Listeners = t.listeners()
	for _, c := range g.Extensions {
		t.cluster(c)
	}
	if s := g.ClientCertificate; s != nil { // sent even before a cluster names it: Update may add one
		t.secret(s)
	}
	var keys []edsKey
	res.Clusters, keys = t.clusterResources(sortedKeys(t.clusters))
	res.Endpoints = t.endpoints(keys)
	res.Secrets = t.secretResources()
	res.Sort()
	if err := validateResources(res, routesChecked); err != nil {
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
	// names memoises ClusterName; sources shares one (immutable) source
	// name and metadata message between the routes of an object, in all
	// the forks of a translation.
	names   map[*graph.Cluster]string
	sources *sourceMemo
	// lastSource and last skip the map for consecutive routes of one
	// object.
	lastSource status.Ref
	last       routeSource
	// kit is what every connection manager and TCP proxy shares.
	kit listenerKit
	// rateLimit, when set, is the rate limit service every connection
	// manager asks (Graph.RateLimit).
	rateLimit *graph.GlobalRateLimit
	// log, in a fork of forEachForked, records its registrations.
	log *forkLog
	// headerMemo holds the message of each header condition met
	// (headerMatcher).
	headerMemo map[graph.HeaderMatch]*routev3.HeaderMatcher
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
		if t.log != nil {
			t.log.clusters = append(t.log.clusters, namedCluster{name, c})
		}
	}
	return name
}

// secret registers s and returns its SDS name.
func (t *translator) secret(s *graph.Secret) string {
	name := SecretName(s)
	t.secrets[name] = s
	if t.log != nil {
		t.log.secrets = append(t.log.secrets, namedSecret{name, s})
	}
	return name
}

// clusterResources builds the clusters called names (sorted) and, with
// each, what planning its assignment reads of it (edsKeyOf), in the same
// order.
func (t *translator) clusterResources(names []string) ([]*clusterv3.Cluster, []edsKey) {
	out := make([]*clusterv3.Cluster, len(names))
	keys := make([]edsKey, len(names))
	parallel.For(len(names), minParallelHosts, func(i int) {
		c := t.clusters[names[i]]
		out[i] = clusterResource(names[i], c)
		keys[i] = edsKeyOf(c, out[i])
	})
	return out, keys
}
