package bootstrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
)

func TestBuildDefaults(t *testing.T) {
	t.Parallel()
	o := Defaults()
	o.AdminAddress = "0.0.0.0"
	b, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	ads := &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
	want := &bootstrapv3.Bootstrap_DynamicResources{
		AdsConfig: &corev3.ApiConfigSource{ApiType: corev3.ApiConfigSource_DELTA_GRPC, TransportApiVersion: corev3.ApiVersion_V3,
			GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "contour", Authority: "contour"}}}}},
		LdsConfig: ads, CdsConfig: ads,
	}
	if d := cmp.Diff(want, b.GetDynamicResources(), protocmp.Transform()); d != "" {
		t.Errorf("dynamic resources (-want +got):\n%s", d)
	}
	// Contour's layers: "dynamic" over RTDS (ADS), then the admin layer.
	runtime := &bootstrapv3.LayeredRuntime{Layers: []*bootstrapv3.RuntimeLayer{
		{Name: "dynamic", LayerSpecifier: &bootstrapv3.RuntimeLayer_RtdsLayer_{
			RtdsLayer: &bootstrapv3.RuntimeLayer_RtdsLayer{Name: "dynamic", RtdsConfig: ads}}},
		{Name: "admin", LayerSpecifier: &bootstrapv3.RuntimeLayer_AdminLayer_{AdminLayer: &bootstrapv3.RuntimeLayer_AdminLayer{}}},
	}}
	if d := cmp.Diff(runtime, b.GetLayeredRuntime(), protocmp.Transform()); d != "" {
		t.Errorf("layered runtime (-want +got):\n%s", d)
	}
	adm := b.GetAdmin().GetAddress().GetSocketAddress()
	if adm.GetAddress() != "0.0.0.0" || adm.GetPortValue() != 9001 {
		t.Errorf("admin = %v", adm)
	}
	c := b.GetStaticResources().GetClusters()[0]
	if c.GetName() != "contour" || c.GetType() != clusterv3.Cluster_STATIC || c.GetTransportSocket() != nil {
		t.Errorf("xDS cluster = %v", c)
	}
	ep := c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	if ep.GetAddress() != "127.0.0.1" || ep.GetPortValue() != 8001 {
		t.Errorf("xDS endpoint = %v", ep)
	}
}

func TestProtocol(t *testing.T) {
	t.Parallel()
	for proto, want := range map[Protocol]corev3.ApiConfigSource_ApiType{
		"": corev3.ApiConfigSource_DELTA_GRPC, ProtocolDelta: corev3.ApiConfigSource_DELTA_GRPC, ProtocolSotW: corev3.ApiConfigSource_GRPC,
	} {
		o := Defaults()
		o.Protocol = proto
		b, err := Build(o)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.GetDynamicResources().GetAdsConfig().GetApiType(); got != want {
			t.Errorf("protocol %q: api_type %v, want %v", proto, got, want)
		}
	}
	o := Defaults()
	o.Protocol = "rest"
	if _, err := Build(o); err == nil {
		t.Error("an unknown protocol was accepted")
	}
}

func TestBuildDNSAndSocket(t *testing.T) {
	t.Parallel()
	o := Defaults()
	o.XDSAddress, o.AdminAddress = "contour.projectcontour", "/admin/admin.sock"
	b, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	if b.GetStaticResources().GetClusters()[0].GetType() != clusterv3.Cluster_STRICT_DNS {
		t.Error("a DNS name needs a STRICT_DNS cluster")
	}
	if b.GetAdmin().GetAddress().GetPipe().GetPath() != "/admin/admin.sock" {
		t.Errorf("admin = %v", b.GetAdmin().GetAddress())
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	o := Defaults()
	o.CAFile = "/certs/ca.crt"
	if _, err := Build(o); err == nil || !strings.Contains(err.Error(), "needs all of") {
		t.Fatalf("a partial TLS configuration must fail, got %v", err)
	}
	o.CertFile, o.KeyFile = "/certs/tls.crt", "/certs/tls.key"
	b, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	var ctx tlsv3.UpstreamTlsContext
	if err := b.GetStaticResources().GetClusters()[0].GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx); err != nil {
		t.Fatal(err)
	}
	if got := ctx.GetCommonTlsContext().GetTlsCertificates()[0].GetCertificateChain().GetFilename(); got != "/certs/tls.crt" {
		t.Errorf("certificate file = %q", got)
	}
	dir := t.TempDir()
	o.ResourcesDir = dir
	out := filepath.Join(dir, "config", "envoy.json")
	if err := Write(out, o); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"sds/xds-tls-certificate.json", "sds/xds-validation-context.json", "config/envoy.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var back bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(data, &back); err != nil {
		t.Fatalf("the written bootstrap does not parse: %v", err)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("the written bootstrap is not valid: %v", err)
	}
	var sctx tlsv3.UpstreamTlsContext
	if err := back.GetStaticResources().GetClusters()[0].GetTransportSocket().GetTypedConfig().UnmarshalTo(&sctx); err != nil {
		t.Fatal(err)
	}
	if got := sctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs()[0].GetSdsConfig().GetPathConfigSource().GetPath(); got != filepath.Join(dir, "sds/xds-tls-certificate.json") {
		t.Errorf("SDS path = %q", got)
	}
}
