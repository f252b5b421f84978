package graph

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

func rootProxy(ns, name, fqdn string, created int64) *contourv1.HTTPProxy {
	return &contourv1.HTTPProxy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(time.Unix(created, 0))},
		Spec:       contourv1.HTTPProxySpec{VirtualHost: &contourv1.VirtualHost{Fqdn: fqdn}},
	}
}

func TestClaimHosts(t *testing.T) {
	t.Parallel()
	proxy := func(ns, name string) status.Ref {
		return status.Ref{Kind: status.KindHTTPProxy, Namespace: ns, Name: name}
	}
	for name, tc := range map[string]struct {
		objs       []any
		opts       Options
		wantOwners map[string]status.Ref
		wantErrors map[status.Ref]string // reason of the (single) error
	}{
		"oldest root keeps the host": {
			objs:       []any{rootProxy("b", "www", "www.example.com", 100), rootProxy("a", "www", "WWW.Example.com.", 200)},
			wantOwners: map[string]status.Ref{"www.example.com": proxy("b", "www")},
			wantErrors: map[status.Ref]string{proxy("a", "www"): ReasonDuplicateVhost},
		},
		"equal timestamps: namespace/name decides": {
			objs:       []any{rootProxy("b", "www", "www.example.com", 0), rootProxy("a", "www", "www.example.com", 0)},
			wantOwners: map[string]status.Ref{"www.example.com": proxy("a", "www")},
			wantErrors: map[status.Ref]string{proxy("b", "www"): ReasonDuplicateVhost},
		},
		"an IngressRoute root competes too": {
			objs: []any{rootProxy("a", "www", "www.example.com", 300), &heptiov1beta1.IngressRoute{
				ObjectMeta: metav1.ObjectMeta{Namespace: "z", Name: "old", CreationTimestamp: metav1.NewTime(time.Unix(1, 0))},
				Spec:       heptiov1beta1.IngressRouteSpec{VirtualHost: &heptiov1beta1.VirtualHost{Fqdn: "www.example.com"}}}},
			wantOwners: map[string]status.Ref{"www.example.com": {Kind: status.KindIngressRoute, Namespace: "z", Name: "old"}},
			wantErrors: map[status.Ref]string{proxy("a", "www"): ReasonDuplicateVhost},
		},
		"missing fqdn":          {objs: []any{rootProxy("a", "p", "", 0)}, wantOwners: map[string]status.Ref{}, wantErrors: map[status.Ref]string{proxy("a", "p"): ReasonFQDNNotSpecified}},
		"ip address is no fqdn": {objs: []any{rootProxy("a", "p", "10.0.0.1", 0)}, wantOwners: map[string]status.Ref{}, wantErrors: map[status.Ref]string{proxy("a", "p"): ReasonFQDNNotValid}},
		"double wildcard":       {objs: []any{rootProxy("a", "p", "*.*.example.com", 0)}, wantOwners: map[string]status.Ref{}, wantErrors: map[status.Ref]string{proxy("a", "p"): ReasonFQDNNotValid}},
		"wildcard is fine":      {objs: []any{rootProxy("a", "p", "*.example.com", 0)}, wantOwners: map[string]status.Ref{"*.example.com": proxy("a", "p")}, wantErrors: map[status.Ref]string{}},
		"root outside root namespaces": {
			objs: []any{rootProxy("team", "p", "a.com", 0), rootProxy("roots", "q", "b.com", 0)}, opts: Options{RootNamespaces: []string{"roots"}},
			wantOwners: map[string]status.Ref{"b.com": proxy("roots", "q")},
			wantErrors: map[status.Ref]string{proxy("team", "p"): ReasonRootProxyNotAllowedInNamespace},
		},
		"other ingress class is ignored": {
			objs: []any{func() *contourv1.HTTPProxy {
				p := rootProxy("a", "p", "a.com", 0)
				p.Spec.IngressClassName = "nginx"
				return p
			}()},
			wantOwners: map[string]status.Ref{}, wantErrors: map[status.Ref]string{},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			idx := source.NewIndex()
			for _, o := range tc.objs {
				if err := idx.Upsert(o); err != nil {
					t.Fatal(err)
				}
			}
			opts := tc.opts.Defaults()
			b := &builder{idx: idx, opts: &opts, g: New(8080, 8443, AccessLog{}), report: status.NewReport(), owners: map[string]status.Ref{}}
			b.claimHosts()
			if d := cmp.Diff(tc.wantOwners, b.owners); d != "" {
				t.Errorf("owners (-want +got):\n%s", d)
			}
			gotErrors := map[status.Ref]string{}
			for _, o := range b.report.Objects() {
				for _, c := range o.Conditions {
					for _, e := range c.Errors {
						// claimHosts tracks every HTTPProxy; no root is
						// processed here, so the tracked ones are orphaned.
						if e.Type != status.OrphanedError {
							gotErrors[o.Ref] = e.Reason
						}
					}
				}
			}
			if d := cmp.Diff(tc.wantErrors, gotErrors); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}

func TestAddRouteOldestWins(t *testing.T) {
	t.Parallel()
	a := status.Ref{Kind: status.KindIngress, Namespace: "teama", Name: "blog"}
	bRef := status.Ref{Kind: status.KindIngress, Namespace: "teamb", Name: "blog"}
	route := func(src status.Ref, created int64, svc string) *Route {
		age := Age{} // no creationTimestamp
		if created != 0 {
			age.Created = time.Unix(created, 0)
		}
		return &Route{Path: PathMatch{Kind: PathSegmentPrefix, Value: "/blog"}, Source: src, Age: age, Backends: []Backend{{Cluster: &Cluster{Namespace: src.Namespace, Service: svc}}}}
	}
	for name, tc := range map[string]struct {
		first, second *Route
		wantService   string
		wantWhy       string
	}{
		"older second wins":        {route(bRef, 200, "new"), route(a, 100, "old"), "old", "it is older"},
		"older first stays":        {route(a, 100, "old"), route(bRef, 200, "new"), "old", "it is older"},
		"no timestamps: name wins": {route(bRef, 0, "b"), route(a, 0, "a"), "a", "neither has a creationTimestamp"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := Options{}.Defaults()
			b := &builder{opts: &opts, g: New(8080, 8443, AccessLog{}), report: status.NewReport()}
			b.addRoute("projectcontour.io", false, tc.first, false)
			b.addRoute("projectcontour.io", false, tc.second, false)
			vh := b.g.VirtualHosts["projectcontour.io"]
			if len(vh.Routes) != 1 {
				t.Fatalf("want 1 route, got %d", len(vh.Routes))
			}
			for _, r := range vh.Routes {
				if got := r.Backends[0].Cluster.Service; got != tc.wantService {
					t.Errorf("winner routes to %q, want %q", got, tc.wantService)
				}
			}
			fs := b.report.Findings()
			if len(fs) != 1 || fs[0].Code != FindingDuplicateRoute || fs[0].Severity != status.SeverityError {
				t.Fatalf("want one DuplicateRoute error finding, got %+v", fs)
			}
			if !strings.Contains(fs[0].Message, tc.wantWhy) {
				t.Errorf("finding %q does not say %q", fs[0].Message, tc.wantWhy)
			}
		})
	}
}

// TestNormalizeFQDNRefusesIPv4 checks the IPv4 test against Kubernetes'
// own parser, on forms it accepts (leading zeros included) and near misses.
func TestNormalizeFQDNRefusesIPv4(t *testing.T) {
	for _, s := range []string{"10.0.0.1", "010.001.0.1", "0010.0.0.1", "255.255.255.255", "0.0.0.0",
		"256.0.0.1", "10.0.0", "10.0.0.1.2", "10.0.0.a", "a.example.com", "1.2.3.4.example.com",
		"00000000000000000001.0.0.1", "99999.0.0.1", "1..2.3"} {
		isIP := len(validation.IsValidIP(nil, s)) == 0
		_, err := normalizeFQDN(s, false)
		if got := err != nil && strings.Contains(err.Error(), "IP address"); got != isIP {
			t.Errorf("normalizeFQDN(%q): refused as an IP address = %v, Kubernetes says IP = %v (err %v)", s, got, isIP, err)
		}
	}
}

// TestDNSSubdomainAgreesWithKubernetes compares the hand-written check with
// Kubernetes' regular expression on edge cases and random strings over the
// characters that matter.
func TestDNSSubdomainAgreesWithKubernetes(t *testing.T) {
	cases := []string{"", "a", "a.b", "a-b.c", "-a", "a-", "a.-b", "a-.b", "a..b", ".a", "a.", "A.b", "a_b",
		"0", "0-0", "a--b", "xn--bcher-kva.example", strings.Repeat("a", 63), strings.Repeat("a", 64),
		strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 126) + "ab", "a*b", "é.com"}
	rng := rand.New(rand.NewPCG(7, 7))
	const alphabet = "ab0-.A_*"
	for range 20000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := dnsSubdomain(s), len(validation.IsDNS1123Subdomain(s)) == 0; got != want {
			t.Errorf("dnsSubdomain(%q) = %v, Kubernetes says %v", s, got, want)
		}
	}
}

// TestNeverUpstream: addresses and ExternalNames that reach Envoy itself,
// its node or a metadata service are refused; ordinary ones are not.
func TestNeverUpstream(t *testing.T) {
	for s, want := range map[string]bool{
		"127.0.0.1": true, "127.9.9.9": true, "::1": true, "0.0.0.0": true, "::": true,
		"169.254.169.254": true, "fe80::1": true, "224.0.0.1": true, "ff02::1": true, "::ffff:127.0.0.1": true,
		"10.0.0.1": false, "192.0.2.10": false, "fd00::1": false, "2001:db8::1": false, "224.1.1.1": false,
	} {
		if got := NeverUpstream(netip.MustParseAddr(s)); got != want {
			t.Errorf("NeverUpstream(%s) = %v, want %v", s, got, want)
		}
	}
	const local, address = "localhost", "a loopback, link-local or unspecified IP address"
	const viaDNS = address + " through wildcard DNS"
	for name, want := range map[string]string{
		"localhost": local, "LocalHost.": local, "db.localhost": local, "localhost.localdomain": local,
		"local.projectcontour.io": local, "Local.ProjectContour.io.": local, "other.projectcontour.io": "",
		"127.0.0.1": address, "169.254.169.254": address, "example.org": "", "10.0.0.1": "", "local.example.org": "",
		"127.0.0.1.nip.io": viaDNS, "127-0-0-1.sslip.io": viaDNS, "app.127.0.0.1.nip.io": viaDNS, "www-127-0-0-1.sslip.io": viaDNS,
		"10.0.0.1.nip.io": "", "169-254-169-254.sslip.io": viaDNS, "1.2.3.example.org": "",
	} {
		if got := reachesEnvoy(name); got != want {
			t.Errorf("reachesEnvoy(%q) = %q, want %q", name, got, want)
		}
	}
	for name, want := range map[string]string{
		"db.other.svc.cluster.local": "other", "db.other.svc": "other", "DB.Other.SVC.cluster.local.": "other",
		"example.org": "", "svc.example.org": "", "a.svc.example.org": "",
	} {
		if got, ok := serviceNamespace(name); got != want || ok != (want != "") {
			t.Errorf("serviceNamespace(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

// TestClaimHostsSameOnShards: admitting HTTPProxies by shards on every CPU
// gives the owners, roots, statuses and findings of admitting them one by
// one, over proxies of every kind (owners, duplicates, missing and invalid
// fqdns, other classes, roots outside the root namespaces, non-roots).
func TestClaimHostsSameOnShards(t *testing.T) {
	idx := source.NewIndex()
	rng := rand.New(rand.NewPCG(3, 4))
	fqdns := []string{"", "10.0.0.1", "*.*.example.com", "a.com", "b.com", "*.c.com", "D.com."}
	for i := range 600 {
		ns := []string{"roots", "team", "other"}[rng.IntN(3)]
		p := rootProxy(ns, fmt.Sprintf("p%d", i), fqdns[rng.IntN(len(fqdns))]+"", rng.Int64N(5))
		if i%7 == 0 {
			p.Spec.VirtualHost.Fqdn = fmt.Sprintf("h%d.example.com", i)
		}
		switch rng.IntN(6) {
		case 0:
			p.Spec.VirtualHost = nil
		case 1:
			p.Spec.IngressClassName = "nginx"
		}
		if err := idx.Upsert(p); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(min int) *builder {
		defer func(old int) { minParallelAdmissions = old }(minParallelAdmissions)
		minParallelAdmissions = min
		opts := Options{RootNamespaces: []string{"roots", "team"}}.Defaults()
		b := &builder{idx: idx, opts: &opts, g: New(8080, 8443, AccessLog{}), report: status.NewReport(), owners: map[string]status.Ref{}}
		b.claimHosts()
		return b
	}
	one, shards := claim(1<<30), claim(1)
	if d := cmp.Diff(one.owners, shards.owners); d != "" {
		t.Errorf("owners (-one by one +by shards):\n%s", d)
	}
	if d := cmp.Diff(one.proxyRoots, shards.proxyRoots, cmp.AllowUnexported(proxyRoot{})); d != "" {
		t.Errorf("roots (-one by one +by shards):\n%s", d)
	}
	if d := cmp.Diff(one.report.Objects(), shards.report.Objects()); d != "" {
		t.Errorf("statuses (-one by one +by shards):\n%s", d)
	}
	if d := cmp.Diff(one.report.Findings(), shards.report.Findings()); d != "" {
		t.Errorf("findings (-one by one +by shards):\n%s", d)
	}
	if len(one.owners) < 5 || len(one.report.Findings()) == 0 {
		t.Errorf("too little to compare: %d owners, %d findings", len(one.owners), len(one.report.Findings()))
	}
}
