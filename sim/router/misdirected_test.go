package router

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// misdirectedFixture is ingress_https with a TLS chain for *.example.com
// whose connection manager runs Isobar's misdirected request check first
// (check) or a Lua script of its own (other), and strips a trailing dot
// from the Host (stripDot); its virtual host *.example.com forwards to a
// cluster with one endpoint. Written by hand from Envoy's documentation.
func misdirectedFixture(t *testing.T, check, other, stripDot bool) *xds.Resources {
	t.Helper()
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	script := func(src string) *luav3.Lua {
		return &luav3.Lua{DefaultSourceCode: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: src}}}
	}
	var filters []*hcmv3.HttpFilter
	if check {
		filters = append(filters, &hcmv3.HttpFilter{Name: "isobar.filters.http.misdirected",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: pack(script(envoy.MisdirectedSource))}})
	}
	if other {
		filters = append(filters, &hcmv3.HttpFilter{Name: "envoy.filters.http.lua",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: pack(script("function envoy_on_request(h) end"))}})
	}
	// A Lua filter with named scripts only runs none by default.
	filters = append(filters, &hcmv3.HttpFilter{Name: "named-only", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: pack(&luav3.Lua{
		SourceCodes: map[string]*corev3.DataSource{"x.lua": {Specifier: &corev3.DataSource_InlineString{InlineString: "-- nothing"}}}})}},
		&hcmv3.HttpFilter{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: pack(&routerv3.Router{})}})
	hcm := &hcmv3.HttpConnectionManager{HttpFilters: filters, StripTrailingHostDot: stripDot,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "https/*.example.com"}}}
	l := &listenerv3.Listener{Name: "ingress_https", Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8443}}}},
		ListenerFilters: []*listenerv3.ListenerFilter{{Name: "envoy.filters.listener.tls_inspector"}},
		FilterChains: []*listenerv3.FilterChain{{
			FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{"*.example.com"}},
			TransportSocket:  &corev3.TransportSocket{Name: "envoy.transport_sockets.tls"},
			Filters:          []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: pack(hcm)}}},
		}}}
	rc := &routev3.RouteConfiguration{Name: "https/*.example.com", IgnorePortInHostMatching: true, VirtualHosts: []*routev3.VirtualHost{
		{Name: "*.example.com", Domains: []string{"*.example.com"}, Routes: []*routev3.Route{
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}, Action: toCluster("ns/web/80/h")}}},
		{Name: "misdirected", Domains: []string{"*"}, Routes: []*routev3.Route{
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 421}}}}},
	}}
	return &xds.Resources{Listeners: []*listenerv3.Listener{l}, Routes: []*routev3.RouteConfiguration{rc},
		Clusters: []*clusterv3.Cluster{{Name: "ns/web/80/h"}},
		Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "ns/web/80/h", Endpoints: []*endpointv3.LocalityLbEndpoints{
			{LbEndpoints: []*endpointv3.LbEndpoint{{}}}}}}}
}

func TestMisdirectedCheck(t *testing.T) {
	t.Parallel()
	const body = "misdirected request: the Host does not match the TLS server name\n"
	for name, tc := range map[string]struct {
		check, other, stripDot bool
		url, host, sni         string
		status                 int
		body, trace            string
	}{
		"the Host is the server name": {check: true, url: "https://a.example.com/", status: 200,
			trace: `misdirected request check: host "a.example.com" is the TLS server name`},
		"another name of the wildcard": {check: true, url: "https://a.example.com/", host: "b.example.com", status: 421, body: body,
			trace: `misdirected request check: host "b.example.com" is not the TLS server name "a.example.com": 421`},
		"the same, asked with --sni":                                  {check: true, url: "https://b.example.com/", sni: "a.example.com", status: 421, body: body},
		"the port and case of the Host do not count":                  {check: true, url: "https://a.example.com/", host: "A.Example.com:443", sni: "a.example.com", status: 200},
		"nor the case of the server name":                             {check: true, url: "https://a.example.com/", sni: "A.EXAMPLE.COM", status: 200},
		"a trailing dot is another name":                              {check: true, url: "https://a.example.com/", host: "a.example.com.", status: 421, body: body},
		"unless the connection manager strips it":                     {check: true, stripDot: true, url: "https://a.example.com/", host: "a.example.com.", status: 200},
		"without the check the wildcard host serves any of its names": {url: "https://a.example.com/", host: "b.example.com", status: 200},
		"another script is named, not evaluated": {other: true, url: "https://a.example.com/", host: "b.example.com", status: 200,
			trace: "Lua filter envoy.filters.http.lua runs a script of its own on every request: not evaluated by the simulator"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := Request{URL: tc.url, SNI: tc.sni}
			if tc.host != "" {
				req.Headers = map[string]string{"Host": tc.host}
			}
			res := New(misdirectedFixture(t, tc.check, tc.other, tc.stripDot), Options{}).Evaluate(req)
			if res.Status != tc.status || res.Body != tc.body || res.Routed != (tc.status == 200) {
				t.Errorf("status %d (routed %v), body %q; want %d, %q\n%s", res.Status, res.Routed, res.Body, tc.status, tc.body, strings.Join(res.Trace, "\n"))
			}
			if tc.status == 421 && (res.VirtualHost != "" || res.Route != nil) {
				t.Errorf("answered before routing, yet virtual host %q, route %v", res.VirtualHost, res.Route)
			}
			if tc.trace != "" && !strings.Contains(strings.Join(res.Trace, "\n"), tc.trace) {
				t.Errorf("trace lacks %q:\n%s", tc.trace, strings.Join(res.Trace, "\n"))
			}
		})
	}
}
