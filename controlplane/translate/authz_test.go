package translate

import (
	"sort"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// TestExternalAuthorization checks what a secure virtual host with an
// authorization server becomes: the ext_authz filter in its own
// connection manager after jwt_authn and before the router, the per-route
// configurations (added beside the others), the port-80 redirect with the
// check disabled, the ExtensionService clusters (also an unused one, as
// Contour) and their weighted assignments. The expectations are proto
// literals written by hand, in the form Contour emits.
func TestExternalAuthorization(t *testing.T) {
	t.Parallel()
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	http := corev1.ServicePort{Name: "http", Port: 80}
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: http}
	path := func(p string) graph.PathMatch { return graph.PathMatch{Kind: graph.PathPrefix, Value: p} }
	auth := &graph.Cluster{Namespace: "ns", Protocol: "h2c", LoadBalancer: graph.Random, CircuitBreakers: graph.CircuitBreakers{MaxConnections: 7},
		Extension: &graph.ExtensionUpstream{Name: "auth", Targets: []graph.ExtensionTarget{{Service: "a", Port: http, Weight: 3}, {Service: "b", Port: http}, {Service: "c", Port: http}}}}
	secure := &graph.Cluster{Namespace: "sys", Protocol: "h2", SNI: "authz.sys",
		Validation: &graph.UpstreamValidation{CA: &graph.Secret{Namespace: "sys", Name: "ca", CA: []byte("CA PEM")}, SubjectNames: []string{"authz.sys"}},
		Extension:  &graph.ExtensionUpstream{Name: "authz", Targets: []graph.ExtensionTarget{{Service: "a", Port: http}}}}
	unused := &graph.Cluster{Namespace: "ns", Protocol: "h2", Extension: &graph.ExtensionUpstream{Name: "unused", Targets: []graph.ExtensionTarget{{Service: "a", Port: http}}}}

	g := graph.New(8080, 8443, graph.AccessLog{})
	g.Extensions = []*graph.Cluster{auth, unused}
	svh := g.SecureVirtualHost("a.com")
	svh.Secret = &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("c"), Key: []byte("k")}
	svh.JWTProviders = []graph.JWTProvider{{Name: "staff", URI: "http://sso.example.com/keys", Timeout: time.Second,
		Cluster: &graph.Cluster{DNSNameScheme: "http", ExternalName: "sso.example.com", Port: corev1.ServicePort{Port: 80}}}}
	svh.Authorization = &graph.ExternalAuthorization{Cluster: auth, FailOpen: true, Timeout: graph.Timeout{Duration: 1500 * time.Millisecond},
		Body: &graph.AuthorizationBody{MaxRequestBytes: 1024, PackAsBytes: true}}
	svh.AddRoute(&graph.Route{Path: path("/"), Backends: []graph.Backend{{Cluster: web}}, Authorization: &graph.RouteAuthorization{}, JWTProvider: "staff"})
	svh.AddRoute(&graph.Route{Path: path("/ctx"), Backends: []graph.Backend{{Cluster: web}},
		Authorization: &graph.RouteAuthorization{Context: map[string]string{"k": "v"}}, RateLimit: &graph.LocalRateLimit{Requests: 1, Unit: "second"}})
	svh.AddRoute(&graph.Route{Path: path("/off"), DirectResponse: &graph.DirectResponse{Code: 200}, Authorization: &graph.RouteAuthorization{Disabled: true, Context: map[string]string{"k": "v"}}})
	svh.AddRoute(&graph.Route{Path: path("/moved"), Redirect: &graph.Redirect{Host: "b.com"}, Authorization: &graph.RouteAuthorization{Disabled: true}})
	g.VirtualHost("a.com").AddRoute(&graph.Route{Path: path("/"), HTTPSRedirect: true, Backends: []graph.Backend{{Cluster: web}}, Authorization: &graph.RouteAuthorization{}})
	tls := g.SecureVirtualHost("b.com")
	tls.Secret = svh.Secret
	tls.Authorization = &graph.ExternalAuthorization{Cluster: secure, Timeout: graph.Timeout{Infinite: true}}
	tls.AddRoute(&graph.Route{Path: path("/"), Backends: []graph.Backend{{Cluster: web}}, Authorization: &graph.RouteAuthorization{}})
	g.VirtualHost("c.com").AddRoute(&graph.Route{Path: path("/"), HTTPSRedirect: true, Backends: []graph.Backend{{Cluster: web}}})

	idx := source.NewIndex()
	for i, svc := range []string{"a", "b", "c"} {
		if svc == "c" {
			continue // no endpoints: no locality
		}
		ready := true
		addr := []string{"10.0.0.1", "10.0.0.2"}[i]
		p, name := int32(8080), "http"
		if err := idx.Upsert(&discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: svc + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
			Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
			Ports:      []discoveryv1.EndpointPort{{Name: &name, Port: &p}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	res, _, err := Translate(g, idx)
	if err != nil {
		t.Fatal(err)
	}

	// The filters: ext_authz after jwt_authn, before the router.
	hcmOf := func(i int) *hcmv3.HttpConnectionManager {
		var hcm hcmv3.HttpConnectionManager
		if err := res.Listener("ingress_https").GetFilterChains()[i].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
			t.Fatal(err)
		}
		return &hcm
	}
	a, b := hcmOf(0), hcmOf(1)
	var names []string
	for _, f := range a.GetHttpFilters() {
		names = append(names, f.GetName())
	}
	want := []string{"envoy.filters.http.compressor", "envoy.filters.http.grpc_web", "envoy.filters.http.grpc_stats", "envoy.filters.http.cors",
		"envoy.filters.http.local_ratelimit", "envoy.filters.http.rbac", "envoy.filters.http.jwt_authn", "envoy.filters.http.ext_authz", "envoy.filters.http.router"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("a.com filters (-want +got):\n%s", d)
	}
	wantA := &extauthzv3.ExtAuthz{
		Services: &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "extension/ns/auth", Authority: "extension.ns.auth"}},
			Timeout:         &durationpb.Duration{Seconds: 1, Nanos: 500000000},
		}},
		TransportApiVersion:    corev3.ApiVersion_V3,
		FailureModeAllow:       true,
		ClearRouteCache:        true,
		StatusOnError:          &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
		IncludePeerCertificate: true,
		WithRequestBody:        &extauthzv3.BufferSettings{MaxRequestBytes: 1024, PackAsBytes: true},
	}
	if d := cmp.Diff(pack(wantA), a.GetHttpFilters()[7].GetTypedConfig(), protocmp.Transform()); d != "" {
		t.Errorf("a.com ext_authz (-want +got):\n%s", d)
	}
	wantB := &extauthzv3.ExtAuthz{
		Services: &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "extension/sys/authz", Authority: "authz.sys"}},
			Timeout:         &durationpb.Duration{},
		}},
		TransportApiVersion:    corev3.ApiVersion_V3,
		ClearRouteCache:        true,
		StatusOnError:          &typev3.HttpStatus{Code: typev3.StatusCode_Forbidden},
		IncludePeerCertificate: true,
	}
	if d := cmp.Diff(pack(wantB), b.GetHttpFilters()[6].GetTypedConfig(), protocmp.Transform()); d != "" {
		t.Errorf("b.com ext_authz (-want +got):\n%s", d)
	}

	// The per-route configurations.
	disabled := pack(&extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_Disabled{Disabled: true}})
	routes := map[string]map[string]*anypb.Any{}
	for _, r := range res.RouteConfiguration("https/a.com").GetVirtualHosts()[0].GetRoutes() {
		routes[r.GetMatch().GetPrefix()] = r.GetTypedPerFilterConfig()
	}
	if _, ok := routes["/"]["envoy.filters.http.ext_authz"]; ok {
		t.Errorf("/: a route checked with no context needs no per-route configuration")
	}
	var keys []string
	for k := range routes["/ctx"] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if d := cmp.Diff([]string{"envoy.filters.http.ext_authz", "envoy.filters.http.local_ratelimit"}, keys); d != "" {
		t.Errorf("/ctx keeps its other per-filter configurations (-want +got):\n%s", d)
	}
	wantCtx := pack(&extauthzv3.ExtAuthzPerRoute{Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{
		CheckSettings: &extauthzv3.CheckSettings{ContextExtensions: map[string]string{"k": "v"}}}})
	if d := cmp.Diff(wantCtx, routes["/ctx"]["envoy.filters.http.ext_authz"], protocmp.Transform()); d != "" {
		t.Errorf("/ctx (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]*anypb.Any{"envoy.filters.http.ext_authz": disabled}, routes["/off"], protocmp.Transform()); d != "" {
		t.Errorf("/off (-want +got):\n%s", d)
	}
	if got := routes["/moved"]; got != nil {
		t.Errorf("/moved: a redirect gets no per-route configuration (as Contour), got %v", got)
	}
	insecure := map[string]map[string]*anypb.Any{}
	for _, vh := range res.RouteConfiguration("ingress_http").GetVirtualHosts() {
		insecure[vh.GetName()] = vh.GetRoutes()[0].GetTypedPerFilterConfig()
	}
	if d := cmp.Diff(map[string]*anypb.Any{"envoy.filters.http.ext_authz": disabled}, insecure["a.com"], protocmp.Transform()); d != "" {
		t.Errorf("a.com port-80 redirect (-want +got):\n%s", d)
	}
	if got := insecure["c.com"]; got != nil {
		t.Errorf("c.com has no authorization: want no per-route configuration, got %v", got)
	}

	// The clusters: the unused ExtensionService's too.
	eds := func(name string) *clusterv3.Cluster_EdsClusterConfig {
		return &clusterv3.Cluster_EdsClusterConfig{ServiceName: name,
			EdsConfig: &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3, ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}}
	}
	h2 := map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": pack(&httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}}}}})}
	tlsSocket := func(ctx *tlsv3.UpstreamTlsContext) *corev3.TransportSocket {
		return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: pack(ctx)}}
	}
	wantClusters := []*clusterv3.Cluster{
		{
			Name: "extension/ns/auth", AltStatName: "extension_ns_auth",
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}, EdsClusterConfig: eds("extension/ns/auth"),
			ConnectTimeout: &durationpb.Duration{Seconds: 2}, LbPolicy: clusterv3.Cluster_RANDOM,
			TypedExtensionProtocolOptions: h2,
			CircuitBreakers: &clusterv3.CircuitBreakers{
				Thresholds:        []*clusterv3.CircuitBreakers_Thresholds{{MaxConnections: wrapperspb.UInt32(7), TrackRemaining: true}},
				PerHostThresholds: []*clusterv3.CircuitBreakers_Thresholds{{TrackRemaining: true}},
			},
			CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
		},
		{
			Name: "extension/ns/unused", AltStatName: "extension_ns_unused",
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}, EdsClusterConfig: eds("extension/ns/unused"),
			ConnectTimeout: &durationpb.Duration{Seconds: 2}, TypedExtensionProtocolOptions: h2,
			TransportSocket: tlsSocket(&tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{AlpnProtocols: []string{"h2"}, TlsParams: wantUpstreamTLS()}}),
			CommonLbConfig:  &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
		},
	}
	for _, want := range wantClusters {
		if d := cmp.Diff(want, res.Cluster(want.GetName()), protocmp.Transform()); d != "" {
			t.Errorf("cluster %s (-want +got):\n%s", want.GetName(), d)
		}
	}
	if got := res.Cluster("extension/sys/authz").GetTransportSocket(); got == nil {
		t.Errorf("extension/sys/authz: want upstream TLS")
	}

	// Endpoints: one locality per target with endpoints, with its weight.
	lb := func(addr string) *endpointv3.LbEndpoint {
		return &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{
			Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Protocol: corev3.SocketAddress_TCP, Address: addr,
				PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080}}}}}}}
	}
	wantAuth := &endpointv3.ClusterLoadAssignment{ClusterName: "extension/ns/auth", Endpoints: []*endpointv3.LocalityLbEndpoints{
		{LbEndpoints: []*endpointv3.LbEndpoint{lb("10.0.0.1")}, LoadBalancingWeight: wrapperspb.UInt32(3)},
		{LbEndpoints: []*endpointv3.LbEndpoint{lb("10.0.0.2")}},
	}}
	if d := cmp.Diff(wantAuth, res.ClusterLoadAssignment("extension/ns/auth"), protocmp.Transform()); d != "" {
		t.Errorf("extension/ns/auth endpoints (-want +got):\n%s", d)
	}
	wantUnused := &endpointv3.ClusterLoadAssignment{ClusterName: "extension/ns/unused", Endpoints: []*endpointv3.LocalityLbEndpoints{
		{LbEndpoints: []*endpointv3.LbEndpoint{lb("10.0.0.1")}, LoadBalancingWeight: wrapperspb.UInt32(1)},
	}}
	if d := cmp.Diff(wantUnused, res.ClusterLoadAssignment("extension/ns/unused"), protocmp.Transform()); d != "" {
		t.Errorf("extension/ns/unused endpoints: with no weights every target weighs 1 (-want +got):\n%s", d)
	}
}
