package translate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// The expectations below are written as proto literals by hand, not built
// with the envoy constructors translate uses.

func TestTranslateRoute(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	src := status.Ref{Kind: "HTTPProxy", Namespace: "ns", Name: "p"}
	web := &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Name: "http", Port: 80}, LoadBalancer: graph.RoundRobin}
	canary := &graph.Cluster{Namespace: "ns", Service: "canary", Port: corev1.ServicePort{Port: 8080}, LoadBalancer: graph.RoundRobin}
	g.VirtualHost("a.com").AddRoute(&graph.Route{
		Path:     graph.PathMatch{Kind: graph.PathSegmentPrefix, Value: "/api"},
		Headers:  []graph.HeaderMatch{{Name: "x-debug", Kind: graph.HeaderPresent, Invert: true}},
		Backends: []graph.Backend{{Cluster: web, Weight: 90}, {Cluster: canary, Weight: 10}},
		Timeouts: graph.Timeouts{Response: 30 * time.Second},
		Source:   src,
	})
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	wantRoutes := &routev3.RouteConfiguration{Name: "ingress_http", VirtualHosts: []*routev3.VirtualHost{{
		Name: "a.com", Domains: []string{"a.com"},
		Routes: []*routev3.Route{{
			Match: &routev3.RouteMatch{
				PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/api"},
				Headers:       []*routev3.HeaderMatcher{{Name: "x-debug", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: false}}},
			},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
					{Name: "ns/web/80/da39a3ee5e", Weight: wrapperspb.UInt32(90)},
					{Name: "ns/canary/8080/da39a3ee5e", Weight: wrapperspb.UInt32(10)},
				}}},
				Timeout: durationpb.New(30 * time.Second),
			}},
			Name: "httpproxy/ns/p", // and no metadata: Envoy's default log line does not read it
		}},
	}}, RequestHeadersToAdd: wantRequestStart(), IgnorePortInHostMatching: true}
	if d := cmp.Diff([]*routev3.RouteConfiguration{wantRoutes}, res.Routes, protocmp.Transform()); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
	wantCluster := &clusterv3.Cluster{
		Name: "ns/canary/8080/da39a3ee5e", AltStatName: "ns_canary_8080",
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{ServiceName: "ns/canary", EdsConfig: &corev3.ConfigSource{
			ResourceApiVersion: corev3.ApiVersion_V3, ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}},
		ConnectTimeout: durationpb.New(2 * time.Second),
		CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{}},
	}
	if d := cmp.Diff(wantCluster, res.Clusters[0], protocmp.Transform()); d != "" {
		t.Errorf("cluster (-want +got):\n%s", d)
	}
	if len(res.Endpoints) != 2 || res.Endpoints[0].GetClusterName() != "ns/canary" || len(res.Endpoints[0].GetEndpoints()) != 0 {
		t.Errorf("every EDS cluster needs an (empty) assignment: %v", res.Endpoints)
	}
}

func TestTranslateRedirectAndWildcard(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	g.VirtualHost("*.a.com").AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, HTTPSRedirect: true})
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	want := &routev3.Route{
		Match: &routev3.RouteMatch{
			PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
			Headers: []*routev3.HeaderMatcher{{Name: ":authority", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: `^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\.a\.com(:[0-9]+)?$`}},
			}}}},
		},
		Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true}}},
	}
	if d := cmp.Diff(want, res.Routes[0].GetVirtualHosts()[0].GetRoutes()[0], protocmp.Transform()); d != "" {
		t.Errorf("route (-want +got):\n%s", d)
	}
}

func TestHashname(t *testing.T) {
	t.Parallel()
	// Suffixes are the first 6 hex characters of sha256 of the joined name,
	// computed with sha256sum.
	for _, tc := range []struct {
		name  string
		l     int
		parts []string
		want  string
	}{
		{"short", 60, []string{"ns", "svc", "80", "da39a3ee5e"}, "ns/svc/80/da39a3ee5e"},
		{"59 characters fit", 60, []string{"ns", "service-name-padded-to-forty-three-chars-x", "80", "da39a3ee5e"},
			"ns/service-name-padded-to-forty-three-chars-x/80/da39a3ee5e"},
		{"exactly 60 is shortened", 60, []string{"ns", "service-name-padded-to-forty-three-chars-xy", "80", "da39a3ee5e"},
			"ns/service--a69b36/80/da39a3ee5e"},
		{"service shortened", 60, []string{"a-very-long-namespace-name", "a-very-long-service-name-indeed", "8080", "da39a3ee5e"},
			"a-very-long-namespace-name/a-very-l-402a54/8080/da39a3ee5e"},
		{"everything too long: the hash", 10, []string{"aaaaaaaaaa", "bbbbbbbbbb"}, "82d67b922a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := hashname(tc.l, tc.parts...); got != tc.want {
				t.Errorf("hashname(%d, %q) = %q, want %q", tc.l, tc.parts, got, tc.want)
			}
		})
	}
}

func TestVirtualHostName(t *testing.T) {
	t.Parallel()
	// Hashes are the SHA-256 of the fqdn (sha256sum), cut to 60 characters:
	// what Contour's Hashname(60, fqdn) gives for one part that long.
	long60 := strings.Repeat("a", 48) + ".example.com"
	for _, tc := range []struct{ fqdn, want string }{
		{"shop.example.com", "shop.example.com"},
		{long60[1:], long60[1:]}, // 59 characters: kept
		{long60, "adc0a4a059bb4181bfdbc984ce335e3e68f7a1a7f4648d08230459cec5fa"},
		{"preview-1234-a-rather-long-feature-branch-name.team-shop.example.com", "f2bcc64e92de4509b4fbbd8baececa1c913336d2e9376fa4c440dc356c15"},
	} {
		if got := VirtualHostName(tc.fqdn); got != tc.want {
			t.Errorf("VirtualHostName(%q) = %q, want %q", tc.fqdn, got, tc.want)
		}
	}
}

func TestClusterName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		c    *graph.Cluster
		want string
	}{
		{"no options", &graph.Cluster{Namespace: "default", Service: "backend", Port: corev1.ServicePort{Port: 80}, LoadBalancer: graph.RoundRobin},
			"default/backend/80/da39a3ee5e"},
		{"h2 (sha1 of proto=h2)", &graph.Cluster{Namespace: "default", Service: "backend", Port: corev1.ServicePort{Name: "grpc", Port: 80}, Protocol: "h2"},
			"default/backend/80/563b0467fa"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ClusterName(tc.c); got != tc.want {
				t.Errorf("ClusterName = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTranslateInvalidResource(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	g.VirtualHost("a.com").AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, DirectResponse: &graph.DirectResponse{Code: 99}})
	_, _, err := Translate(g, source.NewIndex())
	want := `route configuration ingress_http virtual host "a.com" is not valid (this is an Isobar bug)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Translate error = %v, want one containing %q", err, want)
	}
}

func TestShortHash(t *testing.T) {
	t.Parallel()
	// Expected values from sha1sum.
	for in, want := range map[string]string{"": "da39a3ee5e", "proto=h2": "563b0467fa", "CERT": "971a925b3d"} {
		if got := shortHash(in); got != want {
			t.Errorf("shortHash(%q) = %q, want %q", in, got, want)
		}
		if got := shortHashBytes([]byte(in)); got != want {
			t.Errorf("shortHashBytes(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVirtualHostsParallel checks that splitting the hosts over goroutines
// gives the same hosts and the same cluster registry as one goroutine.
func TestVirtualHostsParallel(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	var hosts []*graph.VirtualHost
	for i := range 40 {
		// Distinct *graph.Cluster values with equal names across hosts.
		shared := &graph.Cluster{Namespace: "ns", Service: "shared", Port: corev1.ServicePort{Port: 80}}
		own := &graph.Cluster{Namespace: "ns", Service: "svc" + strconv.Itoa(i%7), Port: corev1.ServicePort{Port: 80}}
		vh := g.VirtualHost("h" + strconv.Itoa(i) + ".com")
		vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, Backends: []graph.Backend{{Cluster: shared}},
			Source: status.Ref{Kind: "HTTPProxy", Namespace: "ns", Name: "p" + strconv.Itoa(i%3)}})
		vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/own"}, Backends: []graph.Backend{{Cluster: own, Weight: 1}, {Cluster: shared, Weight: 2}}})
		hosts = append(hosts, vh)
	}
	newT := func() *translator {
		return &translator{g: g, idx: source.NewIndex(), clusters: map[string]*graph.Cluster{},
			names: map[*graph.Cluster]string{}, sources: newSourceMemo(0, false)}
	}
	one, three := newT(), newT()
	want := one.virtualHostsOn(1, hosts)
	got := three.virtualHostsOn(3, hosts)
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		t.Errorf("virtual hosts (-one +three):\n%s", d)
	}
	if len(one.clusters) != 8 {
		t.Errorf("want 8 clusters, got %d", len(one.clusters))
	}
	for name, c := range one.clusters {
		if three.clusters[name] != c {
			t.Errorf("cluster %s: the parallel registry kept a different *graph.Cluster", name)
		}
	}
}

// wantRequestStart is the header every route configuration adds, as
// Contour's: when Envoy started the request, for application monitors.
func wantRequestStart() []*corev3.HeaderValueOption {
	return []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-request-start", Value: "t=%START_TIME(%s.%3f)%"},
		AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD}}
}

func TestValidationItemsOrderAndNames(t *testing.T) {
	t.Parallel()
	res := &xds.Resources{
		Listeners: []*listenerv3.Listener{{Name: "l"}},
		Routes: []*routev3.RouteConfiguration{
			{Name: "ingress_http", VirtualHosts: []*routev3.VirtualHost{{Name: "a"}, {Name: "b"}}},
			{Name: "https/c", VirtualHosts: []*routev3.VirtualHost{{Name: "c"}}},
		},
		Clusters:  []*clusterv3.Cluster{{Name: "k"}},
		Endpoints: []*endpointv3.ClusterLoadAssignment{{ClusterName: "e"}},
		Secrets:   []*tlsv3.Secret{{Name: "s"}},
	}
	var got []string
	for _, it := range validationItems(res) {
		got = append(got, it.describe())
	}
	want := []string{`listener "l"`, `route configuration "ingress_http"`,
		`route configuration ingress_http virtual host "a"`, `route configuration ingress_http virtual host "b"`,
		`route configuration "https/c"`, `route configuration https/c virtual host "c"`,
		`cluster "k"`, `cluster load assignment "e"`, `secret "s"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("validation items (-want +got):\n%s", diff)
	}
}

// TestValidateVirtualHostSharedMetadata checks that validating a host whose
// routes share a metadata message still finds an invalid route, and that
// every route keeps its own metadata pointer afterwards.
func TestValidateVirtualHostSharedMetadata(t *testing.T) {
	t.Parallel()
	md := newSourceMetadata(status.Ref{Kind: "HTTPProxy", Namespace: "ns", Name: "p"})
	other := newSourceMetadata(status.Ref{Kind: "Ingress", Namespace: "ns", Name: "i"})
	match := func() *routev3.RouteMatch {
		return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}
	}
	ok := func() routev3.Route_DirectResponse {
		return routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200}}
	}
	a, b, c := ok(), ok(), ok()
	vh := &routev3.VirtualHost{Name: "a.com", Domains: []string{"a.com"}, Routes: []*routev3.Route{
		{Match: match(), Metadata: md, Action: &a},
		{Match: match(), Metadata: md, Action: &b},
		{Match: match(), Action: &c},
		{Match: match(), Metadata: other, Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 99}}},
	}}
	var scratch hostScratch
	err := validateVirtualHost(vh, &scratch)
	if err == nil || !strings.Contains(err.Error(), "Routes[3]") {
		t.Errorf("validateVirtualHost error = %v, want one about Routes[3]", err)
	}
	for i, want := range []*corev3.Metadata{md, md, nil, other} {
		if got := vh.Routes[i].Metadata; got != want {
			t.Errorf("route %d metadata = %p, want %p", i, got, want)
		}
	}
	vh.Routes = vh.Routes[:3]
	if err := validateVirtualHost(vh, &scratch); err != nil {
		t.Errorf("validateVirtualHost of valid routes: %v", err)
	}
	if want := vh.Validate(); want != nil {
		t.Errorf("Validate of valid routes: %v", want)
	}
}

// TestValidateVirtualHostSharedActions checks that validating a host whose
// routes share actions (a plain forward, the HTTPS redirect) gives
// Validate's verdict, finds a shared action that is invalid, and leaves
// every route with its own action pointer.
func TestValidateVirtualHostSharedActions(t *testing.T) {
	t.Parallel()
	forward := func(cluster string) *routev3.Route_Route {
		return &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster}}}
	}
	route := func(prefix string, action any) *routev3.Route {
		r := &routev3.Route{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}}}
		switch a := action.(type) {
		case *routev3.Route_Route:
			r.Action = a
		case *routev3.Route_Redirect:
			r.Action = a
		}
		return r
	}
	good, bad := forward("ns/a/80/da39a3ee5e"), forward("") // a cluster name may not be empty
	for _, tc := range []struct {
		name    string
		actions []any
		wantErr string // "" for a valid host
	}{
		{"shared forward and redirects", []any{good, httpsRedirect, good, httpsRedirect, forward("ns/b/80/da39a3ee5e"), good}, ""},
		{"invalid shared forward", []any{good, bad, good, bad}, "Routes[1]"},
		{"invalid forward after a shared one", []any{good, good, bad}, "Routes[2]"},
		{"invalid shared forward, later", []any{httpsRedirect, httpsRedirect, bad, bad}, "Routes[2]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vh := &routev3.VirtualHost{Name: "a.com", Domains: []string{"a.com"}}
			for i, a := range tc.actions {
				vh.Routes = append(vh.Routes, route(fmt.Sprintf("/%d", i), a))
			}
			want := vh.Validate()
			if (want == nil) != (tc.wantErr == "") {
				t.Fatalf("Validate() = %v, want an error about %q", want, tc.wantErr)
			}
			var scratch hostScratch
			err := validateVirtualHost(vh, &scratch)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("validateVirtualHost error = %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("validateVirtualHost error = %v, want one about %s", err, tc.wantErr)
			}
			for i, a := range tc.actions {
				var got any = vh.Routes[i].Action
				if got != a {
					t.Errorf("route %d action = %p after validation, want %p", i, got, a)
				}
			}
		})
	}
}

// TestValidateVirtualHostSharedHeaders validates, with one scratch space as
// a validation does, hosts whose routes share header condition messages:
// each host gets Validate's verdict (the first host holding an invalid
// shared condition is the one reported), and every route keeps its own
// list of conditions.
func TestValidateVirtualHostSharedHeaders(t *testing.T) {
	t.Parallel()
	exact := func(name, value string) *routev3.HeaderMatcher {
		return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
			StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: value}}}}
	}
	good, other := exact("x-variant", "v1"), exact("x-variant", "v2")
	bad := exact("", "v1") // a header condition names a header
	host := func(name string, conditions ...[]*routev3.HeaderMatcher) *routev3.VirtualHost {
		vh := &routev3.VirtualHost{Name: name, Domains: []string{name}}
		for i, hs := range conditions {
			vh.Routes = append(vh.Routes, &routev3.Route{
				Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: fmt.Sprintf("/%d", i)}, Headers: hs},
				Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 200}}})
		}
		return vh
	}
	hosts := []*routev3.VirtualHost{
		host("a.com", []*routev3.HeaderMatcher{good}, nil, []*routev3.HeaderMatcher{other, good}),
		host("b.com", []*routev3.HeaderMatcher{good}, []*routev3.HeaderMatcher{good, bad}),
		host("c.com", nil, []*routev3.HeaderMatcher{other}),
	}
	wantErr := []string{"", "route 1 header condition", ""}
	var scratch hostScratch
	for i, vh := range hosts {
		before := make([][]*routev3.HeaderMatcher, len(vh.Routes))
		for j, r := range vh.Routes {
			before[j] = r.Match.Headers
		}
		if want := vh.Validate(); (want == nil) != (wantErr[i] == "") {
			t.Fatalf("%s: Validate() = %v, want an error: %t", vh.Name, want, wantErr[i] != "")
		}
		err := validateVirtualHost(vh, &scratch)
		switch {
		case wantErr[i] == "" && err != nil:
			t.Errorf("%s: validateVirtualHost error = %v, want none", vh.Name, err)
		case wantErr[i] != "" && (err == nil || !strings.Contains(err.Error(), wantErr[i])):
			t.Errorf("%s: validateVirtualHost error = %v, want one about %s", vh.Name, err, wantErr[i])
		}
		for j, r := range vh.Routes {
			if got := r.Match.Headers; !slices.Equal(got, before[j]) || (got != nil) != (before[j] != nil) {
				t.Errorf("%s route %d: header conditions %v after validation, want %v", vh.Name, j, got, before[j])
			}
		}
	}
}

// TestValidationItemsMisdirectedOnce checks that the shared catch-all host
// of the https/<fqdn> configurations is validated once.
func TestValidationItemsMisdirectedOnce(t *testing.T) {
	t.Parallel()
	res := &xds.Resources{Routes: []*routev3.RouteConfiguration{
		secureRoutes("a.com", &routev3.VirtualHost{Name: "a.com"}),
		secureRoutes("b.com", &routev3.VirtualHost{Name: "b.com"}),
	}}
	var got []string
	for _, it := range validationItems(res) {
		got = append(got, it.describe())
	}
	want := []string{`route configuration "https/a.com"`, `route configuration https/a.com virtual host "a.com"`,
		`route configuration https/a.com virtual host "misdirected"`,
		`route configuration "https/b.com"`, `route configuration https/b.com virtual host "b.com"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("validation items (-want +got):\n%s", diff)
	}
}
