package envoy

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tracingv3 "github.com/envoyproxy/go-control-plane/envoy/type/tracing/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Tracing is how connection managers trace requests: OpenTelemetry spans
// sent over gRPC to Cluster (with Authority and Timeout, nil for Envoy's
// default), named ServiceName, sampled at the given percentages, with the
// URL tag's path cut at MaxPathTagLength and Tags, one a line: name,
// kind (literal, environment or header) and value separated by NUL bytes.
type Tracing struct {
	Cluster, Authority      string
	Timeout                 *durationpb.Duration
	ServiceName             string
	Overall, Client, Random float64
	MaxPathTagLength        uint32
	Tags                    string
}

// TracingConfig is a connection manager's tracing for t, as Contour
// writes it.
func TracingConfig(t Tracing) *hcmv3.HttpConnectionManager_Tracing {
	out := &hcmv3.HttpConnectionManager_Tracing{
		OverallSampling:  &typev3.Percent{Value: t.Overall},
		ClientSampling:   &typev3.Percent{Value: t.Client},
		RandomSampling:   &typev3.Percent{Value: t.Random},
		MaxPathTagLength: wrapperspb.UInt32(t.MaxPathTagLength),
		Provider: &tracev3.Tracing_Http{Name: "envoy.tracers.opentelemetry", ConfigType: &tracev3.Tracing_Http_TypedConfig{
			TypedConfig: Any(&tracev3.OpenTelemetryConfig{
				GrpcService: &corev3.GrpcService{
					TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: t.Cluster, Authority: t.Authority}},
					Timeout:         t.Timeout,
				},
				ServiceName: t.ServiceName,
			}),
		}},
		SpawnUpstreamSpan: wrapperspb.Bool(true),
	}
	for _, line := range strings.Split(t.Tags, "\n") {
		name, rest, _ := strings.Cut(line, "\x00")
		kind, value, _ := strings.Cut(rest, "\x00")
		tag := &tracingv3.CustomTag{Tag: name}
		switch kind {
		case "literal":
			tag.Type = &tracingv3.CustomTag_Literal_{Literal: &tracingv3.CustomTag_Literal{Value: value}}
		case "environment":
			tag.Type = &tracingv3.CustomTag_Environment_{Environment: &tracingv3.CustomTag_Environment{Name: value}}
		case "header":
			tag.Type = &tracingv3.CustomTag_RequestHeader{RequestHeader: &tracingv3.CustomTag_Header{Name: value}}
		default:
			continue // no tags
		}
		out.CustomTags = append(out.CustomTags, tag)
	}
	return out
}
