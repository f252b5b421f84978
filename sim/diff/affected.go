package diff

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/sim/probe"
)

// affected says which derived probes can have a different answer: all of
// them when a listener changed; otherwise those of virtual hosts that changed
// or route to a cluster whose cluster or endpoints changed.
type affected struct {
	all   bool
	hosts map[string]bool // "<route config>\x00<vhost>"
}

func (a affected) includes(p *probe.Probe) bool {
	return a.all || a.hosts[p.RouteConfig+"\x00"+p.VirtualHost]
}

func affectedHosts(base, head *xds.Resources, db, dh digests) affected {
	if base == nil || head == nil || !equalListeners(base, head, db, dh) {
		return affected{all: true}
	}
	changedClusters := map[string]bool{}
	hc := map[string]proto.Message{}
	for _, c := range head.Clusters {
		hc[c.GetName()] = c
	}
	for _, c := range base.Clusters {
		if h, ok := hc[c.GetName()]; !ok || !same(db, dh, c, h) {
			changedClusters[c.GetName()] = true
		}
		delete(hc, c.GetName())
	}
	for name := range hc {
		changedClusters[name] = true
	}
	he := map[string]proto.Message{}
	for _, e := range head.Endpoints {
		he[e.GetClusterName()] = e
	}
	changedEDS := map[string]bool{}
	for _, e := range base.Endpoints {
		if h, ok := he[e.GetClusterName()]; !ok || !same(db, dh, e, h) {
			changedEDS[e.GetClusterName()] = true
		}
		delete(he, e.GetClusterName())
	}
	for name := range he {
		changedEDS[name] = true
	}
	for _, res := range []*xds.Resources{base, head} {
		for _, c := range res.Clusters {
			if changedEDS[c.GetEdsClusterConfig().GetServiceName()] {
				changedClusters[c.GetName()] = true
			}
		}
	}
	out := affected{hosts: map[string]bool{}}
	bv := vhostIndex(base)
	hv := vhostIndex(head)
	for key, vh := range bv {
		if other, ok := hv[key]; !ok || !same(db, dh, vh, other) || routesTo(vh, changedClusters) {
			out.hosts[key] = true
		}
	}
	for key, vh := range hv {
		if _, ok := bv[key]; !ok || routesTo(vh, changedClusters) {
			out.hosts[key] = true
		}
	}
	return out
}

func equalListeners(a, b *xds.Resources, da, db digests) bool {
	if len(a.Listeners) != len(b.Listeners) {
		return false
	}
	for i := range a.Listeners {
		if !same(da, db, a.Listeners[i], b.Listeners[i]) {
			return false
		}
	}
	return true
}

func vhostIndex(res *xds.Resources) map[string]*routev3.VirtualHost {
	out := map[string]*routev3.VirtualHost{}
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			out[rc.GetName()+"\x00"+vh.GetName()] = vh
		}
	}
	return out
}

// routesTo reports whether a route of vh forwards or mirrors to a cluster in set.
func routesTo(vh *routev3.VirtualHost, set map[string]bool) bool {
	if len(set) == 0 {
		return false
	}
	for _, r := range vh.GetRoutes() {
		a := r.GetRoute()
		if set[a.GetCluster()] {
			return true
		}
		for _, w := range a.GetWeightedClusters().GetClusters() {
			if set[w.GetName()] {
				return true
			}
		}
		for _, m := range a.GetRequestMirrorPolicies() {
			if set[m.GetCluster()] {
				return true
			}
		}
	}
	return false
}
