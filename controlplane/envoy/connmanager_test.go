package envoy

import (
	"bytes"
	"testing"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestConnectionManagersSameMessage checks that ConnectionManagers.Filter
// gives the message HTTPConnectionManager gives, for every kind of host and
// with default and non-default settings and logs, and the same bytes every
// time.
func TestConnectionManagersSameMessage(t *testing.T) {
	t.Parallel()
	set := func(d time.Duration) Timeout { return Timeout{Set: true, Duration: d} }
	custom := NewConnectionSettings(Connections{Request: set(30 * time.Second), Idle: Timeout{Set: true, Off: true},
		StreamIdle: set(5 * time.Minute), MaxDuration: set(time.Hour), DelayedClose: set(time.Second), Drain: set(time.Minute),
		TrustedHops: 2, KeepSlashes: true, RejectChunkedLength: true, Codec: CodecHTTP2, MaxRequests: 10, MaxStreams: 50,
		ServerHeader: ServerPassThrough})
	logs := AccessLogs(LogSettings{Format: LogJSON, Path: "/dev/stdout", Level: LogInfo}, false)
	extra := []*hcmv3.HttpFilter{httpFilter(JWTAuthnFilter, &hcmv3.HttpConnectionManager{}), httpFilter(ExtAuthzFilter, &hcmv3.HttpConnectionManager{})}
	hosts := []HostSettings{{}, {CookieRewrite: true}, {ForwardClientCert: &ForwardClientCert{Subject: true, DNS: true}},
		{CookieRewrite: true, ForwardClientCert: &ForwardClientCert{Cert: true}}, {CheckServerName: true},
		{CookieRewrite: true, CheckServerName: true}, {CheckServerName: true, ForwardClientCert: &ForwardClientCert{URI: true}}}
	for _, s := range []*ConnectionSettings{nil, custom} {
		for _, l := range [][]*accesslogv3.AccessLog{nil, logs} {
			m := NewConnectionManagers(l, s)
			for _, h := range hosts {
				for _, x := range [][]*hcmv3.HttpFilter{nil, extra[:1], extra} {
					for _, rc := range []string{"ingress_http", "https/a-rather-longer-host-name.example.com"} {
						want := HTTPConnectionManager("ingress_https", rc, l, s, h, x...)
						got := m.Filter("ingress_https", rc, h, x...)
						if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
							t.Fatalf("settings %v, logs %d, host %+v, %d extra, %s (-want +got):\n%s", s != nil, len(l), h, len(x), rc, d)
						}
						var decoded hcmv3.HttpConnectionManager
						if err := got.GetTypedConfig().UnmarshalTo(&decoded); err != nil {
							t.Fatal(err)
						}
						if d := cmp.Diff(connectionManager("ingress_https", rc, l, or(s), h, x), &decoded, protocmp.Transform()); d != "" {
							t.Fatalf("settings %v, logs %d, host %+v, %d extra, %s: decoded (-want +got):\n%s", s != nil, len(l), h, len(x), rc, d)
						}
						again := m.Filter("ingress_https", rc, h, x...)
						if !bytes.Equal(got.GetTypedConfig().GetValue(), again.GetTypedConfig().GetValue()) {
							t.Fatalf("settings %v, logs %d, host %+v, %d extra, %s: two encodings differ", s != nil, len(l), h, len(x), rc)
						}
					}
				}
			}
		}
	}
}

// or is s, or the default settings when nil.
func or(s *ConnectionSettings) *ConnectionSettings {
	if s == nil {
		return defaultSettings
	}
	return s
}
