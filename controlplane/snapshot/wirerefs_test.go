package snapshot

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// referencesByUnmarshal is References as it was before it read the
// encodings: every connection manager and TLS context decoded in full.
// The tests compare the two.
func referencesByUnmarshal(l *listenerv3.Listener) (Refs, error) {
	var r Refs
	for _, fc := range l.GetFilterChains() {
		if ts := fc.GetTransportSocket(); ts != nil {
			var ctx tlsv3.DownstreamTlsContext
			if err := ts.GetTypedConfig().UnmarshalTo(&ctx); err != nil {
				return Refs{}, err
			}
			for _, s := range ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
				r.Secrets = append(r.Secrets, s.GetName())
			}
		}
		for _, f := range fc.GetFilters() {
			var hcm hcmv3.HttpConnectionManager
			if tc := f.GetTypedConfig(); tc.MessageIs(&hcm) {
				if err := tc.UnmarshalTo(&hcm); err != nil {
					return Refs{}, err
				}
				if name := hcm.GetRds().GetRouteConfigName(); name != "" {
					r.Routes = append(r.Routes, name)
				}
				if err := httpFilterClustersByUnmarshal(&hcm, &r); err != nil {
					return Refs{}, err
				}
			} else if err := filterRefs(f, &r); err != nil { // TCP proxies
				return Refs{}, err
			}
		}
	}
	return r, nil
}

func httpFilterClustersByUnmarshal(hcm *hcmv3.HttpConnectionManager, r *Refs) error {
	for _, f := range hcm.GetHttpFilters() {
		tc := f.GetTypedConfig()
		if tc == nil {
			continue
		}
		name := tc.GetTypeUrl()
		switch name[strings.LastIndexByte(name, '/')+1:] {
		case jwtName:
			var jwt jwtv3.JwtAuthentication
			if err := tc.UnmarshalTo(&jwt); err != nil {
				return err
			}
			for _, name := range slices.Sorted(maps.Keys(jwt.GetProviders())) {
				if c := jwt.GetProviders()[name].GetRemoteJwks().GetHttpUri().GetCluster(); c != "" {
					r.Clusters = append(r.Clusters, c)
				}
			}
		case extAuthzName:
			var authz extauthzv3.ExtAuthz
			if err := tc.UnmarshalTo(&authz); err != nil {
				return err
			}
			if c := authz.GetGrpcService().GetEnvoyGrpc().GetClusterName(); c != "" {
				r.Clusters = append(r.Clusters, c)
			}
		}
	}
	return nil
}

// enc marshals m deterministically.
func enc(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// cat concatenates the encodings of parts: proto.Unmarshal merges them.
func cat(parts ...proto.Message) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, enc(p)...)
	}
	return b
}

// rawAny is an Any holding value as an encoding of message m's type.
func rawAny(m proto.Message, value []byte) *anypb.Any {
	return &anypb.Any{TypeUrl: "type.googleapis.com/" + messageName(m), Value: value}
}

// chainListener is a listener with one filter chain: TLS from tls (when
// not nil) and a connection manager encoded as hcm.
func chainListener(tls, hcm []byte) *listenerv3.Listener {
	fc := &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{Name: "h",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: rawAny(&hcmv3.HttpConnectionManager{}, hcm)}}}}
	if tls != nil {
		fc.TransportSocket = &corev3.TransportSocket{Name: "tls",
			ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: rawAny(&tlsv3.DownstreamTlsContext{}, tls)}}
	}
	return &listenerv3.Listener{Name: "l", FilterChains: []*listenerv3.FilterChain{fc}}
}

func rds(name string) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: name}}}
}

func withFilters(fs ...*hcmv3.HttpFilter) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{HttpFilters: fs}
}

func typedFilter(name string, tc *anypb.Any) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: tc}}
}

func jwtFilter(clusters ...string) *hcmv3.HttpFilter {
	jwt := &jwtv3.JwtAuthentication{Providers: map[string]*jwtv3.JwtProvider{}}
	for i, c := range clusters {
		jwt.Providers[string(rune('z'-i))] = &jwtv3.JwtProvider{JwksSourceSpecifier: &jwtv3.JwtProvider_RemoteJwks{
			RemoteJwks: &jwtv3.RemoteJwks{HttpUri: &corev3.HttpUri{Uri: "https://x", HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: c}}}}}
	}
	return typedFilter("jwt", mustAny(jwt))
}

func authzFilter(cluster string) *hcmv3.HttpFilter {
	return typedFilter("authz", mustAny(&extauthzv3.ExtAuthz{Services: &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
		TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: cluster}}}}}))
}

func secrets(names ...string) *tlsv3.DownstreamTlsContext {
	common := &tlsv3.CommonTlsContext{}
	for _, n := range names {
		common.TlsCertificateSdsSecretConfigs = append(common.TlsCertificateSdsSecretConfigs, &tlsv3.SdsSecretConfig{Name: n})
	}
	return &tlsv3.DownstreamTlsContext{CommonTlsContext: common}
}

// oneFilter is the encoding of a connection manager with one HTTP filter
// encoded as filter.
func oneFilter(filter []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, hcmHTTPFilters, protowire.BytesType), filter)
}

// wireCases are hand-built filter chains, many with an encoding split in
// parts that proto.Unmarshal merges, and what they refer to.
func wireCases() map[string]struct {
	l    *listenerv3.Listener
	want Refs
} {
	router := typedFilter("router", mustAny(&routerv3.Router{}))
	authzSplit := authzFilter("ca") // its Any in two parts: type URL, then value
	tcA := authzSplit.GetTypedConfig()
	splitAny := cat(&hcmv3.HttpFilter{Name: "authz", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: &anypb.Any{TypeUrl: tcA.TypeUrl}}},
		&hcmv3.HttpFilter{ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: &anypb.Any{Value: tcA.Value}}})
	filterField := oneFilter(splitAny)
	discovery := &hcmv3.HttpFilter{ConfigType: &hcmv3.HttpFilter_ConfigDiscovery{ConfigDiscovery: &corev3.ExtensionConfigSource{}}}
	wrongType := protowire.AppendVarint(protowire.AppendTag(nil, hcmRds, protowire.VarintType), 7)
	type tc = struct {
		l    *listenerv3.Listener
		want Refs
	}
	return map[string]tc{
		"plain": {chainListener(enc(secrets("s1", "s2")), enc(&hcmv3.HttpConnectionManager{StatPrefix: "p",
			RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "r"}},
			HttpFilters:    []*hcmv3.HttpFilter{jwtFilter("c1", "c2"), authzFilter("c3"), router}})),
			Refs{Secrets: []string{"s1", "s2"}, Routes: []string{"r"}, Clusters: []string{"c2", "c1", "c3"}}},
		"no TLS, no RDS":    {chainListener(nil, enc(&hcmv3.HttpConnectionManager{StatPrefix: "p"})), Refs{}},
		"empty secret name": {chainListener(enc(secrets("", "s")), nil), Refs{Secrets: []string{"", "s"}}},
		"rds merged, last name wins": {chainListener(nil, cat(rds("a"),
			&hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: &corev3.ConfigSource{}}}}, rds("b"))),
			Refs{Routes: []string{"b"}}},
		"rds merged, name kept": {chainListener(nil, cat(rds("a"),
			&hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: &corev3.ConfigSource{}}}})),
			Refs{Routes: []string{"a"}}},
		"rds replaced by an inline route configuration": {chainListener(nil, cat(rds("a"),
			&hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{Name: "x"}}})), Refs{}},
		"rds after scoped routes": {chainListener(nil, cat(rds("a"),
			&hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: &hcmv3.ScopedRoutes{Name: "x"}}},
			&hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: &corev3.ConfigSource{}}}})), Refs{}},
		"filters in parts": {chainListener(nil, cat(withFilters(authzFilter("a1")), rds("r"), withFilters(router, jwtFilter("j1")), withFilters(authzFilter("a2")))),
			Refs{Routes: []string{"r"}, Clusters: []string{"a1", "j1", "a2"}}},
		"a filter's Any in parts": {chainListener(nil, append(enc(rds("r")), filterField...)), Refs{Routes: []string{"r"}, Clusters: []string{"ca"}}},
		"a filter's config replaced by discovery": {chainListener(nil, cat(withFilters(authzFilter("a1")),
			withFilters(&hcmv3.HttpFilter{ConfigType: &hcmv3.HttpFilter_ConfigDiscovery{ConfigDiscovery: &corev3.ExtensionConfigSource{}}}))),
			Refs{Clusters: []string{"a1"}}}, // two filters: the second has no typed config
		"one filter's config replaced by discovery": {chainListener(nil, oneFilter(cat(authzFilter("a1"), discovery))), Refs{}},
		"one filter's config after discovery":       {chainListener(nil, oneFilter(cat(discovery, authzFilter("a1")))), Refs{Clusters: []string{"a1"}}},
		"rds field of another wire type is unknown": {chainListener(nil, append(enc(rds("r")), wrongType...)), Refs{Routes: []string{"r"}}},
		"TLS in parts": {chainListener(cat(secrets("s1"), &tlsv3.DownstreamTlsContext{RequireSni: nil}, secrets("s2", "s3")), nil),
			Refs{Secrets: []string{"s1", "s2", "s3"}}},
		"TCP proxy": {listenerWith("l", "s", "", "c"), Refs{Secrets: []string{"s"}, Clusters: []string{"c"}}},
	}
}

// TestReferencesWire: References reads hand-built chains, whole or in
// parts, as decoding them in full does.
func TestReferencesWire(t *testing.T) {
	t.Parallel()
	for name, c := range wireCases() {
		got, err := References(c.l)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want, err := referencesByUnmarshal(c.l)
		if err != nil {
			t.Fatalf("%s: by unmarshal: %v", name, err)
		}
		if !reflect.DeepEqual(want, c.want) {
			t.Errorf("%s: the full decode gives %+v, the test expects %+v", name, want, c.want)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
}

// TestReferencesMalformed: malformed encodings are errors, as for a full
// decode.
func TestReferencesMalformed(t *testing.T) {
	t.Parallel()
	good := enc(&hcmv3.HttpConnectionManager{StatPrefix: "p",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "r"}},
		HttpFilters:    []*hcmv3.HttpFilter{authzFilter("c")}})
	tls := enc(secrets("s1", "s2"))
	badName := protowire.AppendBytes(protowire.AppendTag(nil, rdsRouteConfigName, protowire.BytesType), []byte{0xff, 0xfe})
	badRds := protowire.AppendBytes(protowire.AppendTag(nil, hcmRds, protowire.BytesType), badName)
	filter := enc(authzFilter("c"))
	badFilter := protowire.AppendBytes(protowire.AppendTag(slices.Clip(good), hcmHTTPFilters, protowire.BytesType), filter[:len(filter)-1])
	for name, l := range map[string]*listenerv3.Listener{
		"truncated HCM":         chainListener(nil, good[:len(good)-1]),
		"truncated HTTP filter": chainListener(nil, badFilter),
		"truncated TLS":         chainListener(tls[:len(tls)-2], good),
		"field number 0":        chainListener(nil, []byte{0x02, 0x00}),
		"end group":             chainListener(nil, []byte{0x0c}),
		"invalid UTF-8 route":   chainListener(nil, badRds),
		"TLS of another type":   {Name: "l", FilterChains: []*listenerv3.FilterChain{{TransportSocket: &corev3.TransportSocket{Name: "x", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(&routerv3.Router{})}}}}},
		"TLS without config":    {Name: "l", FilterChains: []*listenerv3.FilterChain{{TransportSocket: &corev3.TransportSocket{Name: "x"}}}},
	} {
		if _, err := referencesByUnmarshal(l); err == nil {
			t.Errorf("%s: the full decode takes it", name)
		}
		if got, err := References(l); err == nil {
			t.Errorf("%s: got %+v, want an error", name, got)
		}
	}
}
