package controlplane

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/translate"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// changes collects, by name, what one Update replaces; a nil value
// removes.
type changes struct {
	insecure  map[string]*routev3.VirtualHost
	routes    map[string]*routev3.RouteConfiguration
	chains    map[string]*listenerv3.FilterChain
	clusters  map[string]*clusterv3.Cluster
	endpoints map[string]*endpointv3.ClusterLoadAssignment
	secrets   map[string]*tlsv3.Secret
}

func newChanges() *changes {
	return &changes{insecure: map[string]*routev3.VirtualHost{}, routes: map[string]*routev3.RouteConfiguration{},
		chains: map[string]*listenerv3.FilterChain{}, clusters: map[string]*clusterv3.Cluster{},
		endpoints: map[string]*endpointv3.ClusterLoadAssignment{}, secrets: map[string]*tlsv3.Secret{}}
}

// setHost replaces the part of fqdn (nil: the host is gone) in the graph,
// the ledger and the registries, recording what changes in ch.
func (c *Compiler) setHost(fqdn string, part *graph.HostPart, ch *changes) error {
	old := c.hosts[fqdn]
	if old != nil {
		for _, k := range old.part.Reads {
			setDelete(c.readers, k, fqdn, strings.Compare)
		}
	}
	var tr *translate.Host
	if part == nil {
		delete(c.hosts, fqdn)
		c.ledger.Set(unitHost+fqdn, nil)
	} else {
		c.addReads(fqdn, part.Reads)
		c.ledger.Set(unitHost+fqdn, part.Report)
		var err error
		if tr, err = translate.TranslateHost(c.idx, part.Insecure, part.Secure, c.opts.AccessLog, c.conn, c.rateLimit); err != nil {
			return err
		}
		part.Insecure, part.Secure = nil, nil // translated: let the graph go
		if old != nil && old.tr != nil {
			keepEqual(&tr.Insecure, old.tr.Insecure)
			keepEqual(&tr.Routes, old.tr.Routes)
			keepEqual(&tr.Chain, old.tr.Chain)
		}
		if err := c.acquire(tr, ch); err != nil {
			return err
		}
		c.hosts[fqdn] = newHostState(part, tr)
	}
	if old != nil {
		c.release(old, ch)
	}
	if tr == nil {
		tr = &translate.Host{}
	}
	var was translate.Host
	if old != nil && old.tr != nil {
		was = *old.tr
	}
	if tr.Insecure != was.Insecure {
		ch.insecure[translate.VirtualHostName(fqdn)] = tr.Insecure
	}
	if tr.Routes != was.Routes {
		ch.routes[translate.HTTPSRoutesPrefix+fqdn] = tr.Routes
	}
	if tr.Chain != was.Chain {
		ch.chains[fqdn] = tr.Chain
	}
	return nil
}

// keepEqual replaces *m by was when both have the same content, so that
// what did not change keeps its pointer.
func keepEqual[T proto.Message](m *T, was T) {
	if xds.Equal(*m, was) {
		*m = was
	}
}

// keepUnchanged replaces each change whose content equals the entry of the
// same name in list (sorted by name) by that entry.
func keepUnchanged[T interface {
	comparable
	proto.Message
}](list []T, changes map[string]T, name func(T) string) {
	var zero T
	for k, v := range changes {
		if v == zero {
			continue
		}
		i := sort.Search(len(list), func(i int) bool { return name(list[i]) >= k })
		if i < len(list) && name(list[i]) == k && xds.Equal(list[i], v) {
			changes[k] = list[i]
		}
	}
}

// acquire counts one more user of what h refers to, building what is new.
func (c *Compiler) acquire(h *translate.Host, ch *changes) error {
	for _, name := range slices.Sorted(maps.Keys(h.Clusters)) {
		if u, ok := c.clusters[name]; ok {
			u.users++
			continue
		}
		gc := h.Clusters[name]
		res, err := translate.ClusterResource(name, gc)
		if err != nil {
			return err
		}
		u := &clusterUse{c: gc, res: res, users: 1}
		c.clusters[name], ch.clusters[name] = u, res
		if gc.ExternalName == "" {
			u.eds = translate.ClusterEDSName(gc)
			if err := c.useEDS(u.eds, gc, ch); err != nil {
				return err
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(h.Secrets)) {
		if u, ok := c.secrets[name]; ok {
			u.users++
			continue
		}
		res, err := translate.SecretResource(name, h.Secrets[name])
		if err != nil {
			return err
		}
		c.secrets[name], ch.secrets[name] = &secretUse{res: res, users: 1}, res
	}
	return nil
}

// useEDS counts one more cluster using the ClusterLoadAssignment name.
func (c *Compiler) useEDS(name string, gc *graph.Cluster, ch *changes) error {
	if e, ok := c.eds[name]; ok {
		e.users++
		return nil
	}
	cla := translate.ClusterEndpoints(c.idx, gc)
	if err := cla.Validate(); err != nil {
		return fmt.Errorf("cluster load assignment %q is not valid (this is an Isobar bug): %w", name, err)
	}
	c.eds[name], ch.endpoints[name] = &edsUse{c: gc, cla: cla, users: 1}, cla
	c.useService(gc, name)
	return nil
}

// release counts one user less of what h refers to, dropping what nothing
// uses any more.
func (c *Compiler) release(h *hostState, ch *changes) {
	for _, name := range h.clusters {
		u := c.clusters[name]
		if u.users--; u.users > 0 {
			continue
		}
		delete(c.clusters, name)
		ch.clusters[name] = nil
		if u.eds == "" {
			continue
		}
		e := c.eds[u.eds]
		if e.users--; e.users > 0 {
			continue
		}
		delete(c.eds, u.eds)
		ch.endpoints[u.eds] = nil
		for _, name := range translate.ClusterServices(e.c) {
			svc := source.Key(e.c.Namespace, name)
			if setDelete(c.services, svc, u.eds, strings.Compare) {
				c.ledger.Set(unitService+svc.String(), nil)
			}
		}
	}
	for _, name := range h.secrets {
		u := c.secrets[name]
		if u.users--; u.users == 0 {
			delete(c.secrets, name)
			ch.secrets[name] = nil
		}
	}
}

// useService records that a cluster uses the assignment eds of gc's
// Services (one, or an ExtensionService's), noting each Service's
// endpoint source when it is new.
func (c *Compiler) useService(gc *graph.Cluster, eds string) {
	for _, name := range translate.ClusterServices(gc) {
		svc := source.Key(gc.Namespace, name)
		if c.services[svc] == nil {
			c.noteEndpointSource(svc)
		}
		c.services[svc] = setAdd(c.services[svc], eds, strings.Compare)
	}
}

// noteEndpointSource sets the ledger unit of a used Service: what its
// endpoints have to say (translate.EndpointFindings).
func (c *Compiler) noteEndpointSource(svc types.NamespacedName) {
	fs := translate.EndpointFindings(c.idx, svc.Namespace, svc.Name)
	if len(fs) == 0 {
		c.ledger.Set(unitService+svc.String(), nil)
		return
	}
	r := status.NewReport()
	for _, f := range fs {
		r.Find(f)
	}
	c.ledger.Set(unitService+svc.String(), r)
}

// assemble applies ch to the last resources; unchanged resources stay the
// same pointers.
func (c *Compiler) assemble(ch *changes) (*xds.Resources, error) {
	old := c.last.Resources
	res := &xds.Resources{}
	if len(ch.insecure) > 0 {
		for _, rc := range old.Routes {
			if rc.GetName() == translate.HTTPRoutes {
				vhs := patch(rc.GetVirtualHosts(), ch.insecure, (*routev3.VirtualHost).GetName)
				ch.routes[translate.HTTPRoutes] = translate.RouteConfiguration(translate.HTTPRoutes, vhs)
			}
		}
	}
	res.Routes = patch(old.Routes, ch.routes, (*routev3.RouteConfiguration).GetName)
	listeners := map[string]*listenerv3.Listener{}
	if len(ch.chains) > 0 {
		var chains, fallback []*listenerv3.FilterChain
		for _, l := range old.Listeners {
			if l.GetName() == translate.HTTPSListener {
				chains = l.GetFilterChains()
			}
		}
		// The fallback chain, last and named for no host, is no host's
		// (a change reaching it takes a full compile): kept as is.
		if n := len(chains); n > 0 && chains[n-1].GetName() == translate.FallbackChain {
			chains, fallback = chains[:n-1:n-1], chains[n-1:]
		}
		l, err := translate.HTTPSListenerOf(c.opts.Defaults().HTTPSPort, c.opts.Connections, append(patch(chains, ch.chains, serverName), fallback...))
		if err != nil {
			return nil, err
		}
		listeners[translate.HTTPSListener] = l
	}
	res.Listeners = patch(old.Listeners, listeners, (*listenerv3.Listener).GetName)
	// A cluster, assignment or secret one host dropped and another took
	// within this update is rebuilt: keep the one the last result holds.
	keepUnchanged(old.Clusters, ch.clusters, (*clusterv3.Cluster).GetName)
	keepUnchanged(old.Endpoints, ch.endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName)
	keepUnchanged(old.Secrets, ch.secrets, (*tlsv3.Secret).GetName)
	for name, cla := range ch.endpoints {
		if cla != nil {
			c.eds[name].cla = cla
		}
	}
	res.Clusters = patch(old.Clusters, ch.clusters, (*clusterv3.Cluster).GetName)
	res.Endpoints = patch(old.Endpoints, ch.endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName)
	res.Secrets = patch(old.Secrets, ch.secrets, (*tlsv3.Secret).GetName)
	return res, nil
}

func serverName(fc *listenerv3.FilterChain) string {
	return fc.GetFilterChainMatch().GetServerNames()[0]
}

// patch returns list (sorted by name) with changes applied: a zero value
// removes the entry of that name, another replaces or inserts it. list
// itself is not modified; with no change it is returned as is.
func patch[T comparable](list []T, changes map[string]T, name func(T) string) []T {
	if len(changes) == 0 {
		return list
	}
	keys := slices.Sorted(maps.Keys(changes))
	var zero T
	out := make([]T, 0, len(list)+len(keys))
	i := 0
	for _, k := range keys {
		for i < len(list) && name(list[i]) < k {
			out = append(out, list[i])
			i++
		}
		if i < len(list) && name(list[i]) == k {
			i++
		}
		if v := changes[k]; v != zero {
			out = append(out, v)
		}
	}
	return append(out, list[i:]...)
}

// Endpoints rebuilds the ClusterLoadAssignments of services, whose
// endpoints are the only thing that changed in idx since the last result,
// and returns those whose content changed. The last result is updated.
func (c *Compiler) Endpoints(idx *source.Index, services []types.NamespacedName) ([]*endpointv3.ClusterLoadAssignment, error) {
	if c.last == nil {
		return nil, fmt.Errorf("no previous result")
	}
	c.idx = idx
	ch := map[string]*endpointv3.ClusterLoadAssignment{}
	for _, svc := range services {
		names := c.services[svc]
		for _, name := range names {
			e := c.eds[name]
			cla := translate.ClusterEndpoints(idx, e.c)
			if err := cla.Validate(); err != nil {
				return nil, fmt.Errorf("cluster load assignment %q is not valid (this is an Isobar bug): %w", name, err)
			}
			ch[name] = cla
		}
		if len(names) > 0 {
			c.noteEndpointSource(svc)
		}
	}
	res := *c.last.Resources
	keepUnchanged(res.Endpoints, ch, (*endpointv3.ClusterLoadAssignment).GetClusterName)
	var out []*endpointv3.ClusterLoadAssignment
	for _, name := range slices.Sorted(maps.Keys(ch)) {
		if e := c.eds[name]; e.cla != ch[name] {
			e.cla = ch[name]
			out = append(out, e.cla)
		} else {
			delete(ch, name)
		}
	}
	res.Endpoints = patch(res.Endpoints, ch, (*endpointv3.ClusterLoadAssignment).GetClusterName)
	c.last = &Result{Resources: &res, Statuses: c.last.Statuses, Findings: c.ledger.Findings()}
	return out, nil
}
