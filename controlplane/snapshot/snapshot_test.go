package snapshot

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

func packed(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// resources is a small consistent set: an HTTPS listener with one HCM
// chain (secret s, routes https/a.com, a JWT provider fetching keys
// through cluster jwks, an authorization server at cluster
// extension/ns/auth) and one TCP proxy chain, a route to cluster c1
// mirroring to c2, c1, c2 with their assignments, jwks (DNS) and the
// extension (EDS).
func resources(t *testing.T) *xds.Resources {
	hcm := &hcmv3.HttpConnectionManager{StatPrefix: "x", RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "https/a.com"}}}
	jwt := &jwtv3.JwtAuthentication{Providers: map[string]*jwtv3.JwtProvider{"p": {JwksSourceSpecifier: &jwtv3.JwtProvider_RemoteJwks{
		RemoteJwks: &jwtv3.RemoteJwks{HttpUri: &corev3.HttpUri{Uri: "https://k.com", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: "jwks"}}},
	}}}}
	authz := &extauthzv3.ExtAuthz{Services: &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
		TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "extension/ns/auth"}}}}}
	hcm.HttpFilters = []*hcmv3.HttpFilter{{Name: "envoy.filters.http.jwt_authn", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: packed(t, jwt)}},
		{Name: "envoy.filters.http.ext_authz", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: packed(t, authz)}}}
	tls := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "ns/s/1"}}}}
	tcp := &tcpproxyv3.TcpProxy{StatPrefix: "y", ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "c2"}}
	eds := func(name, service string) *clusterv3.Cluster {
		return &clusterv3.Cluster{Name: name, ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
			EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{ServiceName: service}}
	}
	return &xds.Resources{
		Listeners: []*listenerv3.Listener{{Name: "ingress_https", FilterChains: []*listenerv3.FilterChain{
			{
				TransportSocket: &corev3.TransportSocket{Name: "tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: packed(t, tls)}},
				Filters:         []*listenerv3.Filter{{Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: packed(t, hcm)}}},
			},
			{Filters: []*listenerv3.Filter{{Name: "tcp", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: packed(t, tcp)}}}},
		}}},
		Routes: []*routev3.RouteConfiguration{{Name: "https/a.com", VirtualHosts: []*routev3.VirtualHost{{Name: "a.com", Routes: []*routev3.Route{{
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier:      &routev3.RouteAction_Cluster{Cluster: "c1"},
				RequestMirrorPolicies: []*routev3.RouteAction_RequestMirrorPolicy{{Cluster: "c2"}},
			}},
		}}}}}},
		Clusters: []*clusterv3.Cluster{eds("c1", "ns/one/http"), eds("c2", ""),
			{Name: "jwks", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}},
			eds("extension/ns/auth", "extension/ns/auth")},
		Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "c2"}, {ClusterName: "ns/one/http"}, {ClusterName: "extension/ns/auth"}},
		Secrets:   []*tlsv3.Secret{{Name: "ns/s/1"}},
	}
}

func TestConsistent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		breakIt func(r *xds.Resources)
		wantErr string
	}{
		{name: "consistent", breakIt: func(*xds.Resources) {}},
		{name: "missing route configuration", breakIt: func(r *xds.Resources) { r.Routes = nil },
			wantErr: `listener "ingress_https": route configuration "https/a.com" does not exist`},
		{name: "missing secret", breakIt: func(r *xds.Resources) { r.Secrets = nil },
			wantErr: `listener "ingress_https": secret "ns/s/1" does not exist`},
		{name: "missing routed cluster", breakIt: func(r *xds.Resources) { r.Clusters = r.Clusters[1:]; r.Endpoints = r.Endpoints[:1] },
			wantErr: `route configuration "https/a.com", virtual host "a.com", route 0: cluster "c1" does not exist`},
		{name: "missing cluster after routes sharing an action", breakIt: func(r *xds.Resources) {
			vh := r.Routes[0].VirtualHosts[0]
			shared := vh.Routes[0]
			other := &routev3.Route{Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "nope"}}}}
			vh.Routes = []*routev3.Route{shared, {Action: shared.Action}, {Action: shared.Action}, other, {Action: other.Action}}
		}, wantErr: `route configuration "https/a.com", virtual host "a.com", route 3: cluster "nope" does not exist`},
		{name: "missing cluster of a shared action", breakIt: func(r *xds.Resources) {
			vh := r.Routes[0].VirtualHosts[0]
			vh.Routes = append(vh.Routes, &routev3.Route{Action: vh.Routes[0].Action})
			r.Clusters = r.Clusters[1:]
			r.Endpoints = r.Endpoints[:1]
		}, wantErr: `route configuration "https/a.com", virtual host "a.com", route 0: cluster "c1" does not exist`},
		{name: "missing TCP proxy cluster", breakIt: func(r *xds.Resources) {
			r.Clusters = append(r.Clusters[:1:1], r.Clusters[2], r.Clusters[3])
			r.Routes[0].VirtualHosts[0].Routes[0].GetRoute().RequestMirrorPolicies = nil
		}, wantErr: `listener "ingress_https": cluster "c2" does not exist`},
		{name: "missing JWKS cluster", breakIt: func(r *xds.Resources) { r.Clusters = append(r.Clusters[:2:2], r.Clusters[3]) },
			wantErr: `listener "ingress_https": cluster "jwks" does not exist`},
		{name: "missing authorization server cluster", breakIt: func(r *xds.Resources) { r.Clusters = r.Clusters[:3]; r.Endpoints = r.Endpoints[:2] },
			wantErr: `listener "ingress_https": cluster "extension/ns/auth" does not exist`},
		{name: "EDS cluster without an assignment (service name)", breakIt: func(r *xds.Resources) { r.Endpoints = append(r.Endpoints[:1:1], r.Endpoints[2]) },
			wantErr: `cluster "c1": ClusterLoadAssignment "ns/one/http" does not exist`},
		{name: "EDS cluster without an assignment (cluster name)", breakIt: func(r *xds.Resources) { r.Endpoints = r.Endpoints[1:] },
			wantErr: `cluster "c2": ClusterLoadAssignment "c2" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := resources(t)
			tc.breakIt(r)
			err := Consistent(r)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Consistent: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Consistent = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestVersions(t *testing.T) {
	t.Parallel()
	a, err := Versions(resources(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Versions(resources(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{Listeners, Routes, Clusters, Endpoints, Secrets} {
		if len(a[typ]) != 16 || a[typ] != b[typ] {
			t.Errorf("%s: versions %q and %q of equal sets must be equal 16-hex strings", typ, a[typ], b[typ])
		}
	}
	changed := resources(t)
	changed.Clusters[0].AltStatName = "x"
	c, err := Versions(changed)
	if err != nil {
		t.Fatal(err)
	}
	if c[Clusters] == a[Clusters] {
		t.Errorf("changing a cluster must change the clusters version")
	}
	for _, typ := range []string{Listeners, Routes, Endpoints, Secrets} {
		if c[typ] != a[typ] {
			t.Errorf("changing a cluster changed the %s version", typ)
		}
	}
	v1, _ := Version(resources(t).Clusters[0])
	v2, _ := Version(changed.Clusters[0])
	if v1 == v2 {
		t.Errorf("Version of two different clusters is the same: %s", v1)
	}
}

// TestHostChunks: the virtual hosts of every route configuration, in
// order, each once, in chunks of checkChunk (the last may be short), a
// chunk spanning configurations when they are small.
func TestHostChunks(t *testing.T) {
	var rcs []*routev3.RouteConfiguration
	var want []string
	for i, n := range []int{3, checkChunk + 5, 0, 1, 2 * checkChunk, 7} {
		rc := &routev3.RouteConfiguration{Name: fmt.Sprintf("rc%d", i)}
		for j := range n {
			name := fmt.Sprintf("%d/%d", i, j)
			rc.VirtualHosts = append(rc.VirtualHosts, &routev3.VirtualHost{Name: name})
			want = append(want, rc.Name+" "+name)
		}
		rcs = append(rcs, rc)
	}
	chunks := hostChunks(rcs)
	var got []string
	for c, chunk := range chunks {
		size := 0
		for _, p := range chunk {
			for _, vh := range p.vhs {
				got = append(got, p.rc+" "+vh.GetName())
			}
			size += len(p.vhs)
		}
		if size != checkChunk && c != len(chunks)-1 || size == 0 || size > checkChunk {
			t.Errorf("chunk %d of %d has %d hosts", c, len(chunks), size)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("the chunks hold %d hosts, not the %d in order", len(got), len(want))
	}
	if len(chunks) != (len(want)+checkChunk-1)/checkChunk {
		t.Errorf("%d chunks for %d hosts", len(chunks), len(want))
	}
}
