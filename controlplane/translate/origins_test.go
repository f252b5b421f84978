package translate_test

import (
	"path/filepath"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/translate"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/goldentest"
)

// compiledFixture compiles a fixture folder.
func compiledFixture(t *testing.T, dir string) *xds.Resources {
	t.Helper()
	idx, problems := source.Load(source.LoadOptions{}, filepath.Join(goldentest.Root(), dir))
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	out, err := controlplane.Compile(idx, controlplane.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return out.Resources
}

// TestOrigins: each kind of resource leads back to the objects it was
// built from, and an error message naming hosts narrows a route
// configuration or listener to them.
func TestOrigins(t *testing.T) {
	res := compiledFixture(t, "fixtures/httpproxy-ext-authz")
	proxy := func(name string) status.Ref { return status.Ref{Kind: "HTTPProxy", Namespace: "app", Name: name} }
	all := []status.Ref{proxy("bank"), proxy("blog"), proxy("open"), proxy("shop")}
	for _, c := range []struct {
		typ, name, mention string
		want               []status.Ref
	}{
		{resourcev3.RouteType, "https/shop.example.com", "", []status.Ref{proxy("blog"), proxy("shop")}},
		{resourcev3.RouteType, "ingress_http", "", all},
		{resourcev3.RouteType, "ingress_http", "route: invalid virtual host open.example.com: bad", []status.Ref{proxy("open")}},
		{resourcev3.RouteType, "https/none.example.com", "", nil},
		{resourcev3.VirtualHostType, "ingress_http/bank.example.com", "", []status.Ref{proxy("bank")}},
		{resourcev3.VirtualHostType, "ingress_http/none.example.com", "", nil},
		{resourcev3.ListenerType, "ingress_https", "", all},
		{resourcev3.ListenerType, "ingress_https", "Error adding/updating listener(s) ingress_https: bank.example.com chain", []status.Ref{proxy("bank")}},
		{resourcev3.ListenerType, "ingress_http", "", all},
		{resourcev3.ClusterType, "app/web/80/da39a3ee5e", "", []status.Ref{{Kind: "Service", Namespace: "app", Name: "web"}}},
		{resourcev3.ClusterType, "extension/app/authz", "", []status.Ref{{Kind: "ExtensionService", Namespace: "app", Name: "authz"}}},
		{resourcev3.EndpointType, "app/web/http", "", []status.Ref{{Kind: "Service", Namespace: "app", Name: "web"}}},
		{resourcev3.SecretType, "app/app-cert/9627482fcb", "", []status.Ref{{Kind: "Secret", Namespace: "app", Name: "app-cert"}}},
		{resourcev3.SecretType, "app/other/0000000000", "", nil},
	} {
		got := translate.Origins(res, c.typ, c.name, c.mention)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s %s (%q) (-want +got):\n%s", c.typ, c.name, c.mention, diff)
		}
	}
	// A cluster checking another port, and secrets whose names hashname
	// shortened (the object is not known) or did not.
	health := compiledFixture(t, "fixtures/httpproxy-health-port")
	cut := "a-namespace-w-1a2b3c/a-certificate-1a2b3c/0123456789"
	health.Secrets = append(health.Secrets, &tlsv3.Secret{Name: cut}, &tlsv3.Secret{Name: "app/cert-abcdef-1a2b3c/0123456789"})
	for _, c := range []struct {
		typ, name string
		want      []status.Ref
	}{
		{resourcev3.ClusterType, "app/web/80/7f63e350af", []status.Ref{{Kind: "Service", Namespace: "app", Name: "web"}}},
		{resourcev3.EndpointType, "app/web/http/health/health", []status.Ref{{Kind: "Service", Namespace: "app", Name: "web"}}},
		{resourcev3.SecretType, cut, nil},
		{resourcev3.SecretType, "app/cert-abcdef-1a2b3c/0123456789", []status.Ref{{Kind: "Secret", Namespace: "app", Name: "cert-abcdef-1a2b3c"}}},
	} {
		if diff := cmp.Diff(c.want, translate.Origins(health, c.typ, c.name, "")); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", c.typ, c.name, diff)
		}
	}
}

// TestMentions: a name is found only where no name character touches it.
func TestMentions(t *testing.T) {
	for _, c := range []struct {
		text, name string
		want       bool
	}{
		{"Error adding/updating listener(s) ingress_https: bad", "ingress_https", true},
		{"Error adding/updating listener(s) ingress_https: bad", "ingress_http", false},
		{"listeners ingress_https, ingress_http: bad", "ingress_http", true},
		{"virtual host myshop.example.com: bad", "shop.example.com", false},
		{"'shop.example.com' is bad", "shop.example.com", true},
		{"shop.example.com", "shop.example.com", true},
		{"anything", "", false},
		{"https/shop.example.com/x", "https/shop.example.com", false},
	} {
		if got := translate.Mentions(c.text, c.name); got != c.want {
			t.Errorf("Mentions(%q, %q) = %v, want %v", c.text, c.name, got, c.want)
		}
	}
}
