package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// TestSourceMetadataWhenRead checks that routes are always named after
// their object and carry Contour's source metadata only when the access
// log reads it (or when asked to always), through Translate and
// TranslateHost alike.
func TestSourceMetadataWhenRead(t *testing.T) {
	t.Parallel()
	nameField := "who=%METADATA(ROUTE:" + MetadataFilter + ":" + MetadataName + ")%"
	for _, tc := range []struct {
		name string
		log  graph.AccessLog
		want bool
	}{
		{"envoy's line", graph.AccessLog{}, false},
		{"a text line without metadata", graph.AccessLog{Text: "%REQ(:AUTHORITY)% %ROUTE_NAME%\n"}, false},
		{"a text line reading it", graph.AccessLog{Text: "[%START_TIME%] %METADATA(ROUTE:" + MetadataFilter + ":" + MetadataKind + ")%\n"}, true},
		{"a text line ignored for json", graph.AccessLog{Format: "json", JSONFields: "method", Text: "%METADATA(ROUTE:" + MetadataFilter + ")%\n"}, false},
		{"json's default fields", graph.AccessLog{Format: "json"}, true},
		{"json fields without it", graph.AccessLog{Format: "json", JSONFields: "method\npath"}, false},
		{"json's kind field", graph.AccessLog{Format: "json", JSONFields: "method\nkind"}, true},
		{"a json field of one's own", graph.AccessLog{Format: "json", JSONFields: "method\n" + nameField}, true},
		{"a disabled log", graph.AccessLog{Format: "json", Level: "disabled"}, false},
		{"always", graph.AccessLog{RouteMetadata: graph.RouteMetadataAlways}, true},
		{"always, with no log", graph.AccessLog{Level: "disabled", RouteMetadata: graph.RouteMetadataAlways}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.log.Check(); err != nil {
				t.Fatal(err)
			}
			if got := tc.log.SourceMetadata(); got != tc.want {
				t.Fatalf("SourceMetadata() = %v, want %v", got, tc.want)
			}
			src := status.Ref{Kind: status.KindIngress, Namespace: "shop", Name: "web"}
			g := graph.New(8080, 8443, tc.log)
			vh := g.VirtualHost("a.com")
			vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"}, DirectResponse: &graph.DirectResponse{Code: 204}, Source: src})
			res, _, err := Translate(g, source.NewIndex())
			if err != nil {
				t.Fatal(err)
			}
			host, err := TranslateHost(source.NewIndex(), vh, nil, tc.log, graph.Connections{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := &routev3.Route{Name: "ingress/shop/web"}
			if tc.want {
				want.Metadata = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{MetadataFilter: {Fields: map[string]*structpb.Value{
					MetadataKind: structpb.NewStringValue("Ingress"), MetadataNamespace: structpb.NewStringValue("shop"), MetadataName: structpb.NewStringValue("web"),
				}}}}
			}
			for what, r := range map[string]*routev3.Route{
				"Translate":     res.RouteConfiguration(HTTPRoutes).GetVirtualHosts()[0].GetRoutes()[0],
				"TranslateHost": host.Insecure.GetRoutes()[0],
			} {
				got := &routev3.Route{Name: r.GetName(), Metadata: r.GetMetadata()}
				if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
					t.Errorf("%s: route's name and metadata (-want +got):\n%s", what, d)
				}
				if ref, ok := RouteSource(r); !ok || ref != src {
					t.Errorf("%s: RouteSource = %v, %v; want %v", what, ref, ok, src)
				}
			}
		})
	}
}

// TestRouteSource checks what RouteSource reads from a route's name and,
// failing that, its metadata.
func TestRouteSource(t *testing.T) {
	t.Parallel()
	md := func(kind, ns, name string) *corev3.Metadata {
		return &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{MetadataFilter: {Fields: map[string]*structpb.Value{
			MetadataKind: structpb.NewStringValue(kind), MetadataNamespace: structpb.NewStringValue(ns), MetadataName: structpb.NewStringValue(name),
		}}}}
	}
	for _, tc := range []struct {
		route *routev3.Route
		want  status.Ref
		ok    bool
	}{
		{&routev3.Route{Name: "httpproxy/shop/web"}, status.Ref{Kind: "HTTPProxy", Namespace: "shop", Name: "web"}, true},
		{&routev3.Route{Name: "ingressroute/shop/web"}, status.Ref{Kind: "IngressRoute", Namespace: "shop", Name: "web"}, true},
		{&routev3.Route{Name: "Ingress/shop/web"}, status.Ref{Kind: "Ingress", Namespace: "shop", Name: "web"}, true},
		{&routev3.Route{Name: "httpproxy/shop/web", Metadata: md("Ingress", "other", "x")}, status.Ref{Kind: "HTTPProxy", Namespace: "shop", Name: "web"}, true},
		{&routev3.Route{Metadata: md("HTTPProxy", "shop", "web")}, status.Ref{Kind: "HTTPProxy", Namespace: "shop", Name: "web"}, true},
		{&routev3.Route{Name: "service/shop/web", Metadata: md("HTTPProxy", "shop", "web")}, status.Ref{Kind: "HTTPProxy", Namespace: "shop", Name: "web"}, true},
		{&routev3.Route{Name: "httpproxy/shop"}, status.Ref{}, false},
		{&routev3.Route{Name: "httpproxy/shop/"}, status.Ref{}, false},
		{&routev3.Route{Name: "httpproxy/shop/web/0"}, status.Ref{}, false},
		{&routev3.Route{Name: "my-route"}, status.Ref{}, false},
		{&routev3.Route{}, status.Ref{}, false},
	} {
		if got, ok := RouteSource(tc.route); got != tc.want || ok != tc.ok {
			t.Errorf("RouteSource(name %q) = %v, %v; want %v, %v", tc.route.GetName(), got, ok, tc.want, tc.ok)
		}
	}
	if got := SourceName(status.Ref{Kind: "IngressRoute", Namespace: "a", Name: "b"}); got != "ingressroute/a/b" {
		t.Errorf("SourceName = %q", got)
	}
}
