package graph

import (
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// Reasons for virtual host claims, Contour's names.
const (
	ReasonDuplicateVhost                 = "DuplicateVhost"
	ReasonFQDNNotSpecified               = "FQDNNotSpecified"
	ReasonFQDNNotValid                   = "FQDNNotValid"
	ReasonRootProxyNotAllowedInNamespace = "RootProxyNotAllowedInNamespace"
)

// Finding codes for host ownership.
const (
	FindingDuplicateVhost = "DuplicateVhost"
)

// claim is a root object asking for an fqdn.
type claim struct {
	ref  status.Ref
	age  Age
	fqdn string
	// proxy is the root when it is an HTTPProxy.
	proxy *contourv1.HTTPProxy
}

// claimHosts decides which root owns each fqdn before any route is built.
// Roots are root HTTPProxies and root IngressRoutes whose class matches; a
// root with a missing or malformed fqdn, or outside the root namespaces, is
// invalid and claims nothing. The oldest root keeps the host; every other
// claimant is invalid with DuplicateVhost, so nobody can take a live host
// down by creating a duplicate. On the way, every HTTPProxy is admitted
// (see admitProxy), so that processHTTPProxies need not go through them
// again; it builds the proxyRoots, in claim order.
func (b *builder) claimHosts() {
	claims, pending := b.proxyClaims()
	for _, key := range source.SortedKeys(b.idx.IngressRoutes) {
		r := b.idx.IngressRoutes[key]
		if r.Spec.VirtualHost == nil || !b.classMatches(objectClass(r.Annotations, nil)) {
			continue
		}
		ref := status.Ref{Kind: status.KindIngressRoute, Namespace: r.Namespace, Name: r.Name}
		if fqdn, ok := b.checkRoot(b.report, ref, r.Spec.VirtualHost.Fqdn, false); ok {
			claims = append(claims, claim{ref: ref, age: ageOf(r), fqdn: fqdn})
		}
	}
	// The admission reports left are merged while the claims are sorted:
	// they are of other objects than the IngressRoutes', and nothing
	// reads b.report meanwhile.
	parallel.Do(func() {
		for _, rep := range pending {
			b.report.Merge(rep)
		}
	}, func() { sortClaims(claims) })
	b.recordClaims(claims)
	b.owners = make(map[string]status.Ref, len(claims)) // empty until now, shared with no one yet
	b.proxyRoots = make([]proxyRoot, 0, len(claims))
	for i := 0; i < len(claims); {
		j := i + 1
		for j < len(claims) && claims[j].fqdn == claims[i].fqdn {
			j++
		}
		b.owners[claims[i].fqdn] = claims[i].ref
		if p := claims[i].proxy; p != nil {
			b.proxyRoots = append(b.proxyRoots, proxyRoot{p, claims[i].fqdn})
		}
		if j-i > 1 {
			b.reportDuplicates(b.claimReport(claims[i:j]), claims[i:j])
		}
		i = j
	}
}

// minParallelAdmissions is the number of HTTPProxies below which
// proxyClaims admits them on one goroutine (a variable for the tests).
var minParallelAdmissions = 512

// proxyClaims admits every HTTPProxy (admitProxy) and returns the claims
// of those that may claim their fqdn, in no particular order (they are
// sorted next). What admitProxy says concerns each object alone: without
// parts, the proxies are admitted on every CPU by shards of the index,
// each goroutine's statuses and findings in a report of its own, the
// first b.report itself; the others are returned, for the caller to merge
// into b.report (in any order: the reports are of different objects, and
// what they say does not depend on it).
func (b *builder) proxyClaims() (claims []claim, pending []*status.Report) {
	proxies := &b.idx.HTTPProxies
	if b.parts != nil || proxies.Len() < minParallelAdmissions {
		claims = make([]claim, 0, proxies.Len()+len(b.idx.IngressRoutes))
		for key, p := range proxies.All() {
			if fqdn, ok := b.admitProxy(b.proxyReport(key), p); ok {
				claims = append(claims, proxyClaim(p, fqdn))
			}
		}
		return claims, nil
	}
	// A report and list of claims per goroutine: the first goroutine's
	// report is b.report itself (nothing else writes it meanwhile, and it
	// has room for every object the build reports on); the others are
	// merged into it afterwards.
	type admissions struct {
		rep    *status.Report
		claims []claim
	}
	var mu sync.Mutex
	var all []*admissions
	parallel.Workers(source.Shards, 1, func() func(int) {
		mu.Lock()
		a := &admissions{rep: b.report}
		if len(all) > 0 {
			a.rep = status.NewReportFor(2 * proxies.Len() / runtime.GOMAXPROCS(0))
		}
		all = append(all, a)
		mu.Unlock()
		return func(shard int) {
			for _, p := range proxies.Shard(shard) {
				if fqdn, ok := b.admitProxy(a.rep, p); ok {
					a.claims = append(a.claims, proxyClaim(p, fqdn))
				}
			}
		}
	})
	claims = make([]claim, 0, proxies.Len()+len(b.idx.IngressRoutes))
	for _, a := range all {
		if a.rep != b.report {
			pending = append(pending, a.rep)
		}
		claims = append(claims, a.claims...)
	}
	return claims, pending
}

// proxyClaim is root HTTPProxy p's claim of fqdn.
func proxyClaim(p *contourv1.HTTPProxy, fqdn string) claim {
	return claim{ref: proxyRef(p), age: ageOf(p), fqdn: fqdn, proxy: p}
}

// admitProxy says in rep what concerns HTTPProxy p alone: that it is
// ignored for its class, or tracked (orphaned unless a root reaches it)
// and, for a root, whether it may claim its fqdn. It returns the fqdn p
// claims, if it is a root that may.
func (b *builder) admitProxy(rep *status.Report, p *contourv1.HTTPProxy) (string, bool) {
	ref := proxyRef(p)
	class := objectClass(p.Annotations, stringPtr(p.Spec.IngressClassName))
	if !b.classMatches(class) {
		b.ignoredByClass(rep, ref, class)
		return "", false
	}
	rep.Track(ref)
	if p.Spec.VirtualHost == nil {
		return "", false
	}
	return b.checkRoot(rep, ref, p.Spec.VirtualHost.Fqdn, true)
}

// sortClaims orders claims by fqdn, then oldest first. The order is total
// (no two claims have the same object), so it needs no stable sort.
func sortClaims(claims []claim) {
	parallel.SortFunc(claims, func(a, b claim) int {
		if c := strings.Compare(a.fqdn, b.fqdn); c != 0 {
			return c
		}
		if !a.age.Created.Equal(b.age.Created) {
			return a.age.Created.Compare(b.age.Created)
		}
		return a.ref.Compare(b.ref) // as olderThan
	})
}

// reportDuplicates marks every claimant but the first (the owner) invalid,
// in rep.
func (b *builder) reportDuplicates(rep *status.Report, group []claim) {
	names := make([]string, len(group))
	refs := make([]status.Ref, len(group))
	for i, c := range group {
		names[i] = c.ref.Namespace + "/" + c.ref.Name
		refs[i] = c.ref
	}
	owner := group[0].ref
	for _, c := range group[1:] {
		rep.Error(c.ref, status.VirtualHostError, ReasonDuplicateVhost,
			"fqdn %q is used in multiple %ss: %s; the oldest, %s, keeps it",
			c.fqdn, c.ref.Kind, strings.Join(names, ", "), owner)
	}
	rep.Find(status.Finding{
		Code: FindingDuplicateVhost, Severity: status.SeverityError, Objects: refs,
		Message: fmt.Sprintf("fqdn %q is claimed by %d roots; %s is the oldest and keeps it, the others are invalid",
			group[0].fqdn, len(group), owner),
	})
}

// checkRoot validates what every root needs before claiming a host and
// returns the normalised fqdn; problems go to rep.
func (b *builder) checkRoot(rep *status.Report, ref status.Ref, fqdn string, wildcardOK bool) (string, bool) {
	typ := status.VirtualHostError
	if !b.rootNamespaceAllowed(ref.Namespace) {
		rep.Error(ref, status.RootNamespaceError, ReasonRootProxyNotAllowedInNamespace,
			"root %s cannot be defined in this namespace", ref.Kind)
		return "", false
	}
	if fqdn == "" {
		rep.Error(ref, typ, ReasonFQDNNotSpecified, "Spec.VirtualHost.Fqdn must be specified")
		return "", false
	}
	norm, err := normalizeFQDN(fqdn, wildcardOK)
	if err != nil {
		rep.Error(ref, typ, ReasonFQDNNotValid, "Spec.VirtualHost.Fqdn %q is not valid: %s", fqdn, err)
		return "", false
	}
	return norm, true
}

// normalizeFQDN lower-cases fqdn, drops one trailing dot, and checks it is a
// DNS name (optionally with a leading "*." label). IP addresses are refused.
func normalizeFQDN(fqdn string, wildcardOK bool) (string, error) {
	s := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(fqdn)), ".")
	if len(s) > 253 {
		return "", fmt.Errorf("longer than 253 characters")
	}
	if strings.HasPrefix(s, "*.") {
		if !wildcardOK {
			return "", fmt.Errorf("wildcard names are not allowed here")
		}
		if !dnsSubdomain(s[2:]) { // Kubernetes' check, only for its messages
			if errs := validation.IsWildcardDNS1123Subdomain(s); len(errs) > 0 {
				return "", fmt.Errorf("%s", strings.Join(errs, "; "))
			}
		}
		return s, nil
	}
	if !dnsSubdomain(s) {
		if errs := validation.IsDNS1123Subdomain(s); len(errs) > 0 {
			return "", fmt.Errorf("%s", strings.Join(errs, "; "))
		}
	}
	// A DNS subdomain is an address only when it is dotted digits (no
	// ':' for IPv6); ParseAddr is as strict as Kubernetes (no leading
	// zeros), and costs an error value for every host name.
	if digitsAndDots(s) {
		if _, err := netip.ParseAddr(s); err == nil {
			return "", fmt.Errorf("an IP address is not a host name")
		}
	}
	return s, nil
}

// digitsAndDots reports whether s has only decimal digits and dots.
func digitsAndDots(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// dnsSubdomain reports whether s is a DNS-1123 subdomain as Kubernetes
// defines it (at most 253 characters; dot-separated labels of lower-case
// letters, digits and inner hyphens), without the regular expression
// Kubernetes matches it with: hosts are checked several times per object.
func dnsSubdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	label := 0 // length of the current label
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			label++
		case c == '-':
			if label == 0 || i+1 == len(s) || s[i+1] == '.' {
				return false
			}
			label++
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		default:
			return false
		}
	}
	return label > 0
}

// owns reports whether ref owns fqdn.
func (b *builder) owns(ref status.Ref, fqdn string) bool { return b.owners[fqdn] == ref }

func stringPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
