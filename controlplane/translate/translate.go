package translate

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

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
	res.Listeners = t.listeners()
	for _, c := range g.Extensions {
		t.cluster(c)
	}
	if s := g.ClientCertificate; s != nil { // sent even before a cluster names it: Update may add one
		t.secret(s)
	}
	clusterNames := sortedKeys(t.clusters)
	res.Clusters = t.clusterResources(clusterNames)
	res.Endpoints = t.endpoints(clusterNames, res.Clusters)
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
	items := validationItems(res)
	errs := make([]error, len(items))
	parallel.Workers(len(items), 256, func() func(int) {
		var scratch []*corev3.Metadata
		return func(i int) {
			if vh, ok := items[i].v.(*routev3.VirtualHost); ok {
				errs[i] = validateVirtualHost(vh, &scratch)
			} else {
				errs[i] = items[i].v.Validate()
			}
		}
	})
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("%s is not valid (this is an Isobar bug): %w", items[i].describe(res), err)
		}
	}
	return nil
}

// validateVirtualHost is vh.Validate(), except that each source metadata
// message, which the routes of an object share, is validated once rather
// than once per route: the routes' metadata are set aside (in *scratch,
// reused from host to host) while vh is validated, then put back. vh is
// not handed out yet and validate checks each of its routes on one
// goroutine, so nothing else reads the routes meanwhile; a route without
// metadata (such as those of the shared catch-all host) is not written.
func validateVirtualHost(vh *routev3.VirtualHost, scratch *[]*corev3.Metadata) error {
	routes := vh.GetRoutes()
	saved := (*scratch)[:0]
	var last *corev3.Metadata
	var err error
	for i, r := range routes {
		md := r.GetMetadata()
		saved = append(saved, md)
		if md == nil {
			continue
		}
		if md != last && err == nil {
			if e := md.Validate(); e != nil {
				err = fmt.Errorf("route %d metadata: %w", i, e)
			}
			last = md
		}
		r.Metadata = nil
	}
	if e := vh.Validate(); err == nil {
		err = e
	}
	for i, md := range saved {
		if md != nil {
			routes[i].Metadata = md
		}
	}
	*scratch = saved
	return err
}

// validationItem is one message validate checks: a whole resource, or a
// virtual host of route configuration res.Routes[routes] (checked on its
// own so that ingress_http, which holds most of them, is spread over the
// workers; its configuration is then checked without them).
type validationItem struct {
	v      validator
	routes int // -1 unless v is a virtual host
}

// validationItems lists the messages of res in resource order. The shared
// catch-all host of the https/<fqdn> configurations is listed once, and
// the hosts of ingress_fallbackcert (theirs too) not again: validate may
// check two items at once, and checking a host writes its routes.
func validationItems(res *xds.Resources) []validationItem {
	n := len(res.Listeners) + len(res.Clusters) + len(res.Endpoints) + len(res.Secrets)
	for _, r := range res.Routes {
		n += 1 + len(r.GetVirtualHosts())
	}
	items := make([]validationItem, 0, n)
	for _, r := range res.Listeners {
		items = append(items, validationItem{r, -1})
	}
	shells := make([]routev3.RouteConfiguration, len(res.Routes))
	listed := false // misdirected
	for i, r := range res.Routes {
		shells[i].Name, shells[i].RequestHeadersToAdd = r.GetName(), r.GetRequestHeadersToAdd()
		items = append(items, validationItem{&shells[i], -1})
		if r.GetName() == FallbackRoutes {
			continue // its hosts are those of https/<fqdn> configurations, checked there
		}
		for _, vh := range r.GetVirtualHosts() {
			if isMisdirected(vh) {
				if listed {
					continue
				}
				listed = true
			}
			items = append(items, validationItem{vh, i})
		}
	}
	for _, r := range res.Clusters {
		items = append(items, validationItem{r, -1})
	}
	for _, r := range res.Endpoints {
		items = append(items, validationItem{r, -1})
	}
	for _, r := range res.Secrets {
		items = append(items, validationItem{r, -1})
	}
	return items
}

// describe names the item for an error message.
func (it validationItem) describe(res *xds.Resources) string {
	switch m := it.v.(type) {
	case *listenerv3.Listener:
		return fmt.Sprintf("listener %q", m.GetName())
	case *routev3.RouteConfiguration:
		return fmt.Sprintf("route configuration %q", m.GetName())
	case *routev3.VirtualHost:
		return fmt.Sprintf("route configuration %s virtual host %q", res.Routes[it.routes].GetName(), m.GetName())
	case *clusterv3.Cluster:
		return fmt.Sprintf("cluster %q", m.GetName())
	case *endpointv3.ClusterLoadAssignment:
		return fmt.Sprintf("cluster load assignment %q", m.GetClusterName())
	case *tlsv3.Secret:
		return fmt.Sprintf("secret %q", m.GetName())
	}
	return fmt.Sprintf("%T", it.v)
}
