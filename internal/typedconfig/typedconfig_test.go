package typedconfig

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// listener is a listener with one filter chain whose only filter is an
// HTTP connection manager with the given stat prefix and HTTP filters.
func listener(t *testing.T, statPrefix string, filters ...*hcmv3.HttpFilter) *listenerv3.Listener {
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix:     statPrefix,
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{Name: "r"}},
		HttpFilters:    filters,
	}
	return &listenerv3.Listener{
		Name: "l",
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       "envoy.filters.network.http_connection_manager",
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)},
			}},
		}},
	}
}

func httpFilter(t *testing.T, name string, m proto.Message) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, m)}}
}

func TestValidate(t *testing.T) {
	router := httpFilter(t, "router", &routerv3.Router{})
	cases := []struct {
		name string
		msg  proto.Message
		want string // a part of the error; "" for none
	}{
		{"valid listener", listener(t, "ingress_http", router), ""},
		{"typed config breaks a rule", listener(t, "", router),
			"Listener.filter_chains[0].filters[0].typed_config<envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager>: invalid HttpConnectionManager.StatPrefix"},
		{"an Any inside an unpacked Any",
			listener(t, "ingress_http", httpFilter(t, "compressor", &compressorv3.Compressor{}), router),
			"HttpConnectionManager>.http_filters[0].typed_config<envoy.extensions.filters.http.compressor.v3.Compressor>: invalid Compressor.CompressorLibrary"},
		{"a type the program does not know",
			&listenerv3.Listener{Name: "l", FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
				Name:       "f",
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: &anypb.Any{TypeUrl: "type.googleapis.com/no.such.Config"}},
			}}}}},
			`Listener.filter_chains[0].filters[0].typed_config: typed config "type.googleapis.com/no.such.Config"`},
		{"map values are searched",
			&routev3.Route{TypedPerFilterConfig: map[string]*anypb.Any{
				"a": mustAny(t, &routerv3.Router{}),
				"b": mustAny(t, &compressorv3.Compressor{}),
			}},
			`Route.typed_per_filter_config["b"]<envoy.extensions.filters.http.compressor.v3.Compressor>: invalid Compressor.CompressorLibrary`},
		{"the message itself is not checked, only its typed configs",
			&listenerv3.Listener{ListenerFiltersTimeout: &durationpb.Duration{Seconds: -1}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Validate(c.msg)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("no error, want one containing %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestReaches(t *testing.T) {
	for _, c := range []struct {
		msg  proto.Message
		want bool
	}{
		{&endpointv3.ClusterLoadAssignment{}, true}, // endpoint metadata holds typed_filter_metadata
		{&routev3.RouteMatch{}, true},               // its path_match_policy is a typed extension
		{&corev3.SocketAddress{}, false},
		{&durationpb.Duration{}, false},
		{&listenerv3.Listener{}, true},
		{&anypb.Any{}, true},
	} {
		if got := reaches(c.msg.ProtoReflect().Descriptor()); got != c.want {
			t.Errorf("reaches(%s) = %v, want %v", c.msg.ProtoReflect().Descriptor().FullName(), got, c.want)
		}
	}
}
