package router

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestClientHandshake: what a chain's TLS context asks of clients, and
// which clients complete the handshake.
func TestClientHandshake(t *testing.T) {
	chainWith := func(ctx *tlsv3.DownstreamTlsContext) *listenerv3.FilterChain {
		fc := &listenerv3.FilterChain{}
		if ctx != nil {
			a, err := anypb.New(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fc.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls",
				ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}
		}
		return fc
	}
	validation := &tlsv3.CommonTlsContext{ValidationContextType: &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{
		ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: "ns/ca/abc"}}}
	for _, tc := range []struct {
		name         string
		fc           *listenerv3.FilterChain
		scheme       string
		noCert       bool
		want         string
		wantComplete bool
	}{
		{"cleartext", chainWith(nil), "http", true, clientCertNone, true},
		{"TLS without validation", chainWith(&tlsv3.DownstreamTlsContext{}), "https", true, clientCertNone, true},
		{"required, presented", chainWith(&tlsv3.DownstreamTlsContext{RequireClientCertificate: wrapperspb.Bool(true), CommonTlsContext: validation}),
			"https", false, clientCertRequired, true},
		{"required, none", chainWith(&tlsv3.DownstreamTlsContext{RequireClientCertificate: wrapperspb.Bool(true), CommonTlsContext: validation}),
			"https", true, clientCertRequired, false},
		{"optional, none", chainWith(&tlsv3.DownstreamTlsContext{CommonTlsContext: validation}), "https", true, clientCertOptional, true},
	} {
		got := clientCertificate(tc.fc)
		res := &Result{}
		complete := clientHandshake(&chain{clientCert: got}, &parsed{scheme: tc.scheme, noClientCert: tc.noCert}, res)
		if got != tc.want || complete != tc.wantComplete {
			t.Errorf("%s: clientCertificate %q, handshake completes %v; want %q, %v (trace %q)", tc.name, got, complete, tc.want, tc.wantComplete, res.Trace)
		}
	}
}
