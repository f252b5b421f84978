package controlplane_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/translate"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/goldentest"
	"github.com/isobar-dev/isobar/sim/gen"
)

// sameResult fails t unless got equals Compile's want: resources, statuses
// and findings.
func sameResult(t *testing.T, step string, got, want *controlplane.Result) {
	t.Helper()
	// proto.Equal first: go-cmp over thousands of resources per step is
	// slow, and its diff is only needed to explain a difference. got's
	// frozen resources (freezeResult) are compared as what they were.
	got = &controlplane.Result{Resources: xds.Thawed(got.Resources), Statuses: got.Statuses, Findings: got.Findings}
	if !want.Resources.Equal(got.Resources) {
		d := cmp.Diff(want.Resources, got.Resources, protocmp.Transform(), cmpopts.EquateEmpty())
		t.Fatalf("%s: resources differ from Compile's (-want +got):\n%s", step, d)
	}
	if reflect.DeepEqual(want.Statuses, got.Statuses) {
		// equal: skip go-cmp's slower walk
	} else if d := cmp.Diff(want.Statuses, got.Statuses, cmpopts.EquateEmpty()); d != "" {
		t.Fatalf("%s: statuses differ from Compile's (-want +got):\n%s", step, d)
	}
	if d := cmp.Diff(want.Findings, got.Findings, cmpopts.EquateEmpty()); d != "" {
		t.Fatalf("%s: findings differ from Compile's (-want +got):\n%s", step, d)
	}
	if err := snapshot.Consistent(got.Resources); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// freezeResult freezes, as the xDS server does with Freeze set, every
// ClusterLoadAssignment and virtual host of res not yet frozen,
// and returns how many it froze.
func freezeResult(t *testing.T, res *xds.Resources) int {
	t.Helper()
	n := 0
	freeze := func(m proto.Message, f func([]byte) error) {
		if xds.Frozen(m) {
			return
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err == nil {
			err = f(b)
		}
		if err != nil {
			t.Fatal(err)
		}
		if xds.Frozen(m) {
			n++
		}
	}
	for _, cla := range res.Endpoints {
		freeze(cla, func(b []byte) error { return xds.FreezeClusterLoadAssignment(cla, b) })
	}
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			freeze(vh, func(b []byte) error { return xds.FreezeVirtualHost(vh, b) })
		}
	}
	return n
}

// samePointers fails t when a resource of got has the same name and content
// as one of prev but another pointer: the xDS server relies on unchanged
// resources keeping theirs.
func samePointers(t *testing.T, step string, prev, got *xds.Resources) {
	t.Helper()
	check := func(kind string, a, b []proto.Message, name func(proto.Message) string) {
		byName := make(map[string]proto.Message, len(a))
		for _, m := range a {
			byName[name(m)] = m
		}
		for _, m := range b {
			if was, ok := byName[name(m)]; ok && was != m && xds.Equal(was, m) {
				t.Fatalf("%s: %s %q did not change but is a new pointer", step, kind, name(m))
			}
		}
	}
	named := func(m proto.Message) string { return m.(interface{ GetName() string }).GetName() }
	check("listener", asMessages(prev.Listeners), asMessages(got.Listeners), named)
	check("route configuration", asMessages(prev.Routes), asMessages(got.Routes), named)
	check("cluster", asMessages(prev.Clusters), asMessages(got.Clusters), named)
	check("secret", asMessages(prev.Secrets), asMessages(got.Secrets), named)
	check("cluster load assignment", asMessages(prev.Endpoints), asMessages(got.Endpoints),
		func(m proto.Message) string { return m.(*endpointv3.ClusterLoadAssignment).GetClusterName() })
}

func asMessages[T proto.Message](in []T) []proto.Message {
	out := make([]proto.Message, len(in))
	for i, m := range in {
		out[i] = m
	}
	return out
}

// TestCompilerCompileEqualsCompile checks the Compiler's full build on
// every golden case.
func TestCompilerCompileEqualsCompile(t *testing.T) {
	for _, c := range goldentest.Cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			idx, opts := loadCase(t, c)
			want, err := controlplane.Compile(idx, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := controlplane.NewCompiler(opts).Compile(idx)
			if err != nil {
				t.Fatal(err)
			}
			sameResult(t, "full", got, want)
		})
	}
}

func loadCase(t *testing.T, c goldentest.Case) (*source.Index, controlplane.Options) {
	t.Helper()
	data, err := os.ReadFile(c.Input)
	if err != nil {
		t.Fatal(err)
	}
	opts, ns := goldentest.CaseOptions(t, data)
	idx, _ := source.LoadBytes(source.LoadOptions{DefaultNamespace: ns}, c.Input, data)
	return idx, opts
}

// TestCompilerUpdateEqualsCompile applies seeded random HTTPProxy changes
// (deletions, re-creations, fqdn and class changes, new and removed routes
// and includes, cycles, ages, broken TLS) to every golden case and to a
// generated cluster, one change at a time, and checks that each Update
// gives what a full Compile of the same index gives. It also checks that
// most updates were incremental, so the test exercises Update itself.
func TestCompilerUpdateEqualsCompile(t *testing.T) {
	type corpus struct {
		name  string
		idx   *source.Index
		opts  controlplane.Options
		steps int
	}
	var corpora []corpus
	for _, c := range goldentest.Cases(t) {
		idx, opts := loadCase(t, c)
		if idx.HTTPProxies.Len() > 0 {
			corpora = append(corpora, corpus{c.Name, withExtensions(idx), opts, 60})
		}
	}
	o := gen.S1k()
	o.Proxies, o.Ingresses = 150, 15
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	idx, _ := source.LoadBytes(source.LoadOptions{}, "generated", buf.Bytes())
	idx = withExtensions(idx)
	corpora = append(corpora, corpus{"generated", idx, controlplane.Options{}, 300})
	// The listener and upstream settings reach the hosts (filter chains,
	// connection managers, clusters) an update translates again.
	withSettings := controlplane.Options{Options: graph.Options{AccessLog: graph.AccessLog{Format: "json"},
		Connections: graph.Connections{RequestTimeout: "30s", ConnectionIdleTimeout: "infinity", NumTrustedHops: 1,
			MinimumTLSVersion: "1.3", CipherSuites: "ECDHE-RSA-AES256-GCM-SHA384", HTTPVersions: "HTTP/2",
			MaxRequestsPerConnection: 50, HTTP2MaxConcurrentStreams: 100, ServerHeaderTransformation: "pass_through",
			PerConnectionBufferLimitBytes: 32768, SocketTOS: 184, ConnectionBalancer: "exact"},
		Upstream: graph.Upstream{ConnectTimeout: "750ms", DNSLookupFamily: "v4", MaxRequestsPerConnection: 10, PerConnectionBufferLimitBytes: 65536,
			CircuitBreakers: graph.CircuitBreakers{MaxRequests: 500, PerHostMaxConnections: 8}, TLSMaximumVersion: "1.2",
			TLSCipherSuites: "ECDHE-RSA-AES128-GCM-SHA256"}}}
	corpora = append(corpora, corpus{"generated-with-listener-settings", idx, withSettings, 60})
	// A rate limit service: its filter is in the connection managers of
	// the hosts an update translates again, and global policies change.
	for _, k := range source.SortedKeys(idx.ExtensionServices) {
		if k.Name == "authz" {
			withRateLimit := controlplane.Options{Options: graph.Options{RateLimitService: graph.RateLimitService{
				Namespace: k.Namespace, Name: k.Name, Domain: "isobar", FailOpen: true,
				Default: []graph.RateLimitDescriptor{{Entries: []graph.RateLimitEntry{{Kind: graph.RemoteAddressEntry}}}}}}}
			corpora = append(corpora, corpus{"generated-with-rate-limit-service", idx, withRateLimit, 120})
			break
		}
	}
	// Include grants: half the namespaces grant everyone, the others
	// nobody, so that the includes across namespaces the changes make are
	// followed or refused.
	granted := idx.Clone()
	for name, ns := range granted.Namespaces {
		if name < "team-5" {
			ns = ns.DeepCopy()
			ns.Annotations = map[string]string{graph.IncludeFromAnnotation: "*"}
			granted.Namespaces[name] = ns
		}
	}
	corpora = append(corpora, corpus{"generated-with-include-grants", granted, controlplane.Options{Options: graph.Options{IncludeGrants: true}}, 120})
	// A fallback certificate: the roots in its namespace that enable it
	// share ingress_fallbackcert and the fallback chain, others are refused.
	if keys := source.SortedKeys(idx.Secrets); len(keys) > 0 {
		fb := controlplane.Options{Options: graph.Options{FallbackCertificate: keys[0].String()}}
		corpora = append(corpora, corpus{"generated-with-fallback-certificate", withFallback(idx, keys[0].Namespace), fb, 120})
	}
	updates, fulls, authorized, limited, fallbacks, frozen := 0, 0, 0, 0, 0, 0
	for _, c := range corpora {
		t.Run(c.name, func(t *testing.T) {
			m := newMutator(c.idx, seedOf(c.name)) // by name: a new golden case changes no other corpus's changes
			comp := controlplane.NewCompiler(c.opts)
			if _, err := comp.Compile(c.idx); err != nil {
				t.Fatal(err)
			}
			before := comp.FullCompiles()
			idx := c.idx
			for step := range c.steps {
				prev, fullsBefore := comp.Last().Resources, comp.FullCompiles()
				var next *source.Index
				var what string
				var err error
				if step%10 == 9 && idx.EndpointSlices.Len() > 0 {
					var svc types.NamespacedName
					next, svc, what = m.endpoints(idx)
					_, err = comp.Endpoints(next, []types.NamespacedName{svc})
				} else {
					var key types.NamespacedName
					next, key, what = m.mutate(idx)
					_, err = comp.Update(next, []types.NamespacedName{key})
				}
				if err != nil {
					t.Fatalf("step %d (%s): %v", step, what, err)
				}
				want, err := controlplane.Compile(next, c.opts)
				if err != nil {
					t.Fatal(err)
				}
				where := fmt.Sprintf("step %d (%s)", step, what)
				sameResult(t, where, comp.Last(), want)
				if hasExtAuthz(t, want.Resources) {
					authorized++
				}
				if hasGlobalRateLimits(want.Resources) {
					limited++
				}
				if rc := want.Resources.RouteConfiguration(translate.FallbackRoutes); len(rc.GetVirtualHosts()) > 0 {
					fallbacks++
				}
				if comp.FullCompiles() == fullsBefore {
					samePointers(t, where, prev, comp.Last().Resources)
				}
				if step%2 == 1 {
					// As serve's xDS server does once it has the
					// encodings: the next updates compare and reuse
					// frozen resources.
					frozen += freezeResult(t, comp.Last().Resources)
				}
				idx = next
			}
			updates += c.steps
			fulls += comp.FullCompiles() - before
		})
	}
	t.Logf("%d of %d updates took a full compile; %d results had an authorized host, %d a fallback host", fulls, updates, authorized, fallbacks)
	if authorized*10 < updates {
		t.Errorf("only %d of %d results had an authorized host; the test barely exercises authorization", authorized, updates)
	}
	if limited < 20 {
		t.Errorf("only %d results had global rate limits; the test barely exercises them", limited)
	}
	if fallbacks < 100 {
		t.Errorf("only %d results had hosts with the fallback certificate; the test barely exercises it", fallbacks)
	}
	if frozen < 4000 {
		t.Errorf("only %d messages were frozen; the test barely exercises updates over frozen results", frozen)
	}
	if fulls*4 > updates {
		t.Errorf("%d of %d updates took a full compile; the test barely exercises Update", fulls, updates)
	}
}

// proxyAt is idx's HTTPProxy called k, nil if none.
func proxyAt(idx *source.Index, k types.NamespacedName) *contourv1.HTTPProxy {
	p, _ := idx.HTTPProxies.Get(k)
	return p
}

// mustUpsert stores obj in idx, a type the index holds.
func mustUpsert(idx *source.Index, obj any) {
	if err := idx.Upsert(obj); err != nil {
		panic(err)
	}
}

// authorization sets, changes or clears the authorization of p's virtual
// host (naming a valid, an invalid or a missing ExtensionService), and
// changes its first route's policy.
func (m *mutator) authorization(p *contourv1.HTTPProxy) {
	if vh := p.Spec.VirtualHost; vh != nil {
		if vh.Authorization == nil || m.rng.IntN(3) > 0 {
			vh.Authorization = &contourv1.AuthorizationServer{
				ExtensionServiceRef: contourv1.ExtensionServiceReference{Name: []string{"authz", "authz", "broken", "nope"}[m.rng.IntN(4)]},
				FailOpen:            m.rng.IntN(2) == 0,
				ResponseTimeout:     []string{"", "1s", "infinity", "soon"}[m.rng.IntN(4)],
			}
			if m.rng.IntN(2) == 0 {
				vh.Authorization.AuthPolicy = &contourv1.AuthorizationPolicy{Disabled: m.rng.IntN(3) == 0,
					Context: map[string]string{"host": fmt.Sprint(m.serial)}}
			}
		} else {
			vh.Authorization = nil
		}
	}
	if len(p.Spec.Routes) > 0 {
		r := &p.Spec.Routes[0]
		switch m.rng.IntN(3) {
		case 0:
			r.AuthPolicy = &contourv1.AuthorizationPolicy{Disabled: true}
		case 1:
			r.AuthPolicy = &contourv1.AuthorizationPolicy{Context: map[string]string{"route": fmt.Sprint(m.serial)}}
		default:
			r.AuthPolicy = nil
		}
	}
}

// hasExtAuthz reports whether a connection manager of ingress_https has
// the ext_authz filter.
func hasExtAuthz(t *testing.T, res *xds.Resources) bool {
	t.Helper()
	for _, fc := range res.Listener("ingress_https").GetFilterChains() {
		for _, f := range fc.GetFilters() {
			var hcm hcmv3.HttpConnectionManager
			if f.GetTypedConfig() == nil || !f.GetTypedConfig().MessageIs(&hcm) {
				continue
			}
			if err := f.GetTypedConfig().UnmarshalTo(&hcm); err != nil {
				t.Fatal(err)
			}
			for _, hf := range hcm.GetHttpFilters() {
				if hf.GetName() == "envoy.filters.http.ext_authz" {
					return true
				}
			}
		}
	}
	return false
}

// mutator makes random changes to the HTTPProxies of an index.
type mutator struct {
	rng     *rand.Rand
	deleted []*contourv1.HTTPProxy
	serial  int
}

func newMutator(idx *source.Index, seed uint64) *mutator {
	return &mutator{rng: rand.New(rand.NewPCG(seed, 99))}
}

// endpoints returns a copy of idx where one EndpointSlice lost or gained
// an endpoint, its Service and what was done.
func (m *mutator) endpoints(idx *source.Index) (*source.Index, types.NamespacedName, string) {
	next := idx.Clone()
	svcs := idx.EndpointSlices.SortedKeys()
	svc := svcs[m.rng.IntN(len(svcs))]
	list, _ := idx.EndpointSlices.Get(svc) // sorted by name
	es := new(source.EndpointSlice)
	*es = *list[m.rng.IntN(len(list))]
	es.Object, es.Endpoints = nil, slices.Clip(es.Endpoints) // an append copies
	what := "drop an endpoint of " + svc.String()
	if len(es.Endpoints) > 0 && len(es.Endpoints[0].Addresses) > 1 && m.rng.IntN(2) == 0 {
		es.Endpoints = slices.Clone(es.Endpoints)
		es.Endpoints[0].Addresses = es.Endpoints[0].Addresses[1:]
	} else if len(es.Endpoints) > 0 {
		e := es.Endpoints[0]
		e.Addresses = []string{fmt.Sprintf("10.250.%d.%d", m.serial%200, m.rng.IntN(200))}
		what = "add an endpoint to " + svc.String()
		if m.rng.IntN(4) == 0 { // one Envoy must never be sent to: a finding appears
			e.Addresses = []string{fmt.Sprintf("127.0.0.%d", 1+m.rng.IntN(200))}
			what = "add a loopback endpoint to " + svc.String()
		}
		es.Endpoints = append(es.Endpoints, e)
	}
	m.serial++
	mustUpsert(next, es)
	return next, svc, what
}

// ipFilters sets, changes or clears the IP filter policies of p's virtual
// host and first route; one time in four the route gets both lists (an
// error).
func (m *mutator) ipFilters(p *contourv1.HTTPProxy) {
	cidr := []contourv1.IPFilterPolicy{{Source: "Peer", CIDR: fmt.Sprintf("10.%d.0.0/16", m.serial%250)}}
	if vh := p.Spec.VirtualHost; vh != nil {
		if len(vh.IPAllowFilterPolicy) > 0 {
			vh.IPAllowFilterPolicy = nil
		} else {
			vh.IPAllowFilterPolicy = cidr
		}
	}
	if len(p.Spec.Routes) > 0 {
		r := &p.Spec.Routes[0]
		r.IPDenyFilterPolicy = []contourv1.IPFilterPolicy{{Source: "Remote", CIDR: fmt.Sprintf("192.0.2.%d", m.serial%250)}}
		if m.rng.IntN(4) == 0 {
			r.IPAllowFilterPolicy = cidr
		}
	}
}

// jwtURIs are the key sets random JWT providers fetch: few, so that hosts
// share JWKS clusters (and one host dropping one must not drop the
// others').
var jwtURIs = []string{"https://keys.example.com/jwks", "http://sso.example.com:8080/keys", "https://idp.example.net/.well-known/jwks.json"}

// jwt sets, changes, breaks (a duplicate name) or clears the JWT providers
// of p's virtual host, and makes its first route require one of them
// (perhaps one the host does not define: an error) or disable
// verification.
func (m *mutator) jwt(p *contourv1.HTTPProxy) {
	if vh := p.Spec.VirtualHost; vh != nil {
		switch n := len(vh.JWTProviders); {
		case n == 0 || m.rng.IntN(3) == 0:
			first := m.rng.IntN(len(jwtURIs))
			vh.JWTProviders = []contourv1.JWTProvider{
				{Name: "a", Default: m.rng.IntN(2) == 0, RemoteJWKS: contourv1.RemoteJWKS{URI: jwtURIs[first]}},
				{Name: "b", RemoteJWKS: contourv1.RemoteJWKS{URI: jwtURIs[(first+1)%len(jwtURIs)], DNSLookupFamily: []string{"", "v4"}[m.rng.IntN(2)]}},
			}
		case m.rng.IntN(4) == 0:
			vh.JWTProviders = append(vh.JWTProviders, vh.JWTProviders[0]) // a duplicate name
		default:
			vh.JWTProviders = nil
		}
	}
	if len(p.Spec.Routes) > 0 {
		r := &p.Spec.Routes[0]
		switch m.rng.IntN(4) {
		case 0:
			r.JWTVerificationPolicy = &contourv1.JWTVerificationPolicy{Disabled: true}
		case 1:
			r.JWTVerificationPolicy = nil
		default:
			r.JWTVerificationPolicy = &contourv1.JWTVerificationPolicy{Require: []string{"a", "b", "c"}[m.rng.IntN(3)]}
		}
	}
}

// mutate returns a copy of idx with one HTTPProxy changed, its key and
// what was done.
func (m *mutator) mutate(idx *source.Index) (*source.Index, types.NamespacedName, string) {
	next := idx.Clone()
	keys := idx.HTTPProxies.SortedKeys()
	if len(keys) == 0 || (len(m.deleted) > 0 && m.rng.IntN(8) == 0) {
		p := m.deleted[len(m.deleted)-1]
		m.deleted = m.deleted[:len(m.deleted)-1]
		mustUpsert(next, p)
		return next, source.Key(p.Namespace, p.Name), "restore " + p.Name
	}
	key := keys[m.rng.IntN(len(keys))]
	p := proxyAt(idx, key).DeepCopy()
	pick := func() *contourv1.HTTPProxy { return proxyAt(idx, keys[m.rng.IntN(len(keys))]) }
	m.serial++
	var what string
	switch m.rng.IntN(15) {
	case 0:
		if err := next.Delete(p); err != nil {
			panic(err)
		}
		m.deleted = append(m.deleted, proxyAt(idx, key))
		return next, key, "delete " + key.String()
	case 1:
		if other := pick(); other.Spec.VirtualHost != nil {
			p.Spec.VirtualHost = &contourv1.VirtualHost{Fqdn: other.Spec.VirtualHost.Fqdn, TLS: other.Spec.VirtualHost.TLS.DeepCopy()}
		}
		what = "take another root's fqdn"
	case 2:
		if p.Spec.VirtualHost != nil {
			p.Spec.VirtualHost = nil
			what = "make a child"
		} else {
			p.Spec.VirtualHost = &contourv1.VirtualHost{Fqdn: fmt.Sprintf("new%d.example.com", m.serial)}
			what = "make a root"
		}
	case 3:
		if len(p.Spec.Routes) > 0 {
			r := p.Spec.Routes[0].DeepCopy()
			r.Conditions = []contourv1.MatchCondition{{Prefix: fmt.Sprintf("/m%d", m.serial)}}
			p.Spec.Routes = append(p.Spec.Routes, *r)
		}
		what = "add a route"
	case 4:
		if n := len(p.Spec.Routes); n > 0 {
			p.Spec.Routes = p.Spec.Routes[:n-1]
		}
		what = "drop a route"
	case 5:
		other := pick()
		p.Spec.Includes = append(p.Spec.Includes, contourv1.Include{Name: other.Name, Namespace: other.Namespace,
			Conditions: []contourv1.MatchCondition{{Prefix: fmt.Sprintf("/i%d", m.serial)}}})
		what = "include " + other.Namespace + "/" + other.Name
	case 6:
		if n := len(p.Spec.Includes); n > 0 {
			p.Spec.Includes = p.Spec.Includes[:n-1]
		}
		what = "drop an include"
	case 7:
		if p.Annotations["projectcontour.io/ingress.class"] == "" {
			p.Annotations = map[string]string{"projectcontour.io/ingress.class": "other"}
		} else {
			delete(p.Annotations, "projectcontour.io/ingress.class")
		}
		what = "switch class"
	case 8:
		p.CreationTimestamp = metav1.NewTime(p.CreationTimestamp.Add(-86400e9 * 365))
		what = "make older"
	case 9:
		what = "change the CORS policy"
		if vh := p.Spec.VirtualHost; vh != nil {
			switch {
			case vh.CORSPolicy == nil:
				vh.CORSPolicy = &contourv1.CORSPolicy{AllowOrigin: []string{"*", fmt.Sprintf("https://o%d.example.com", m.serial)},
					AllowMethods: []contourv1.CORSHeaderValue{"GET"}, MaxAge: "10m"}
			case vh.CORSPolicy.MaxAge != "-1s":
				vh.CORSPolicy.MaxAge = "-1s" // the root becomes invalid
			default:
				vh.CORSPolicy = nil
			}
		}
	case 10:
		m.ipFilters(p)
		what = "change IP filters"
	case 11:
		m.jwt(p)
		what = "change JWT verification"
	case 12:
		m.authorization(p)
		what = "change authorization"
	case 13:
		m.globalRateLimit(p)
		what = "change global rate limits"
	default:
		vh := p.Spec.VirtualHost
		switch n := m.rng.IntN(3); {
		case vh != nil && vh.TLS != nil && n == 0:
			vh.TLS.SecretName = "missing"
		case vh != nil && vh.TLS != nil && n == 1:
			vh.TLS.EnableFallbackCertificate = !vh.TLS.EnableFallbackCertificate
		case vh != nil:
			vh.TLS = nil
		}
		what = "change TLS"
	}
	mustUpsert(next, p)
	return next, key, what + " of " + key.String()
}

// globalRateLimit sets, changes or clears the global rate limit policy of
// p's virtual host or of one of its routes: descriptors, disabled, or an
// invalid entry (two fields set).
func (m *mutator) globalRateLimit(p *contourv1.HTTPProxy) {
	policies := []**contourv1.RateLimitPolicy{}
	if vh := p.Spec.VirtualHost; vh != nil {
		policies = append(policies, &vh.RateLimitPolicy)
	}
	for i := range p.Spec.Routes {
		policies = append(policies, &p.Spec.Routes[i].RateLimitPolicy)
	}
	if len(policies) == 0 {
		return
	}
	at := policies[m.rng.IntN(len(policies))]
	entry := contourv1.RateLimitDescriptorEntry{GenericKey: &contourv1.GenericKeyDescriptor{Value: fmt.Sprintf("v%d", m.serial)}}
	switch m.rng.IntN(5) {
	case 0:
		*at = nil
	case 1:
		*at = &contourv1.RateLimitPolicy{Global: &contourv1.GlobalRateLimitPolicy{Disabled: true}}
	case 2:
		entry.RemoteAddress = &contourv1.RemoteAddressDescriptor{} // invalid
		*at = &contourv1.RateLimitPolicy{Global: &contourv1.GlobalRateLimitPolicy{Descriptors: []contourv1.RateLimitDescriptor{{Entries: []contourv1.RateLimitDescriptorEntry{entry}}}}}
	default:
		*at = &contourv1.RateLimitPolicy{Global: &contourv1.GlobalRateLimitPolicy{Descriptors: []contourv1.RateLimitDescriptor{
			{Entries: []contourv1.RateLimitDescriptorEntry{entry, {RemoteAddress: &contourv1.RemoteAddressDescriptor{}}}},
			{Entries: []contourv1.RateLimitDescriptorEntry{{RequestHeader: &contourv1.RequestHeaderDescriptor{HeaderName: "X-Tenant", DescriptorKey: "tenant"}}}},
		}}}
	}
}

// hasGlobalRateLimits reports whether a virtual host or a route of res
// sends descriptors to a rate limit service.
func hasGlobalRateLimits(res *xds.Resources) bool {
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			if len(vh.GetRateLimits()) > 0 {
				return true
			}
			for _, r := range vh.GetRoutes() {
				if len(r.GetRoute().GetRateLimits()) > 0 {
					return true
				}
			}
		}
	}
	return false
}
