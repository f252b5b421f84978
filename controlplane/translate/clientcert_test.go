package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// TestClientCertificateCluster: a cluster that originates TLS names the
// client certificate's SDS secret in its context; one that does not has
// no TLS context at all.
func TestClientCertificateCluster(t *testing.T) {
	t.Parallel()
	cert := &graph.Secret{Namespace: "certs", Name: "client", Cert: []byte("c"), Key: []byte("k")}
	name := SecretName(cert)
	for _, proto := range []string{"tls", "h2", ""} {
		c := &graph.Cluster{Namespace: "ns", Service: "s", Port: corev1.ServicePort{Port: 443}, Protocol: proto, ClientCertificate: cert}
		out, err := ClusterResource(ClusterName(c), c)
		if err != nil {
			t.Fatal(err)
		}
		ts := out.GetTransportSocket()
		if proto == "" {
			if ts != nil {
				t.Errorf("a plain cluster has a transport socket")
			}
			continue
		}
		var ctx tlsv3.UpstreamTlsContext
		if err := ts.GetTypedConfig().UnmarshalTo(&ctx); err != nil {
			t.Fatal(err)
		}
		want := []*tlsv3.SdsSecretConfig{{Name: name, SdsConfig: &corev3.ConfigSource{
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}, ResourceApiVersion: corev3.ApiVersion_V3}}}
		if d := cmp.Diff(want, ctx.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs(), protocmp.Transform()); d != "" {
			t.Errorf("%s cluster: client certificate (-want +got):\n%s", proto, d)
		}
	}
}
