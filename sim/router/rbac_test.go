package router

import (
	"net/netip"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacconfigv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// rbacFixture is a listener with one trusted hop whose connection manager
// runs the RBAC filter (when rbacOn), and a host that allows 10.0.0.0/8
// (Peer) and 192.0.2.0/24 (Remote), with a route /admin denying
// 10.9.0.0/16 (Peer) instead, a route /open turning the filter off, and a
// direct response /static. Written by hand from Envoy's documentation.
func rbacFixture(t *testing.T, rbacOn bool) *xds.Resources {
	t.Helper()
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cidr := func(addr string, bits uint32) *corev3.CidrRange {
		return &corev3.CidrRange{AddressPrefix: addr, PrefixLen: wrapperspb.UInt32(bits)}
	}
	rules := func(action rbacconfigv3.RBAC_Action, ps ...*rbacconfigv3.Principal) map[string]*anypb.Any {
		return map[string]*anypb.Any{rbacFilter: pack(&rbacv3.RBACPerRoute{Rbac: &rbacv3.RBAC{Rules: &rbacconfigv3.RBAC{Action: action,
			Policies: map[string]*rbacconfigv3.Policy{"ip-rules": {
				Permissions: []*rbacconfigv3.Permission{{Rule: &rbacconfigv3.Permission_Any{Any: true}}}, Principals: ps}}}}})}
	}
	hcm := &hcmv3.HttpConnectionManager{UseRemoteAddress: wrapperspb.Bool(true), XffNumTrustedHops: 1,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "http"}}}
	if rbacOn {
		hcm.HttpFilters = []*hcmv3.HttpFilter{{Name: rbacFilter}, {Name: "envoy.filters.http.router"}}
	}
	l := &listenerv3.Listener{Name: "http", Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: pack(hcm)}}}}}}
	prefix := func(p string) *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}}
	}
	rc := &routev3.RouteConfiguration{Name: "http", VirtualHosts: []*routev3.VirtualHost{{
		Name: "a", Domains: []string{"a.com"},
		TypedPerFilterConfig: rules(rbacconfigv3.RBAC_ALLOW,
			&rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_DirectRemoteIp{DirectRemoteIp: cidr("10.0.0.0", 8)}},
			&rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_RemoteIp{RemoteIp: cidr("192.0.2.0", 24)}}),
		Routes: []*routev3.Route{
			{Match: prefix("/admin"), Action: toCluster("ns/a/80/h"), TypedPerFilterConfig: rules(rbacconfigv3.RBAC_DENY,
				&rbacconfigv3.Principal{Identifier: &rbacconfigv3.Principal_DirectRemoteIp{DirectRemoteIp: cidr("10.9.0.0", 16)}})},
			{Match: prefix("/open"), Action: toCluster("ns/a/80/h"), TypedPerFilterConfig: map[string]*anypb.Any{rbacFilter: pack(&rbacv3.RBACPerRoute{})}},
			{Match: prefix("/static"), Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200}}},
			{Match: prefix("/"), Action: toCluster("ns/a/80/h")},
		},
	}}}
	return &xds.Resources{Listeners: []*listenerv3.Listener{l}, Routes: []*routev3.RouteConfiguration{rc},
		Clusters: []*clusterv3.Cluster{{Name: "ns/a/80/h", EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{ServiceName: "ns/a/http"}}},
		Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "ns/a/http", Endpoints: []*endpointv3.LocalityLbEndpoints{
			{LbEndpoints: []*endpointv3.LbEndpoint{{}}}}}}}
}

func TestRBAC(t *testing.T) {
	t.Parallel()
	on, off := New(rbacFixture(t, true), Options{}), New(rbacFixture(t, false), Options{})
	xff := func(v string) map[string]string { return map[string]string{"X-Forwarded-For": v} }
	for name, tc := range map[string]struct {
		req      Request
		filterOn bool
		want     answer
		body     string
	}{
		"peer in the host's allow list":        {Request{URL: "http://a.com/", ClientIP: "10.1.2.3"}, true, answer{200, true, "a:100", ""}, ""},
		"peer outside: 403":                    {Request{URL: "http://a.com/", ClientIP: "198.51.100.1"}, true, answer{403, false, "", ""}, rbacDenied},
		"the trusted hop names a Remote match": {Request{URL: "http://a.com/", ClientIP: "198.51.100.1", Headers: xff("203.0.113.1, 192.0.2.9")}, true, answer{200, true, "a:100", ""}, ""},
		"an untrusted entry is not the remote": {Request{URL: "http://a.com/", ClientIP: "198.51.100.1", Headers: xff("192.0.2.9, 203.0.113.1")}, true, answer{403, false, "", ""}, rbacDenied},
		"the route's deny list replaces it":    {Request{URL: "http://a.com/admin", ClientIP: "10.9.0.1"}, true, answer{403, false, "", ""}, rbacDenied},
		"not denied by the route's list":       {Request{URL: "http://a.com/admin", ClientIP: "198.51.100.1"}, true, answer{200, true, "a:100", ""}, ""},
		"a route turning the filter off":       {Request{URL: "http://a.com/open", ClientIP: "198.51.100.1"}, true, answer{200, true, "a:100", ""}, ""},
		"a direct response is filtered too":    {Request{URL: "http://a.com/static", ClientIP: "198.51.100.1"}, true, answer{403, false, "", ""}, rbacDenied},
		"no client address: not evaluated":     {Request{URL: "http://a.com/"}, true, answer{200, true, "a:100", ""}, ""},
		"a v4-mapped peer is IPv6 (no match)":  {Request{URL: "http://a.com/", ClientIP: "::ffff:10.1.2.3"}, true, answer{403, false, "", ""}, rbacDenied},
		"no route: 404 before RBAC":            {Request{URL: "http://b.com/", ClientIP: "198.51.100.1"}, true, answer{404, false, "", ""}, ""},
		"a bad client address":                 {Request{URL: "http://a.com/", ClientIP: "10.0.0.256"}, true, answer{0, false, "", ""}, ""},
		"no RBAC filter in the chain":          {Request{URL: "http://a.com/", ClientIP: "198.51.100.1"}, false, answer{200, true, "a:100", ""}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rt := off
			if tc.filterOn {
				rt = on
			}
			res := rt.Evaluate(tc.req)
			if d := cmp.Diff(tc.want, summarize(res)); d != "" {
				t.Errorf("(-want +got):\n%s\ntrace: %q", d, res.Trace)
			}
			if res.Body != tc.body {
				t.Errorf("body %q, want %q", res.Body, tc.body)
			}
		})
	}
}

// TestRemoteAddress: the address remote_ip principals match, as Envoy
// derives it from X-Forwarded-For.
func TestRemoteAddress(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		useRemote bool
		hops      uint32
		xff       string
		want      string
	}{
		"no trusted hop: the peer":                {true, 0, "192.0.2.1", "198.51.100.1"},
		"one hop: the last entry":                 {true, 1, "203.0.113.1,192.0.2.1", "192.0.2.1"},
		"two hops: the second from the right":     {true, 2, "203.0.113.1, 192.0.2.1, 192.0.2.2", "192.0.2.1"},
		"fewer entries than hops: the peer":       {true, 2, "192.0.2.1", "198.51.100.1"},
		"no header: the peer":                     {true, 1, "", "198.51.100.1"},
		"not an address: the peer":                {true, 1, "unknown", "198.51.100.1"},
		"IPv6 entry":                              {true, 1, "2001:db8::7", "2001:db8::7"},
		"without use_remote_address: one further": {false, 0, "203.0.113.1, 192.0.2.1", "192.0.2.1"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hcm := &hcmv3.HttpConnectionManager{UseRemoteAddress: wrapperspb.Bool(tc.useRemote), XffNumTrustedHops: tc.hops}
			p := &parsed{clientIP: netip.MustParseAddr("198.51.100.1"), headers: map[string]string{}}
			if tc.xff != "" {
				p.headers["x-forwarded-for"] = tc.xff
			}
			got := clientAddressesOf(hcm, p)
			if got.peer.String() != "198.51.100.1" || got.remote.String() != tc.want {
				t.Errorf("peer %s remote %s, want remote %s", got.peer, got.remote, tc.want)
			}
		})
	}
}
