package controlplane

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"k8s.io/apimachinery/pkg/types"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/translate"
)

// Compiler compiles an index and keeps what it built, so that a later
// index in which only HTTPProxies changed is compiled by redoing only the
// hosts those changes can reach: the hosts they claimed or claim, and the
// hosts whose include trees looked them up. Every result equals what
// Compile returns for the same index; resources that did not change are
// the same pointers as in the previous result, which lets the xDS server
// skip them. Hosts that an IngressRoute or an Ingress also names or that
// enable the fallback certificate, and every other kind of change, take a
// full compile.
//
// Its results carry no Graph: the graph is dropped once translated, to keep
// a live server's memory down. A Compiler is not safe for concurrent use.
type Compiler struct {
	opts Options
	idx  *source.Index
	last *Result
	// pinned are the hosts that need a full compile (graph.Parts.Pinned).
	pinned map[string]bool
	hosts  map[string]*hostState
	// readers lists, per HTTPProxy, the hosts whose walks looked it up;
	// claimants, per fqdn, the HTTPProxies validly claiming it.
	// Both sorted (see setAdd, setDelete).
	readers   map[types.NamespacedName][]string
	claimants map[string][]types.NamespacedName
	ledger    *status.Ledger
	// rateLimit is the last full build's rate limit service
	// (graph.Graph.RateLimit): only a full build resolves it, since a
	// change to an ExtensionService needs one.
	rateLimit *graph.GlobalRateLimit
	// conn is the last full build's connection settings
	// (graph.Graph.Connections): the options' with the tracing
	// collector resolved, which only a full build does.
	conn     graph.Connections
	clusters map[string]*clusterUse
	eds      map[string]*edsUse
	secrets  map[string]*secretUse
	// services lists, per Service, the ClusterLoadAssignments of its ports
	// that some cluster uses, sorted.
	services map[types.NamespacedName][]string
	// fulls counts full compiles.
	fulls int
}

// hostState is one host's part (its report, reads and claimants; its
// virtual hosts are dropped once translated) and its translation, whose
// cluster and secret maps are replaced by the sorted names in clusters and
// secrets: all that releasing the host needs, in a slice where a map of
// one or two names took 250 bytes or more (10,000 hosts at S10k).
type hostState struct {
	part              *graph.HostPart
	tr                *translate.Host
	clusters, secrets []string
}

// newHostState is the state of a host whose part is translated as tr; it
// takes tr's cluster and secret maps (the caller counted their uses).
func newHostState(part *graph.HostPart, tr *translate.Host) *hostState {
	h := &hostState{part: part, tr: tr}
	if tr != nil {
		h.clusters, h.secrets = slices.Sorted(maps.Keys(tr.Clusters)), slices.Sorted(maps.Keys(tr.Secrets))
		tr.Clusters, tr.Secrets = nil, nil
	}
	return h
}

// clusterUse is a cluster with the number of units (hosts, and the rest of
// the configuration as one) that refer to it.
type clusterUse struct {
	c     *graph.Cluster
	res   *clusterv3.Cluster
	eds   string // its ClusterLoadAssignment; "" for ExternalName
	users int
}

type edsUse struct {
	c     *graph.Cluster
	cla   *endpointv3.ClusterLoadAssignment
	users int
}

type secretUse struct {
	res   *tlsv3.Secret
	users int
}

// Unit names in the status ledger.
const (
	unitBase    = "base"
	unitProxy   = "proxy/"
	unitHost    = "host/"
	unitService = "service/"
	// unitTranslate holds translation findings other than endpoint sources.
	unitTranslate = "translate"
)

// NewCompiler returns a Compiler with no previous result.
func NewCompiler(opts Options) *Compiler { return &Compiler{opts: opts} }

// FullCompiles returns how many full compiles c has made, Update's
// fallbacks included.
func (c *Compiler) FullCompiles() int { return c.fulls }

// Last returns the latest result, nil before the first compile or after a
// failed one.
func (c *Compiler) Last() *Result { return c.last }

// CompileAt is Compile with certificates checked at now (Options.Now); the
// Updates that follow use the same time, so that each still equals a full
// compile with c's options.
func (c *Compiler) CompileAt(idx *source.Index, now time.Time) (*Result, error) {
	c.opts.Now = now
	return c.Compile(idx)
}

// Compile compiles idx from scratch and keeps what it needs for Update.
func (c *Compiler) Compile(idx *source.Index) (*Result, error) {
	c.last = nil
	c.fulls++
	g, parts := graph.BuildParts(idx, c.opts.Options)
	tr, err := translate.TranslateAll(g, idx)
	if err != nil {
		return nil, err
	}
	consistent := make(chan error, 1)
	go func() { consistent <- snapshot.Consistent(tr.Resources) }() // while the units are recorded
	c.idx, c.pinned, c.rateLimit, c.conn = idx, parts.Pinned, g.RateLimit, g.Connections
	for name, vh := range g.SecureVirtualHosts {
		if vh.Fallback != nil { // ingress_fallbackcert holds several hosts
			c.pinned[name] = true
		}
	}
	c.hosts, c.readers, c.claimants = map[string]*hostState{}, map[types.NamespacedName][]string{}, map[string][]types.NamespacedName{}
	c.ledger = status.NewLedger()
	c.ledger.Set(unitBase, parts.Base)
	for key, r := range parts.Proxies {
		c.ledger.Set(unitProxy+key.String(), r)
	}
	names := make(map[string]bool, len(parts.Hosts))
	for fqdn, part := range parts.Hosts {
		names[fqdn] = true
		c.ledger.Set(unitHost+fqdn, part.Report)
		c.addReads(fqdn, part.Reads)
		for _, k := range part.Claimants {
			c.claim(fqdn, k)
		}
	}
	split, rest := translate.Split(tr, g, names)
	err = c.countUses(tr, split, rest)
	for fqdn, part := range parts.Hosts {
		part.Insecure, part.Secure = nil, nil // translated: let the graph go
		c.hosts[fqdn] = newHostState(part, split[fqdn])
	}
	if cerr := <-consistent; cerr != nil {
		return nil, fmt.Errorf("inconsistent resources (this is an Isobar bug): %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	c.last = &Result{Resources: tr.Resources, Statuses: c.ledger.Objects(), Findings: c.ledger.Findings()}
	return c.last, nil
}

// countUses fills the cluster, endpoint and secret registries from a full
// translation split by host.
func (c *Compiler) countUses(tr *translate.Translation, split map[string]*translate.Host, rest *translate.Host) error {
	c.clusters, c.eds, c.secrets = map[string]*clusterUse{}, map[string]*edsUse{}, map[string]*secretUse{}
	c.services = map[types.NamespacedName][]string{}
	for _, r := range tr.Resources.Clusters {
		c.clusters[r.GetName()] = &clusterUse{c: tr.Clusters[r.GetName()], res: r}
	}
	for _, r := range tr.Resources.Endpoints {
		c.eds[r.GetClusterName()] = &edsUse{cla: r}
	}
	for _, r := range tr.Resources.Secrets {
		c.secrets[r.GetName()] = &secretUse{res: r}
	}
	count := func(h *translate.Host) error {
		for name := range h.Clusters {
			u, ok := c.clusters[name]
			if !ok {
				return fmt.Errorf("cluster %q is referred to but was not built (this is an Isobar bug)", name)
			}
			u.users++
		}
		for name := range h.Secrets {
			u, ok := c.secrets[name]
			if !ok {
				return fmt.Errorf("secret %q is referred to but was not built (this is an Isobar bug)", name)
			}
			u.users++
		}
		return nil
	}
	if err := count(rest); err != nil {
		return err
	}
	for _, h := range split {
		if err := count(h); err != nil {
			return err
		}
	}
	for name, u := range c.clusters {
		if u.users == 0 {
			return fmt.Errorf("cluster %q is built but nothing refers to it (this is an Isobar bug)", name)
		}
		if u.c.ExternalName != "" {
			continue
		}
		u.eds = translate.ClusterEDSName(u.c)
		e := c.eds[u.eds]
		e.c, e.users = u.c, e.users+1
		c.useService(u.c, u.eds)
	}
	// useService noted each Service's endpoint findings; anything else
	// translation finds is kept as is (there is nothing else today).
	other := status.NewReport()
	for _, f := range tr.Findings {
		if !translate.EndpointFinding(f.Code) {
			other.Find(f)
		}
	}
	c.ledger.Set(unitTranslate, other)
	return nil
}

// Update compiles idx, which differs from the index of the last result
// only in the HTTPProxies named in changed (added, changed or deleted). It
// takes a full compile when there is no last result or a change reaches a
// host that something other than HTTPProxies names.
func (c *Compiler) Update(idx *source.Index, changed []types.NamespacedName) (*Result, error) {
	if c.last == nil {
		return c.Compile(idx)
	}
	dirty, proxies, ok := c.dirtyHosts(idx, changed)
	if !ok {
		return c.Compile(idx)
	}
	for _, pc := range proxies {
		if pc.was != "" {
			setDelete(c.claimants, pc.was, pc.key, source.CompareKeys)
		}
		if pc.now != "" {
			c.claim(pc.now, pc.key)
		}
		if pc.p == nil {
			c.ledger.Set(unitProxy+pc.key.String(), nil)
		} else {
			c.ledger.Set(unitProxy+pc.key.String(), graph.ProxyPart(pc.p, c.opts.Options))
		}
	}
	c.idx = idx
	ch := newChanges()
	for _, fqdn := range dirty {
		var claimants []*contourv1.HTTPProxy
		for _, k := range c.claimants[fqdn] {
			p, _ := idx.HTTPProxies.Get(k)
			claimants = append(claimants, p)
		}
		if err := c.setHost(fqdn, graph.BuildHost(idx, c.opts.Options, fqdn, claimants), ch); err != nil {
			c.last = nil
			return nil, err
		}
	}
	res, err := c.assemble(ch)
	if err != nil {
		c.last = nil
		return nil, err
	}
	c.last = &Result{Resources: res, Statuses: c.ledger.Objects(), Findings: c.ledger.Findings()}
	return c.last, nil
}

// proxyChange is one changed HTTPProxy: its new object (nil when deleted)
// and the fqdn it validly claimed and claims ("" for none).
type proxyChange struct {
	key      types.NamespacedName
	p        *contourv1.HTTPProxy
	was, now string
}

// dirtyHosts returns, sorted, the hosts the changed HTTPProxies claimed,
// claim or were looked up by, and the changes themselves; ok is false when
// one of those hosts is pinned or a changed HTTPProxy enables (or enabled)
// the fallback certificate.
func (c *Compiler) dirtyHosts(idx *source.Index, changed []types.NamespacedName) ([]string, []proxyChange, bool) {
	dirty := map[string]bool{}
	var proxies []proxyChange
	for _, k := range changed {
		p0, _ := c.idx.HTTPProxies.Get(k)
		p1, _ := idx.HTTPProxies.Get(k)
		if p0 == p1 {
			continue
		}
		if enablesFallback(p0) || enablesFallback(p1) {
			return nil, nil, false
		}
		pc := proxyChange{key: k, p: p1}
		pc.was, _ = c.claimOf(p0)
		pc.now, _ = c.claimOf(p1)
		proxies = append(proxies, pc)
		for _, fqdn := range []string{pc.was, pc.now} {
			if fqdn != "" {
				dirty[fqdn] = true
			}
		}
		for _, fqdn := range c.readers[k] {
			dirty[fqdn] = true
		}
	}
	out := make([]string, 0, len(dirty))
	for fqdn := range dirty {
		if c.pinned[fqdn] {
			return nil, nil, false
		}
		out = append(out, fqdn)
	}
	sort.Strings(out)
	return out, proxies, true
}

// enablesFallback reports whether p (which may be absent) enables the
// fallback certificate: its host then shares ingress_fallbackcert and the
// fallback chain with the others that do, which only a full compile builds.
func enablesFallback(p *contourv1.HTTPProxy) bool {
	return p != nil && p.Spec.VirtualHost != nil && p.Spec.VirtualHost.TLS != nil && p.Spec.VirtualHost.TLS.EnableFallbackCertificate
}

// claimOf is graph.ClaimOf for a proxy that may be absent.
func (c *Compiler) claimOf(p *contourv1.HTTPProxy) (string, bool) {
	if p == nil {
		return "", false
	}
	return graph.ClaimOf(p, c.opts.Options)
}

func (c *Compiler) claim(fqdn string, k types.NamespacedName) {
	c.claimants[fqdn] = setAdd(c.claimants[fqdn], k, source.CompareKeys)
}

func (c *Compiler) addReads(fqdn string, reads []types.NamespacedName) {
	for _, k := range reads {
		c.readers[k] = setAdd(c.readers[k], fqdn, strings.Compare)
	}
}
