package graph

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// TestGlobalRateLimitPolicy: the global part of a rateLimitPolicy, with
// Contour's check (exactly one field per entry) and the ones that keep
// Envoy from refusing the actions (values, keys and header names not
// empty, at least one entry and one header condition).
func TestGlobalRateLimitPolicy(t *testing.T) {
	t.Parallel()
	global := func(ds ...contourv1.RateLimitDescriptor) *contourv1.RateLimitPolicy {
		return &contourv1.RateLimitPolicy{Global: &contourv1.GlobalRateLimitPolicy{Descriptors: ds}}
	}
	entries := func(es ...contourv1.RateLimitDescriptorEntry) contourv1.RateLimitDescriptor {
		return contourv1.RateLimitDescriptor{Entries: es}
	}
	no := false
	for name, tc := range map[string]struct {
		in           *contourv1.RateLimitPolicy
		want         []RateLimitDescriptor
		wantDisabled bool
		wantErr      string // substring; "" means valid
	}{
		"none":       {in: nil},
		"local only": {in: &contourv1.RateLimitPolicy{Local: &contourv1.LocalRateLimitPolicy{Requests: 1, Unit: "second"}}},
		"disabled, descriptors dropped": {in: &contourv1.RateLimitPolicy{Global: &contourv1.GlobalRateLimitPolicy{Disabled: true,
			Descriptors: []contourv1.RateLimitDescriptor{entries(contourv1.RateLimitDescriptorEntry{})}}}, wantDisabled: true},
		"every kind": {
			in: global(
				entries(contourv1.RateLimitDescriptorEntry{GenericKey: &contourv1.GenericKeyDescriptor{Value: "v"}},
					contourv1.RateLimitDescriptorEntry{RemoteAddress: &contourv1.RemoteAddressDescriptor{}}),
				entries(contourv1.RateLimitDescriptorEntry{RequestHeader: &contourv1.RequestHeaderDescriptor{HeaderName: "X-Tenant", DescriptorKey: "tenant"}}),
				entries(contourv1.RateLimitDescriptorEntry{GenericKey: &contourv1.GenericKeyDescriptor{Key: "k", Value: "v2"}},
					contourv1.RateLimitDescriptorEntry{RequestHeaderValueMatch: &contourv1.RequestHeaderValueMatchDescriptor{
						Headers: []contourv1.HeaderMatchCondition{{Name: "X-Plan", Exact: "free"}}, ExpectMatch: &no, Value: "paid"}}),
				entries(contourv1.RateLimitDescriptorEntry{RequestHeaderValueMatch: &contourv1.RequestHeaderValueMatchDescriptor{
					Headers: []contourv1.HeaderMatchCondition{{Name: "X-Debug", Present: true}}, Value: "debug"}}),
			),
			want: []RateLimitDescriptor{
				{Entries: []RateLimitEntry{{Kind: GenericKeyEntry, Value: "v"}, {Kind: RemoteAddressEntry}}},
				{Entries: []RateLimitEntry{{Kind: RequestHeaderEntry, Header: "X-Tenant", Key: "tenant"}}},
				{Entries: []RateLimitEntry{{Kind: GenericKeyEntry, Key: "k", Value: "v2"},
					{Kind: HeaderValueMatchEntry, Value: "paid", Headers: []HeaderMatch{{Name: "X-Plan", Kind: HeaderExact, Value: "free"}}}}},
				{Entries: []RateLimitEntry{{Kind: HeaderValueMatchEntry, Value: "debug", ExpectMatch: true,
					Headers: []HeaderMatch{{Name: "X-Debug", Kind: HeaderPresent}}}}},
			},
		},
		"no descriptors": {in: global()},
		"no entries":     {in: global(entries()), wantErr: "X.global.descriptors[0].entries: must have at least one entry"},
		"two fields": {in: global(entries(contourv1.RateLimitDescriptorEntry{GenericKey: &contourv1.GenericKeyDescriptor{Value: "v"},
			RemoteAddress: &contourv1.RemoteAddressDescriptor{}})), wantErr: "X.global.descriptors[0].entries[0]: must set exactly one of"},
		"no field": {in: global(entries(contourv1.RateLimitDescriptorEntry{GenericKey: &contourv1.GenericKeyDescriptor{Value: "v"}}, contourv1.RateLimitDescriptorEntry{})),
			wantErr: "X.global.descriptors[0].entries[1]: must set exactly one of"},
		"empty generic value": {in: global(entries(contourv1.RateLimitDescriptorEntry{GenericKey: &contourv1.GenericKeyDescriptor{Key: "k"}})),
			wantErr: "entries[0].genericKey.value: must not be empty"},
		"bad header name": {in: global(entries(contourv1.RateLimitDescriptorEntry{RequestHeader: &contourv1.RequestHeaderDescriptor{HeaderName: "x tenant", DescriptorKey: "t"}})),
			wantErr: "entries[0].requestHeader.headerName: "},
		"empty descriptor key": {in: global(entries(contourv1.RateLimitDescriptorEntry{RequestHeader: &contourv1.RequestHeaderDescriptor{HeaderName: "X-Tenant"}})),
			wantErr: "entries[0].requestHeader.descriptorKey: must not be empty"},
		"match without headers": {in: global(entries(contourv1.RateLimitDescriptorEntry{RequestHeaderValueMatch: &contourv1.RequestHeaderValueMatchDescriptor{Value: "v"}})),
			wantErr: "entries[0].requestHeaderValueMatch.headers: must have at least one header condition"},
		"match without value": {in: global(entries(contourv1.RateLimitDescriptorEntry{RequestHeaderValueMatch: &contourv1.RequestHeaderValueMatchDescriptor{
			Headers: []contourv1.HeaderMatchCondition{{Name: "X-A", Present: true}}}})), wantErr: "entries[0].requestHeaderValueMatch.value: must not be empty"},
		"match with a bad condition": {in: global(entries(contourv1.RateLimitDescriptorEntry{RequestHeaderValueMatch: &contourv1.RequestHeaderValueMatchDescriptor{
			Headers: []contourv1.HeaderMatchCondition{{Name: "X-A"}}, Value: "v"}})), wantErr: "entries[0].requestHeaderValueMatch.headers[0]: "},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, disabled, err := globalRateLimit(tc.in, "X.global")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if disabled != tc.wantDisabled {
				t.Errorf("disabled %v, want %v", disabled, tc.wantDisabled)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

const globalRateLimitYAML = `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: limited, namespace: ns}
spec:
  virtualhost:
    fqdn: a.com
    rateLimitPolicy: {global: {descriptors: [{entries: [{remoteAddress: {}}]}]}}
  routes:
  - services: [{name: s, port: 80}]
  - conditions: [{prefix: /own}]
    services: [{name: s, port: 80}]
    rateLimitPolicy: {global: {descriptors: [{entries: [{genericKey: {value: own}}]}]}}
  - conditions: [{prefix: /off}]
    services: [{name: s, port: 80}]
    rateLimitPolicy: {global: {disabled: true}}
  - conditions: [{prefix: /moved}]
    requestRedirectPolicy: {path: /new}
    rateLimitPolicy: {global: {descriptors: [{entries: [{genericKey: {value: moved}}]}]}}
`

// conditionLines lists the errors and warnings of r, with their objects,
// types and reasons.
func conditionLines(r *status.Report) []string {
	var got []string
	for _, o := range r.Objects() {
		for _, c := range o.Conditions {
			for _, e := range c.Errors {
				got = append(got, fmt.Sprintf("%s %s %s: %s", o.Ref.Name, e.Type, e.Reason, e.Message))
			}
			for _, w := range c.Warnings {
				got = append(got, fmt.Sprintf("%s warning %s %s: %s", o.Ref.Name, w.Type, w.Reason, w.Message))
			}
		}
	}
	return got
}

// TestGlobalRateLimitGraph: with a service configured, descriptors go on
// the virtual host and on forwarding routes, global.disabled marks the
// route, a redirect's are reported ignored; without one, nothing is
// kept and every policy is reported ignored.
func TestGlobalRateLimitGraph(t *testing.T) {
	t.Parallel()
	svc := RateLimitService{Namespace: "rl", Name: "rls", Domain: "d"}
	g, r := build(t, Options{RateLimitService: svc}, globalRateLimitYAML+svcs("ns", "s"))
	vh := g.VirtualHosts["a.com"]
	if d := cmp.Diff([]RateLimitDescriptor{{Entries: []RateLimitEntry{{Kind: RemoteAddressEntry}}}}, vh.GlobalRateLimits); d != "" {
		t.Errorf("virtual host (-want +got):\n%s", d)
	}
	type routeLimits struct {
		Limits []RateLimitDescriptor
		Ignore bool
	}
	got := map[string]routeLimits{}
	for _, rt := range vh.Routes {
		got[rt.MatchString()] = routeLimits{rt.GlobalRateLimits, rt.IgnoreHostRateLimits}
	}
	want := map[string]routeLimits{
		"prefix:/":      {},
		"prefix:/own":   {Limits: []RateLimitDescriptor{{Entries: []RateLimitEntry{{Kind: GenericKeyEntry, Value: "own"}}}}},
		"prefix:/off":   {Ignore: true},
		"prefix:/moved": {},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
	wantMsgs := []string{"limited warning RouteError IgnoredField: Spec.Routes[3].rateLimitPolicy.global applies only to routes that forward to services and is ignored"}
	if d := cmp.Diff(wantMsgs, conditionLines(r)); d != "" {
		t.Errorf("messages (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]status.Finding{{Code: FindingRateLimitServiceNotFound, Severity: status.SeverityError,
		Objects: []status.Ref{{Kind: status.KindExtensionService, Namespace: "rl", Name: "rls"}},
		Message: "rateLimitService.extensionService: ExtensionService rl/rls does not exist or is not valid: no connection manager asks a rate limit service, " +
			"and global rate limits do not apply (Contour refuses to start)"}}, r.Findings()); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	if g.RateLimit != nil {
		t.Errorf("RateLimit %+v for a missing ExtensionService", g.RateLimit)
	}

	g, r = build(t, Options{}, globalRateLimitYAML+svcs("ns", "s"))
	vh = g.VirtualHosts["a.com"]
	if len(vh.GlobalRateLimits) > 0 {
		t.Errorf("virtual host descriptors without a service: %+v", vh.GlobalRateLimits)
	}
	for _, rt := range vh.Routes {
		if len(rt.GlobalRateLimits) > 0 || rt.IgnoreHostRateLimits {
			t.Errorf("route %s: descriptors without a service", rt.MatchString())
		}
	}
	wantMsgs = []string{
		"limited warning RouteError IgnoredField: Spec.Routes[1].rateLimitPolicy.global is ignored: no rateLimitService is configured",
		"limited warning RouteError IgnoredField: Spec.Routes[2].rateLimitPolicy.global is ignored: no rateLimitService is configured",
		"limited warning RouteError IgnoredField: Spec.Routes[3].rateLimitPolicy.global is ignored: no rateLimitService is configured",
		"limited warning SpecError IgnoredField: Spec.VirtualHost.rateLimitPolicy.global is ignored: no rateLimitService is configured",
	}
	if d := cmp.Diff(wantMsgs, conditionLines(r)); d != "" {
		t.Errorf("messages without a service (-want +got):\n%s", d)
	}
}

// TestGlobalRateLimitService: a configured service whose ExtensionService
// is valid is the graph's, with its cluster and response timeout.
func TestGlobalRateLimitService(t *testing.T) {
	t.Parallel()
	svc := RateLimitService{Namespace: "rl", Name: "rls", Domain: "d", FailOpen: true}
	g, r := build(t, Options{RateLimitService: svc}, `
apiVersion: projectcontour.io/v1alpha1
kind: ExtensionService
metadata: {name: rls, namespace: rl}
spec: {protocol: h2c, services: [{name: rls, port: 80}], timeoutPolicy: {response: 250ms}}
`+svcs("rl", "rls"))
	if len(r.Findings()) > 0 {
		t.Errorf("findings: %+v", r.Findings())
	}
	if g.RateLimit == nil || !cmp.Equal(g.RateLimit.Service, svc) || g.RateLimit.Cluster.Namespace != "rl" || g.RateLimit.Cluster.Extension.Name != "rls" || g.RateLimit.Timeout.Duration.String() != "250ms" {
		t.Errorf("RateLimit %+v, want the service, the extension's cluster and 250ms", g.RateLimit)
	}
}

// TestParseRateLimitService: Contour's namespace/name.
func TestParseRateLimitService(t *testing.T) {
	t.Parallel()
	for in, wantErr := range map[string]string{
		"rl/rls": "", "a-1/b-2": "", "rls": "is not namespace/name", "/rls": "is not namespace/name", "rl/": "is not namespace/name",
		"rl/a/b": "is not namespace/name", "Rl/rls": "is not a DNS label", "rl/rls.x": "is not a DNS label", "rl/-x": "is not a DNS label",
		"rl/" + strings.Repeat("a", 64): "longer than 63",
	} {
		var s RateLimitService
		err := s.ParseRateLimitService(in)
		switch {
		case wantErr == "" && (err != nil || s.Namespace+"/"+s.Name != in):
			t.Errorf("%q: %+v, %v", in, s, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%q: error %v, want %q", in, err, wantErr)
		}
	}
}

// TestGlobalRateLimitDefault: the service's default policy goes on virtual
// hosts without a global policy of their own, as in Contour: not on one
// with its own descriptors, nor on one disabling global limits, nor on one
// with an empty global policy beside a local one (Contour counts that as
// its own); a local policy alone, or an empty global one alone, gets it.
func TestGlobalRateLimitDefault(t *testing.T) {
	t.Parallel()
	def := []RateLimitDescriptor{{Entries: []RateLimitEntry{{Kind: GenericKeyEntry, Key: "default", Value: "all"}}}}
	own := []RateLimitDescriptor{{Entries: []RateLimitEntry{{Kind: RemoteAddressEntry}}}}
	proxy := func(name, policy string) string {
		return fmt.Sprintf("---\napiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata: {name: %s, namespace: ns}\n"+
			"spec:\n  virtualhost: {fqdn: %s.com%s}\n  routes: [{services: [{name: s, port: 80}]}]\n", name, name, policy)
	}
	local := "local: {requests: 1, unit: second}"
	in := proxy("none", "") + proxy("own", ", rateLimitPolicy: {global: {descriptors: [{entries: [{remoteAddress: {}}]}]}}") +
		proxy("disabled", ", rateLimitPolicy: {global: {disabled: true}}") + proxy("local", ", rateLimitPolicy: {"+local+"}") +
		proxy("emptyglobal", ", rateLimitPolicy: {global: {}}") + proxy("emptywithlocal", ", rateLimitPolicy: {global: {}, "+local+"}")
	g, _ := build(t, Options{RateLimitService: RateLimitService{Namespace: "rl", Name: "rls", Domain: "d", Default: def}}, in+svcs("ns", "s"))
	got := map[string][]RateLimitDescriptor{}
	for name, vh := range g.VirtualHosts {
		got[name] = vh.GlobalRateLimits
	}
	want := map[string][]RateLimitDescriptor{"none.com": def, "own.com": own, "disabled.com": nil, "local.com": def,
		"emptyglobal.com": def, "emptywithlocal.com": nil}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
