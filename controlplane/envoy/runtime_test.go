package envoy

import (
	"testing"

	runtimev3 "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestRuntimeLayer(t *testing.T) {
	num := structpb.NewNumberValue
	for _, tc := range []struct {
		name    string
		o       RuntimeOptions
		want    map[string]*structpb.Value
		skipped []string
	}{{
		name: "defaults: RE2's limits as Contour raises them",
		want: map[string]*structpb.Value{"re2.max_program_size.error_level": num(1048576), "re2.max_program_size.warn_level": num(1000)},
	}, {
		name: "listener limits",
		o:    RuntimeOptions{MaxRequestsPerIOCycle: 10, MaxConnectionsPerListener: 100, Listeners: []string{"ingress_http", "ingress_https"}},
		want: map[string]*structpb.Value{"re2.max_program_size.error_level": num(1048576), "re2.max_program_size.warn_level": num(1000),
			"http.max_requests_per_io_cycle":                                num(10),
			"envoy.resource_limits.listener.ingress_http.connection_limit":  num(100),
			"envoy.resource_limits.listener.ingress_https.connection_limit": num(100)},
	}, {
		name: "settings: strings, never over a managed key",
		o: RuntimeOptions{MaxRequestsPerIOCycle: 10, Listeners: []string{"ingress_http"}, Settings: map[string]string{
			"envoy.reloadable_features.foo":    "false",
			"re2.max_program_size.error_level": "5",
			"http.max_requests_per_io_cycle":   "99",
			// not managed: the connection limit is not set
			"envoy.resource_limits.listener.ingress_http.connection_limit": "7",
		}},
		want: map[string]*structpb.Value{"re2.max_program_size.error_level": num(1048576), "re2.max_program_size.warn_level": num(1000),
			"http.max_requests_per_io_cycle": num(10), "envoy.reloadable_features.foo": structpb.NewStringValue("false"),
			"envoy.resource_limits.listener.ingress_http.connection_limit": structpb.NewStringValue("7")},
		skipped: []string{"http.max_requests_per_io_cycle", "re2.max_program_size.error_level"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, skipped := RuntimeLayer(tc.o)
			want := &runtimev3.Runtime{Name: "dynamic", Layer: &structpb.Struct{Fields: tc.want}}
			if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
				t.Errorf("layer (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.skipped, skipped); d != "" {
				t.Errorf("skipped (-want +got):\n%s", d)
			}
			if err := got.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}
