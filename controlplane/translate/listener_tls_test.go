package translate

import (
	"testing"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// contourCiphers are Contour's default TLS 1.2 cipher suites.
var contourCiphers = []string{
	"[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]",
	"[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]",
	"ECDHE-ECDSA-AES256-GCM-SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384",
}

// wantUpstreamTLS are Contour's parameters of TLS to upstreams when
// cluster.upstream-tls sets none.
func wantUpstreamTLS() *tlsv3.TlsParameters {
	return &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
		CipherSuites: contourCiphers}
}

// TestListenerTLSSettings: Contour's tls.* and default-http-versions reach
// the TLS context of a secure host (the host may only narrow the versions)
// and the codec of every connection manager.
func TestListenerTLSSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		conn           graph.Connections
		hostMin        string
		hostMax        string
		want           *tlsv3.TlsParameters
		wantALPN       []string
		wantCodec      hcmv3.HttpConnectionManager_CodecType
		wantHTTPSCodec hcmv3.HttpConnectionManager_CodecType
	}{{
		name:     "defaults: TLS 1.2 to 1.3, Contour's ciphers, h2 and HTTP/1.1",
		want:     &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, CipherSuites: contourCiphers},
		wantALPN: []string{"h2", "http/1.1"},
	}, {
		name: "configured versions and ciphers (repeats dropped), HTTP/1.1 only",
		conn: graph.Connections{MinimumTLSVersion: "1.3", MaximumTLSVersion: "1.3",
			CipherSuites: "ECDHE-RSA-AES256-SHA\n[AES128-SHA|AES256-SHA]\nECDHE-RSA-AES256-SHA", HTTPVersions: "HTTP/1.1"},
		want: &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3,
			CipherSuites: []string{"ECDHE-RSA-AES256-SHA", "[AES128-SHA|AES256-SHA]"}},
		wantALPN: []string{"http/1.1"}, wantCodec: hcmv3.HttpConnectionManager_HTTP1, wantHTTPSCodec: hcmv3.HttpConnectionManager_HTTP1,
	}, {
		name:     "the host raises the minimum above the listener's",
		conn:     graph.Connections{MinimumTLSVersion: "1.2", HTTPVersions: "http/2\nHTTP/2"},
		hostMin:  "1.3",
		want:     &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, CipherSuites: contourCiphers},
		wantALPN: []string{"h2"}, wantCodec: hcmv3.HttpConnectionManager_HTTP2, wantHTTPSCodec: hcmv3.HttpConnectionManager_HTTP2,
	}, {
		name:    "the host cannot lower the listener's minimum, but lowers its maximum",
		conn:    graph.Connections{MinimumTLSVersion: "1.2", HTTPVersions: "HTTP/2\nHTTP/1.1"},
		hostMin: "1.2", hostMax: "1.2",
		want:     &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_2, CipherSuites: contourCiphers},
		wantALPN: []string{"h2", "http/1.1"},
	}, {
		name:     "the host's minimum is above the listener's maximum: it is both",
		conn:     graph.Connections{MaximumTLSVersion: "1.2"},
		hostMin:  "1.3",
		want:     &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, CipherSuites: contourCiphers},
		wantALPN: []string{"h2", "http/1.1"},
	}, {
		name:     "the listener's minimum is kept above a host's lower one",
		conn:     graph.Connections{MinimumTLSVersion: "1.3"},
		hostMin:  "1.2",
		want:     &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, TlsMaximumProtocolVersion: tlsv3.TlsParameters_TLSv1_3, CipherSuites: contourCiphers},
		wantALPN: []string{"h2", "http/1.1"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			g := graph.New(8080, 8443, graph.AccessLog{})
			g.Connections = tc.conn
			vh := g.SecureVirtualHost("a.com")
			vh.Secret = &graph.Secret{Namespace: "ns", Name: "cert", Cert: []byte("CERT"), Key: []byte("KEY")}
			vh.MinTLS, vh.MaxTLS = tc.hostMin, tc.hostMax
			vh.AddRoute(&graph.Route{Path: graph.PathMatch{Kind: graph.PathPrefix, Value: "/"},
				Backends: []graph.Backend{{Cluster: &graph.Cluster{Namespace: "ns", Service: "web", Port: corev1.ServicePort{Port: 80}}}}})
			res, _, err := Translate(g, source.NewIndex())
			if err != nil {
				t.Fatal(err)
			}
			chain := res.Listener("ingress_https").GetFilterChains()[0]
			var ctx tlsv3.DownstreamTlsContext
			if err := chain.GetTransportSocket().GetTypedConfig().UnmarshalTo(&ctx); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, ctx.GetCommonTlsContext().GetTlsParams(), protocmp.Transform()); d != "" {
				t.Errorf("TLS parameters (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantALPN, ctx.GetCommonTlsContext().GetAlpnProtocols()); d != "" {
				t.Errorf("ALPN (-want +got):\n%s", d)
			}
			for listener, want := range map[string]hcmv3.HttpConnectionManager_CodecType{"ingress_http": tc.wantCodec, "ingress_https": tc.wantHTTPSCodec} {
				var hcm hcmv3.HttpConnectionManager
				if err := res.Listener(listener).GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(&hcm); err != nil {
					t.Fatal(err)
				}
				if hcm.GetCodecType() != want {
					t.Errorf("%s: codec %v, want %v", listener, hcm.GetCodecType(), want)
				}
			}
		})
	}
}

// TestListenerTLSSettingsRefused: settings Contour refuses make the
// translation fail (the command line checks them first).
func TestListenerTLSSettingsRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []graph.Connections{
		{MinimumTLSVersion: "1.1"}, {MaximumTLSVersion: "1.4"}, {MinimumTLSVersion: "1.3", MaximumTLSVersion: "1.2"},
		{CipherSuites: "RC4-SHA"}, {CipherSuites: "[AES128-SHA|RC4-SHA]"}, {CipherSuites: "["}, {HTTPVersions: "HTTP/3"},
	} {
		g := graph.New(8080, 8443, graph.AccessLog{})
		g.Connections = c
		if _, _, err := Translate(g, source.NewIndex()); err == nil {
			t.Errorf("%+v was accepted", c)
		}
		if c.Check() == nil {
			t.Errorf("Check accepted %+v", c)
		}
	}
}
