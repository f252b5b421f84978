package controlplane_test

import (
	"hash/fnv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// seedOf is the seed of a corpus's random changes, from its name.
func seedOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// withFallback returns idx with the fallback certificate enabled by every
// other TLS root in namespace ns.
func withFallback(idx *source.Index, ns string) *source.Index {
	out := idx.Clone()
	n := 0
	for _, k := range idx.HTTPProxies.SortedKeys() {
		p := proxyAt(idx, k)
		if k.Namespace != ns || p.Spec.VirtualHost == nil || p.Spec.VirtualHost.TLS == nil {
			continue
		}
		if n++; n%2 == 1 {
			p = p.DeepCopy()
			p.Spec.VirtualHost.TLS.EnableFallbackCertificate = true
			mustUpsert(out, p)
		}
	}
	return out
}

// withExtensions returns idx with, in every namespace that has a Service,
// a valid ExtensionService "authz" balancing over its first two Services
// (their Services' endpoints change in the test too), and everywhere
// an invalid one, "broken", naming a missing Service: authorization
// mutations name them. Every other TLS root there starts authorized by
// "authz", some of its routes disabling the check.
func withExtensions(idx *source.Index) *source.Index {
	next := idx.Clone()
	byNS := map[string][]contourv1alpha1.ExtensionServiceTarget{}
	for _, k := range source.SortedKeys(idx.Services) {
		svc := idx.Services[k]
		if len(byNS[k.Namespace]) < 2 && len(svc.Ports) > 0 && svc.ExternalName == "" {
			byNS[k.Namespace] = append(byNS[k.Namespace], contourv1alpha1.ExtensionServiceTarget{
				Name: k.Name, Port: int(svc.Ports[0].Port), Weight: uint32(len(byNS[k.Namespace]))})
		}
	}
	for ns, targets := range byNS {
		h2c := "h2c"
		for _, e := range []*contourv1alpha1.ExtensionService{
			{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "authz"}, Spec: contourv1alpha1.ExtensionServiceSpec{Services: targets, Protocol: &h2c}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "broken"}, Spec: contourv1alpha1.ExtensionServiceSpec{
				Services: []contourv1alpha1.ExtensionServiceTarget{{Name: "missing", Port: 80}}}},
		} {
			if err := next.Upsert(e); err != nil {
				panic(err)
			}
		}
	}
	for i, k := range idx.HTTPProxies.SortedKeys() {
		p := proxyAt(idx, k)
		if vh := p.Spec.VirtualHost; i%2 == 1 || vh == nil || vh.TLS == nil || byNS[k.Namespace] == nil {
			continue
		}
		p = p.DeepCopy()
		p.Spec.VirtualHost.Authorization = &contourv1.AuthorizationServer{ExtensionServiceRef: contourv1.ExtensionServiceReference{Name: "authz"}}
		for j := range p.Spec.Routes {
			if j%3 == 1 {
				p.Spec.Routes[j].AuthPolicy = &contourv1.AuthorizationPolicy{Disabled: true}
			}
		}
		mustUpsert(next, p)
	}
	return next
}
