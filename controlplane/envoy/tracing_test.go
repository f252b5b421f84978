package envoy

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tracingv3 "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestTracingConfig(t *testing.T) {
	t.Parallel()
	got := TracingConfig(Tracing{Cluster: "extension/obs/otel", Authority: "otel.obs", Timeout: durationpb.New(1e9), ServiceName: "edge",
		Overall: 10, Client: 100, Random: 100, MaxPathTagLength: 256,
		Tags: "podName\x00environment\x00HOSTNAME\nteam\x00literal\x00pay\nua\x00header\x00User-Agent"})
	want := &hcmv3.HttpConnectionManager_Tracing{
		OverallSampling: &typev3.Percent{Value: 10}, ClientSampling: &typev3.Percent{Value: 100}, RandomSampling: &typev3.Percent{Value: 100},
		MaxPathTagLength: wrapperspb.UInt32(256),
		CustomTags: []*tracingv3.CustomTag{
			{Tag: "podName", Type: &tracingv3.CustomTag_Environment_{Environment: &tracingv3.CustomTag_Environment{Name: "HOSTNAME"}}},
			{Tag: "team", Type: &tracingv3.CustomTag_Literal_{Literal: &tracingv3.CustomTag_Literal{Value: "pay"}}},
			{Tag: "ua", Type: &tracingv3.CustomTag_RequestHeader{RequestHeader: &tracingv3.CustomTag_Header{Name: "User-Agent"}}},
		},
		Provider: &tracev3.Tracing_Http{Name: "envoy.tracers.opentelemetry", ConfigType: &tracev3.Tracing_Http_TypedConfig{
			TypedConfig: mustAny(t, &tracev3.OpenTelemetryConfig{
				GrpcService: &corev3.GrpcService{
					TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "extension/obs/otel", Authority: "otel.obs"}},
					Timeout:         durationpb.New(1e9),
				},
				ServiceName: "edge",
			}),
		}},
		SpawnUpstreamSpan: wrapperspb.Bool(true),
	}
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		t.Errorf("tracing (-want +got):\n%s", d)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
	if tags := TracingConfig(Tracing{Cluster: "c"}).GetCustomTags(); tags != nil {
		t.Errorf("no tags: got %v", tags)
	}
	// Both ways of building a manager carry it.
	s := NewConnectionSettings(Connections{Tracing: got})
	var direct, cached hcmv3.HttpConnectionManager
	if err := HTTPConnectionManager("p", "r", nil, s, HostSettings{}).GetTypedConfig().UnmarshalTo(&direct); err != nil {
		t.Fatal(err)
	}
	if err := NewConnectionManagers(nil, s).Filter("p", "r", HostSettings{}).GetTypedConfig().UnmarshalTo(&cached); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*hcmv3.HttpConnectionManager{"direct": &direct, "cached": &cached} {
		if d := cmp.Diff(want, m.GetTracing(), protocmp.Transform()); d != "" {
			t.Errorf("%s manager's tracing (-want +got):\n%s", name, d)
		}
	}
}
