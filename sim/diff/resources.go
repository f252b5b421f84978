package diff

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// ResourceChange is one xDS resource that differs between the states.
type ResourceChange struct {
	// Type is listener, route, cluster, endpoint or secret.
	Type   string        `json:"type"`
	Name   string        `json:"name"`
	Change Change        `json:"change"`
	Fields []FieldChange `json:"fields,omitempty"`
}

type named struct {
	name string
	msg  proto.Message
}

func byName(res *xds.Resources) map[string][]named {
	out := map[string][]named{}
	if res == nil {
		return out
	}
	for _, l := range res.Listeners {
		out["listener"] = append(out["listener"], named{l.GetName(), l})
	}
	for _, r := range res.Routes {
		out["route"] = append(out["route"], named{r.GetName(), r})
	}
	for _, c := range res.Clusters {
		out["cluster"] = append(out["cluster"], named{c.GetName(), c})
	}
	for _, e := range res.Endpoints {
		out["endpoint"] = append(out["endpoint"], named{e.GetClusterName(), e})
	}
	for _, s := range res.Secrets {
		out["secret"] = append(out["secret"], named{s.GetName(), s})
	}
	return out
}

// compareResources lists xDS resources added, removed or changed, by type
// (listener, route, cluster, endpoint, secret) then name. Secrets are
// compared but their fields are not printed.
func compareResources(base, head *xds.Resources, db, dh digests) ([]ResourceChange, error) {
	b, h := byName(base), byName(head)
	var out []ResourceChange
	for _, typ := range []string{"listener", "route", "cluster", "endpoint", "secret"} {
		bm := map[string]proto.Message{}
		for _, n := range b[typ] {
			bm[n.name] = n.msg
		}
		hm := map[string]proto.Message{}
		for _, n := range h[typ] {
			hm[n.name] = n.msg
		}
		for _, name := range unionNames(b[typ], h[typ]) {
			bv, inBase := bm[name]
			hv, inHead := hm[name]
			switch {
			case !inBase:
				out = append(out, ResourceChange{Type: typ, Name: name, Change: Added})
			case !inHead:
				out = append(out, ResourceChange{Type: typ, Name: name, Change: Removed})
			case !same(db, dh, bv, hv):
				c := ResourceChange{Type: typ, Name: name, Change: Changed}
				if rb, ok := bv.(*routev3.RouteConfiguration); ok {
					fc, err := routeConfigChanges(rb, hv.(*routev3.RouteConfiguration), db, dh)
					if err != nil {
						return nil, fmt.Errorf("%s %s: %w", typ, name, err)
					}
					c.Fields = fc
				} else if typ != "secret" {
					fc, err := protoFieldChanges(bv, hv)
					if err != nil {
						return nil, fmt.Errorf("%s %s: %w", typ, name, err)
					}
					c.Fields = fc
				}
				out = append(out, c)
			}
		}
	}
	return out, nil
}

var jsonOpts = protojson.MarshalOptions{UseProtoNames: true}

func protoFieldChanges(a, b proto.Message) ([]FieldChange, error) {
	aj, err := jsonOpts.Marshal(a)
	if err != nil {
		return nil, err
	}
	bj, err := jsonOpts.Marshal(b)
	if err != nil {
		return nil, err
	}
	av, err := generic(aj)
	if err != nil {
		return nil, err
	}
	bv, err := generic(bj)
	if err != nil {
		return nil, err
	}
	return fieldChanges(av, bv), nil
}

func unionNames(a, b []named) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range append(append([]named(nil), a...), b...) {
		if !seen[n.name] {
			seen[n.name] = true
			out = append(out, n.name)
		}
	}
	sortStrings(out)
	return out
}

// routeConfigChanges compares two route configurations virtual host by
// virtual host, so one changed host in a configuration of thousands costs
// one host's comparison.
func routeConfigChanges(a, b *routev3.RouteConfiguration, da, db digests) ([]FieldChange, error) {
	bv := map[string]*routev3.VirtualHost{}
	for _, vh := range b.GetVirtualHosts() {
		bv[vh.GetName()] = vh
	}
	var out []FieldChange
	seen := map[string]bool{}
	for _, va := range a.GetVirtualHosts() {
		seen[va.GetName()] = true
		vb, ok := bv[va.GetName()]
		switch {
		case !ok:
			out = append(out, FieldChange{Path: "virtual_hosts[" + va.GetName() + "]", Before: "(present)"})
		case !same(da, db, va, vb):
			fc, err := protoFieldChanges(va, vb)
			if err != nil {
				return nil, err
			}
			for _, f := range fc {
				f.Path = "virtual_hosts[" + va.GetName() + "]." + f.Path
				out = append(out, f)
			}
		}
	}
	for _, vb := range b.GetVirtualHosts() {
		if !seen[vb.GetName()] {
			out = append(out, FieldChange{Path: "virtual_hosts[" + vb.GetName() + "]", After: "(present)"})
		}
	}
	return out, nil
}
