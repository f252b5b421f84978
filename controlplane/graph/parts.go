package graph

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Parts is a build split into units that depend on different inputs, so
// that a later build can redo only the units a change touches. Merging the
// reports of every unit gives the Report Build returns for the same index.
type Parts struct {
	// Base is what the build said outside the other units: index notes,
	// IngressRoutes, Ingresses, host claims an IngressRoute takes part in.
	Base *status.Report
	// Proxies holds, per HTTPProxy, what is said of that object alone: that
	// it is tracked (orphaned unless a root reaches it), ignored for its
	// class, or a root that cannot claim its fqdn.
	Proxies map[types.NamespacedName]*status.Report
	// Hosts holds a part per fqdn that a root HTTPProxy validly claims.
	Hosts map[string]*HostPart
	// Pinned are the hosts IngressRoutes claim or Ingress rules name: their
	// parts depend on more than HTTPProxies, so a change to them needs a
	// full build.
	Pinned map[string]bool
}

// HostPart is what one fqdn claimed by root HTTPProxies contributes: its
// virtual hosts, and what its claims, its owner's walk and the shadow
// analysis of its routes said.
type HostPart struct {
	FQDN string
	// Insecure and Secure are the host's virtual hosts (nil when it has
	// none after pruning).
	Insecure *VirtualHost
	Secure   *SecureVirtualHost
	// Report holds duplicate claims, the statuses the owner's walk gave
	// (the owner and every proxy it reached) and shadowed-route findings.
	Report *status.Report
	// Reads are the HTTPProxies the owner's walk looked up, found or not: a
	// change to any of them can change this part.
	Reads []types.NamespacedName
	// Claimants are the root HTTPProxies validly claiming the fqdn.
	Claimants []types.NamespacedName
}

// BuildParts is Build, with the statuses and findings split into Parts
// instead of merged.
func BuildParts(idx *source.Index, opts Options) (*Graph, *Parts) {
	opts = opts.Defaults()
	parts := &Parts{Base: status.NewReport(), Proxies: map[types.NamespacedName]*status.Report{},
		Hosts: map[string]*HostPart{}, Pinned: map[string]bool{}}
	b := &builder{idx: idx, opts: &opts, g: New(opts.HTTPPort, opts.HTTPSPort, opts.AccessLog), report: parts.Base,
		owners: map[string]status.Ref{}, secretChecks: &sync.Map{}, services: newServiceMemo(idx), parts: parts}
	b.g.Connections = opts.Connections
	for _, p := range processors {
		p(b)
	}
	b.prune()
	for fqdn, part := range parts.Hosts {
		part.Insecure, part.Secure = b.g.VirtualHosts[fqdn], b.g.SecureVirtualHosts[fqdn]
	}
	return b.g, parts
}

// ClaimOf returns the fqdn root HTTPProxy p validly claims under opts, and
// false when p is not a root, asks for another class, lives outside the
// root namespaces or names no valid fqdn.
func ClaimOf(p *contourv1.HTTPProxy, opts Options) (string, bool) {
	opts = opts.Defaults()
	b := &builder{opts: &opts}
	if p.Spec.VirtualHost == nil || !b.classMatches(objectClass(p.Annotations, stringPtr(p.Spec.IngressClassName))) {
		return "", false
	}
	return b.checkRoot(status.NewReport(), proxyRef(p), p.Spec.VirtualHost.Fqdn, true)
}

// ProxyPart returns what a build says of HTTPProxy p alone (see
// Parts.Proxies).
func ProxyPart(p *contourv1.HTTPProxy, opts Options) *status.Report {
	opts = opts.Defaults()
	b := &builder{opts: &opts}
	rep := status.NewReport()
	b.admitProxy(rep, p)
	return rep
}

// BuildHost builds the part of fqdn alone, as BuildParts would for an index
// where claimants are every root HTTPProxy validly claiming fqdn (see
// ClaimOf) and no IngressRoute or Ingress names it. It returns nil when
// there is no claimant.
func BuildHost(idx *source.Index, opts Options, fqdn string, claimants []*contourv1.HTTPProxy) *HostPart {
	if len(claimants) == 0 {
		return nil
	}
	opts = opts.Defaults()
	part := &HostPart{FQDN: fqdn, Report: status.NewReport()}
	b := &builder{idx: idx, opts: &opts, g: New(opts.HTTPPort, opts.HTTPSPort, opts.AccessLog), report: part.Report,
		owners: map[string]status.Ref{}, secretChecks: &sync.Map{}, services: &serviceMemo{}}
	b.g.Connections = opts.Connections
	b.clientCert, _ = b.resolveClientCertificate() // first: the clusters below carry it
	b.global = b.resolveGlobalAuth()               // its finding is the full build's
	claims := make([]claim, len(claimants))
	byRef := map[status.Ref]*contourv1.HTTPProxy{}
	for i, p := range claimants {
		claims[i] = claim{ref: proxyRef(p), age: ageOf(p), fqdn: fqdn}
		byRef[claims[i].ref] = p
		part.Claimants = append(part.Claimants, source.Key(p.Namespace, p.Name))
	}
	sortClaims(claims)
	b.owners[fqdn] = claims[0].ref
	if len(claims) > 1 {
		b.reportDuplicates(part.Report, claims)
	}
	plan := b.planRoot(byRef[claims[0].ref], fqdn)
	part.Reads = b.reads
	b.commitRoot(plan)
	b.findShadowedRoutes()
	b.prune()
	part.Insecure, part.Secure = b.g.VirtualHosts[fqdn], b.g.SecureVirtualHosts[fqdn]
	return part
}

// proxyReport is where what concerns HTTPProxy key alone is reported.
func (b *builder) proxyReport(key types.NamespacedName) *status.Report {
	if b.parts == nil {
		return b.report
	}
	r, ok := b.parts.Proxies[key]
	if !ok {
		r = status.NewReport()
		b.parts.Proxies[key] = r
	}
	return r
}

// claimReport is where the duplicate claims of one fqdn are reported: the
// host's part when only HTTPProxies claim it. Every fqdn an HTTPProxy
// claims gets a part; one an IngressRoute claims is pinned.
func (b *builder) claimReport(group []claim) *status.Report {
	if b.parts == nil {
		return b.report
	}
	if b.parts.Pinned[group[0].fqdn] {
		return b.report
	}
	return b.hostPart(group[0].fqdn).Report
}

// hostPart returns the part of fqdn when parts are recorded and an
// HTTPProxy claims fqdn, nil otherwise.
func (b *builder) hostPart(fqdn string) *HostPart {
	if b.parts == nil {
		return nil
	}
	return b.parts.Hosts[fqdn]
}

// recordClaims gives every fqdn an HTTPProxy validly claims a part and pins
// every fqdn an IngressRoute claims, when parts are recorded.
func (b *builder) recordClaims(claims []claim) {
	if b.parts == nil {
		return
	}
	for _, c := range claims {
		if c.ref.Kind != status.KindHTTPProxy {
			b.parts.Pinned[c.fqdn] = true
		} else {
			part, ok := b.parts.Hosts[c.fqdn]
			if !ok {
				part = &HostPart{FQDN: c.fqdn, Report: status.NewReport()}
				b.parts.Hosts[c.fqdn] = part
			}
			part.Claimants = append(part.Claimants, source.Key(c.ref.Namespace, c.ref.Name))
		}
	}
}

// pin records that something other than HTTPProxies names host.
func (b *builder) pin(host string) {
	if b.parts != nil {
		b.parts.Pinned[host] = true
	}
}

// lookupProxy finds an HTTPProxy a walk includes, recording the read.
func (b *builder) lookupProxy(namespace, name string) (*contourv1.HTTPProxy, bool) {
	key := source.Key(namespace, name)
	b.reads = append(b.reads, key)
	p, ok := b.idx.HTTPProxies.Get(key)
	return p, ok
}
