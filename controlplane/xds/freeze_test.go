package xds_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/goldentest"
)

var deterministic = proto.MarshalOptions{Deterministic: true}

func mustEncode(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := deterministic.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compileCase compiles a golden case with the options of its args header.
func compileCase(t *testing.T, c goldentest.Case) *xds.Resources {
	t.Helper()
	raw, err := os.ReadFile(c.Input)
	if err != nil {
		t.Fatal(err)
	}
	opts, ns := goldentest.CaseOptions(t, raw)
	idx, _ := source.LoadBytes(source.LoadOptions{DefaultNamespace: ns}, c.Input, raw)
	res, err := controlplane.Compile(idx, opts)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	return res.Resources
}

// TestFreezeGoldenCases freezes every virtual host and ClusterLoadAssignment
// of every golden case: each encodes to the bytes it encoded to before,
// keeps its name (and domains), thaws to what it was and equals it; the
// document `isobar translate` prints of the frozen set is the same bytes.
func TestFreezeGoldenCases(t *testing.T) {
	t.Parallel()
	frozen := 0
	for _, c := range goldentest.Cases(t) {
		want := compileCase(t, c)
		res := compileCase(t, c) // the same content in messages of its own, to freeze
		check := func(what string, was, m proto.Message, freeze func([]byte) error) {
			t.Helper()
			enc := mustEncode(t, m)
			if err := freeze(enc); err != nil {
				t.Fatalf("%s: %s: %v", c.Name, what, err)
			}
			if !xds.Frozen(m) {
				return // nothing but the kept fields
			}
			frozen++
			if got := mustEncode(t, m); !bytes.Equal(got, enc) {
				t.Fatalf("%s: %s encodes to other bytes once frozen", c.Name, what)
			}
			if d := cmp.Diff(was, xds.Thaw(m), protocmp.Transform()); d != "" {
				t.Fatalf("%s: %s thawed differs (-was +thawed):\n%s", c.Name, what, d)
			}
			if !xds.Equal(was, m) || !xds.Equal(m, was) {
				t.Fatalf("%s: %s frozen does not equal what it was", c.Name, what)
			}
		}
		for i, rc := range res.Routes {
			for j, vh := range rc.GetVirtualHosts() {
				was := want.Routes[i].GetVirtualHosts()[j]
				check("virtual host "+vh.GetName(), was, vh, func(b []byte) error { return xds.FreezeVirtualHost(vh, b) })
				if vh.GetName() != was.GetName() || !slicesEqual(vh.GetDomains(), was.GetDomains()) {
					t.Fatalf("%s: frozen virtual host %q lost its name or domains", c.Name, was.GetName())
				}
			}
		}
		for i, cla := range res.Endpoints {
			was := want.Endpoints[i]
			check("ClusterLoadAssignment "+cla.GetClusterName(), was, cla, func(b []byte) error { return xds.FreezeClusterLoadAssignment(cla, b) })
			if cla.GetClusterName() != was.GetClusterName() {
				t.Fatalf("%s: frozen ClusterLoadAssignment %q lost its name", c.Name, was.GetClusterName())
			}
		}
		if d := cmp.Diff(want, xds.Thawed(res), protocmp.Transform()); d != "" {
			t.Fatalf("%s: the set thawed differs (-want +thawed):\n%s", c.Name, d)
		}
		var a, b bytes.Buffer
		if err := xds.Marshal(&a, xds.Document{Resources: want}, xds.MarshalOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := xds.Marshal(&b, xds.Document{Resources: res}, xds.MarshalOptions{}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("%s: the document of the frozen set differs", c.Name)
		}
	}
	if frozen < 200 {
		t.Fatalf("only %d messages frozen in the golden cases", frozen)
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// TestFreezeRefusesAnotherEncoding: an encoding that is not the message's
// own is refused and the message is left as it was.
func TestFreezeRefusesAnotherEncoding(t *testing.T) {
	route := func(prefix, cluster string) *routev3.Route {
		return &routev3.Route{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster}}}}
	}
	host := func(name, cluster string) *routev3.VirtualHost {
		return &routev3.VirtualHost{Name: name, Domains: []string{name, name + ":*"}, Routes: []*routev3.Route{route("/", cluster)}}
	}
	a := host("a.example.com", "app/a/80")
	enc := mustEncode(t, a)
	cases := map[string][]byte{
		"another host's":      mustEncode(t, host("b.example.com", "app/a/80")),
		"other routes":        mustEncode(t, host("a.example.com", "app/b/80")),
		"cut short":           enc[:len(enc)-1],
		"one domain less":     mustEncode(t, &routev3.VirtualHost{Name: a.Name, Domains: a.Domains[:1], Routes: a.Routes}),
		"a field out of turn": append(append([]byte{}, enc...), mustEncode(t, &routev3.VirtualHost{Name: "x"})...),
		"not an encoding":     bytes.Repeat([]byte{0xff}, len(enc)),
	}
	for what, b := range cases {
		if err := xds.FreezeVirtualHost(a, b); err == nil {
			t.Errorf("%s encoding: accepted", what)
		}
		if xds.Frozen(a) || len(a.GetRoutes()) != 1 {
			t.Fatalf("%s encoding: the host was changed", what)
		}
	}
	if err := xds.FreezeVirtualHost(a, enc); err != nil {
		t.Fatal(err)
	}
	if !xds.Frozen(a) || a.GetRoutes() != nil {
		t.Fatal("its own encoding did not freeze the host")
	}
	// Freezing again changes nothing, whatever the bytes.
	if err := xds.FreezeVirtualHost(a, []byte("junk")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustEncode(t, a), enc) {
		t.Fatal("a frozen host encodes to other bytes")
	}
	if xds.Equal(a, host("a.example.com", "app/b/80")) {
		t.Fatal("a frozen host equals a host with other routes")
	}
	if xds.Equal(a, (*routev3.VirtualHost)(nil)) || xds.Equal((*routev3.VirtualHost)(nil), a) {
		t.Fatal("a frozen host equals nil")
	}
	if !xds.Equal((*routev3.VirtualHost)(nil), (*routev3.VirtualHost)(nil)) {
		t.Fatal("nil does not equal nil")
	}
	// An assignment without endpoints has nothing to freeze.
	empty := &endpointv3.ClusterLoadAssignment{ClusterName: "app/a/80"}
	if err := xds.FreezeClusterLoadAssignment(empty, mustEncode(t, empty)); err != nil || xds.Frozen(empty) {
		t.Fatalf("an empty assignment: frozen %v, error %v", xds.Frozen(empty), err)
	}
}
