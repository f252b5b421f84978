package translate

import (
	"testing"
	"time"

	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

func TestCORSPolicy(t *testing.T) {
	t.Parallel()
	dur := func(d time.Duration) *time.Duration { return &d }
	for name, tc := range map[string]struct {
		in   graph.CORSPolicy
		want *corsv3.CorsPolicy
	}{
		"everything": {
			in: graph.CORSPolicy{AllowOrigin: []graph.OriginMatch{{Value: "*"}, {Value: "https://a.com"}, {Value: `https://.*\.b\.com`, Regex: true}},
				AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"authorization", "cache-control"}, ExposeHeaders: []string{"Content-Length"},
				MaxAge: dur(10 * time.Minute), AllowCredentials: true, AllowPrivateNetwork: true},
			want: &corsv3.CorsPolicy{
				AllowOriginStringMatch: []*matcherv3.StringMatcher{
					{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "*"}, IgnoreCase: true},
					{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "https://a.com"}, IgnoreCase: true},
					{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: `https://.*\.b\.com`}}},
				},
				AllowMethods: "GET,POST", AllowHeaders: "authorization,cache-control", ExposeHeaders: "Content-Length", MaxAge: "600",
				AllowCredentials: wrapperspb.Bool(true), AllowPrivateNetworkAccess: wrapperspb.Bool(true),
			},
		},
		"minimal: no max age, flags stated false": {
			in: graph.CORSPolicy{AllowOrigin: []graph.OriginMatch{{Value: "https://a.com"}}, AllowMethods: []string{"GET"}},
			want: &corsv3.CorsPolicy{
				AllowOriginStringMatch: []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "https://a.com"}, IgnoreCase: true}},
				AllowMethods:           "GET", AllowCredentials: wrapperspb.Bool(false), AllowPrivateNetworkAccess: wrapperspb.Bool(false),
			},
		},
		"0s disables caching": {
			in: graph.CORSPolicy{AllowOrigin: []graph.OriginMatch{{Value: "*"}}, AllowMethods: []string{"GET"}, MaxAge: dur(0)},
			want: &corsv3.CorsPolicy{AllowOriginStringMatch: []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "*"}, IgnoreCase: true}},
				AllowMethods: "GET", MaxAge: "0", AllowCredentials: wrapperspb.Bool(false), AllowPrivateNetworkAccess: wrapperspb.Bool(false)},
		},
		"seconds round to the nearest, ties to even": {
			in: graph.CORSPolicy{AllowOrigin: []graph.OriginMatch{{Value: "*"}}, AllowMethods: []string{"GET"}, MaxAge: dur(2500 * time.Millisecond)},
			want: &corsv3.CorsPolicy{AllowOriginStringMatch: []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "*"}, IgnoreCase: true}},
				AllowMethods: "GET", MaxAge: "2", AllowCredentials: wrapperspb.Bool(false), AllowPrivateNetworkAccess: wrapperspb.Bool(false)},
		},
		"an hour and a half": {
			in: graph.CORSPolicy{AllowOrigin: []graph.OriginMatch{{Value: "*"}}, AllowMethods: []string{"GET"}, MaxAge: dur(90*time.Minute + 600*time.Millisecond)},
			want: &corsv3.CorsPolicy{AllowOriginStringMatch: []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "*"}, IgnoreCase: true}},
				AllowMethods: "GET", MaxAge: "5401", AllowCredentials: wrapperspb.Bool(false), AllowPrivateNetworkAccess: wrapperspb.Bool(false)},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := corsPolicy(&tc.in)
			if d := cmp.Diff(tc.want, got, protocmp.Transform()); d != "" {
				t.Errorf("policy (-want +got):\n%s", d)
			}
			if err := got.ValidateAll(); err != nil {
				t.Errorf("Envoy would refuse it: %v", err)
			}
		})
	}
}

// TestTranslateCORS checks that the policy lands on both virtual hosts of a
// TLS host, under the CORS filter's name, and on no other host.
func TestTranslateCORS(t *testing.T) {
	t.Parallel()
	g := graph.New(8080, 8443, graph.AccessLog{})
	policy := &graph.CORSPolicy{AllowOrigin: []graph.OriginMatch{{Value: "https://app.a.com"}}, AllowMethods: []string{"GET", "PUT"}}
	src := status.Ref{Kind: "HTTPProxy", Namespace: "ns", Name: "p"}
	g.VirtualHost("a.com").AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, HTTPSRedirect: true, Source: src})
	g.VirtualHost("a.com").CORS = policy
	g.VirtualHost("b.com").AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, DirectResponse: &graph.DirectResponse{Code: 204}, Source: src})
	svh := g.SecureVirtualHost("a.com")
	svh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, DirectResponse: &graph.DirectResponse{Code: 204}, Source: src})
	svh.CORS = policy
	svh.Owner, svh.Secret = src, &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("cert"), Key: []byte("key")}
	res, _, err := Translate(g, source.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	want := &corsv3.CorsPolicy{
		AllowOriginStringMatch: []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "https://app.a.com"}, IgnoreCase: true}},
		AllowMethods:           "GET,PUT", AllowCredentials: wrapperspb.Bool(false), AllowPrivateNetworkAccess: wrapperspb.Bool(false),
	}
	got := map[string]*corsv3.CorsPolicy{}
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for name, a := range vh.GetTypedPerFilterConfig() {
				if name != "envoy.filters.http.cors" {
					t.Errorf("%s %s: unexpected per-filter configuration %q", rc.GetName(), vh.GetName(), name)
					continue
				}
				p := &corsv3.CorsPolicy{}
				if err := a.UnmarshalTo(p); err != nil {
					t.Fatal(err)
				}
				got[rc.GetName()+" "+vh.GetName()] = p
			}
		}
	}
	wantAll := map[string]*corsv3.CorsPolicy{"ingress_http a.com": want, "https/a.com a.com": want}
	if d := cmp.Diff(wantAll, got, protocmp.Transform()); d != "" {
		t.Errorf("CORS policies by route configuration and virtual host (-want +got):\n%s", d)
	}
}
