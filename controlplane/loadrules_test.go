package controlplane_test

import (
	"fmt"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// loadRuleError is the first place in res's route configurations that
// breaks a rule Envoy checks in code when it loads a route configuration,
// beyond the constraints Validate checks: no header list may set or remove
// Host or a pseudo-header (its HeaderParser), no two virtual hosts may share
// a domain, and weighted clusters must weigh more than 0 in all; nor, in
// a listener, two filter chains with the same match.
func loadRuleError(res *xds.Resources) error {
	for _, l := range res.Listeners {
		if err := filterChainMatches(l); err != nil {
			return err
		}
	}
	for _, rc := range res.Routes {
		where := "route configuration " + rc.GetName()
		if err := headerLists(where, rc.GetRequestHeadersToAdd(), rc.GetRequestHeadersToRemove(),
			rc.GetResponseHeadersToAdd(), rc.GetResponseHeadersToRemove()); err != nil {
			return err
		}
		domains := map[string]string{}
		for _, vh := range rc.GetVirtualHosts() {
			for _, d := range vh.GetDomains() {
				if other, ok := domains[strings.ToLower(d)]; ok {
					return fmt.Errorf("%s: virtual hosts %q and %q share the domain %q", where, other, vh.GetName(), d)
				}
				domains[strings.ToLower(d)] = vh.GetName()
			}
			if err := virtualHostRules(where+" virtual host "+vh.GetName(), vh); err != nil {
				return err
			}
		}
	}
	return nil
}

// filterChainMatches refuses, as Envoy does, a listener with two filter
// chains whose matches are the same ("multiple filter chains with the
// same matching rules are defined").
func filterChainMatches(l *listenerv3.Listener) error {
	seen := map[string]int{}
	for i, fc := range l.GetFilterChains() {
		key, err := proto.MarshalOptions{Deterministic: true}.Marshal(fc.GetFilterChainMatch())
		if err != nil {
			return err
		}
		if j, ok := seen[string(key)]; ok {
			return fmt.Errorf("listener %s: filter chains %d and %d have the same match", l.GetName(), j, i)
		}
		seen[string(key)] = i
	}
	return nil
}

// virtualHostRules checks vh's header lists and its routes'.
func virtualHostRules(where string, vh *routev3.VirtualHost) error {
	if err := headerLists(where, vh.GetRequestHeadersToAdd(), vh.GetRequestHeadersToRemove(),
		vh.GetResponseHeadersToAdd(), vh.GetResponseHeadersToRemove()); err != nil {
		return err
	}
	for i, r := range vh.GetRoutes() {
		at := fmt.Sprintf("%s route %d", where, i)
		if err := headerLists(at, r.GetRequestHeadersToAdd(), r.GetRequestHeadersToRemove(),
			r.GetResponseHeadersToAdd(), r.GetResponseHeadersToRemove()); err != nil {
			return err
		}
		if wc := r.GetRoute().GetWeightedClusters(); wc != nil {
			total := uint64(0)
			for j, c := range wc.GetClusters() {
				total += uint64(c.GetWeight().GetValue())
				if err := headerLists(fmt.Sprintf("%s weighted cluster %d", at, j), c.GetRequestHeadersToAdd(), c.GetRequestHeadersToRemove(),
					c.GetResponseHeadersToAdd(), c.GetResponseHeadersToRemove()); err != nil {
					return err
				}
			}
			if total == 0 {
				return fmt.Errorf("%s: its weighted clusters weigh 0 in all", at)
			}
		}
		if cfg := r.GetTypedPerFilterConfig()["envoy.filters.http.local_ratelimit"]; cfg != nil {
			var lrl localratelimitv3.LocalRateLimit
			if err := cfg.UnmarshalTo(&lrl); err == nil {
				if err := headerLists(at+" local rate limit", nil, nil, lrl.GetResponseHeadersToAdd(), nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// headerLists refuses, as Envoy's HeaderParser does, a list that sets or
// removes Host or a pseudo-header.
func headerLists[A interface{ GetHeader() H }, H interface{ GetKey() string }](where string, reqAdd []A, reqRemove []string, respAdd []A, respRemove []string) error {
	for _, list := range [][]A{reqAdd, respAdd} {
		for _, o := range list {
			if k := o.GetHeader().GetKey(); unmodifiable(k) {
				return fmt.Errorf("%s: sets %q, which Envoy refuses (\":-prefixed or host headers may not be modified\")", where, k)
			}
		}
	}
	for _, list := range [][]string{reqRemove, respRemove} {
		for _, k := range list {
			if unmodifiable(k) {
				return fmt.Errorf("%s: removes %q, which Envoy refuses (\":-prefixed or host headers may not be removed\")", where, k)
			}
		}
	}
	return nil
}

// unmodifiable is Envoy's rule for header lists: Host and pseudo-headers
// cannot be set or removed there.
func unmodifiable(k string) bool {
	return strings.HasPrefix(k, ":") || strings.EqualFold(k, "host")
}

func TestLoadRuleError(t *testing.T) {
	route := func(mod func(r *routev3.Route)) *xds.Resources {
		r := &routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{
			WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{{Name: "c", Weight: wrapperspb.UInt32(1)}}}}}}}
		mod(r)
		return &xds.Resources{Routes: []*routev3.RouteConfiguration{{Name: "rc", VirtualHosts: []*routev3.VirtualHost{
			{Name: "a", Domains: []string{"a.com"}, Routes: []*routev3.Route{r}}}}}}
	}
	for name, tc := range map[string]struct {
		res  *xds.Resources
		want string // a part of the error; "" for none
	}{
		"fine": {route(func(*routev3.Route) {}), ""},
		"a route removes Host": {route(func(r *routev3.Route) { r.RequestHeadersToRemove = []string{"x-a", "HOST"} }),
			`route configuration rc virtual host a route 0: removes "HOST"`},
		"a weighted cluster sets a pseudo-header": {route(func(r *routev3.Route) {
			r.GetRoute().GetWeightedClusters().Clusters[0].ResponseHeadersToAdd = []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: ":status", Value: "1"}}}
		}), `weighted cluster 0: sets ":status"`},
		"weights of 0": {route(func(r *routev3.Route) { r.GetRoute().GetWeightedClusters().Clusters[0].Weight = wrapperspb.UInt32(0) }),
			"weigh 0 in all"},
		"two filter chains matching the same": {&xds.Resources{Listeners: []*listenerv3.Listener{{Name: "l", FilterChains: []*listenerv3.FilterChain{
			{FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"a.com"}}},
			{FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"b.com"}}},
			{FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"a.com"}}}}}}},
			"listener l: filter chains 0 and 2 have the same match"},
		"a shared domain": {&xds.Resources{Routes: []*routev3.RouteConfiguration{{Name: "rc", VirtualHosts: []*routev3.VirtualHost{
			{Name: "a", Domains: []string{"a.com"}}, {Name: "b", Domains: []string{"b.com", "A.com"}}}}}},
			`virtual hosts "a" and "b" share the domain "A.com"`},
	} {
		err := loadRuleError(tc.res)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}
