package graph

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/envoy"
)

// TestUpstreamSettings: Contour's connect-timeout (a duration; not
// positive: the default) and dns-lookup-family (ExternalName clusters
// only) reach the clusters; other values are refused.
func TestUpstreamSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		u       Upstream
		cluster Cluster
		want    Cluster
		err     string
	}{
		{name: "defaults", cluster: Cluster{ExternalName: "a.example.com"}, want: Cluster{ExternalName: "a.example.com"}},
		{name: "both", u: Upstream{ConnectTimeout: "1m30s", DNSLookupFamily: "v4"}, cluster: Cluster{ExternalName: "a.example.com"},
			want: Cluster{ExternalName: "a.example.com", ConnectTimeout: 90 * time.Second, DNSLookupFamily: "v4"}},
		{name: "an EDS cluster resolves nothing", u: Upstream{DNSLookupFamily: "all"}, want: Cluster{}},
		{name: "auto is the default", u: Upstream{DNSLookupFamily: "auto"}, cluster: Cluster{ExternalName: "a"}, want: Cluster{ExternalName: "a"}},
		{name: "negative: the default, as Contour", u: Upstream{ConnectTimeout: "-1s"}, want: Cluster{}},
		{name: "no end", u: Upstream{ConnectTimeout: "infinity"}, err: `connect-timeout "infinity": not a duration`},
		{name: "not a family", u: Upstream{DNSLookupFamily: "V4"}, err: `dns-lookup-family "V4": must be auto, v4, v6 or all`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.u.Check()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := tc.cluster
			tc.u.applyTo(&got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestListenerSettings: the TLS versions, cipher suites and HTTP versions
// of Connections, with Contour's defaults and checks, and the codec one
// HTTP version fixes.
func TestListenerSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		c         Connections
		want      ListenerTLS
		wantCodec envoy.Codec
		err       string
	}{
		{name: "defaults", want: ListenerTLS{Min: "1.2", Max: "1.3", CipherSuites: []string{
			"[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]", "[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]",
			"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"}, ALPN: []string{"h2", "http/1.1"}}},
		{name: "set", c: Connections{MinimumTLSVersion: "1.3", CipherSuites: "AES256-SHA\n[AES128-SHA|AES128-GCM-SHA256]\nAES256-SHA", HTTPVersions: "HTTP/2"},
			want:      ListenerTLS{Min: "1.3", Max: "1.3", CipherSuites: []string{"AES256-SHA", "[AES128-SHA|AES128-GCM-SHA256]"}, ALPN: []string{"h2"}},
			wantCodec: envoy.CodecHTTP2},
		{name: "both versions, any case", c: Connections{HTTPVersions: "Http/1.1\nHTTP/2"},
			want: ListenerTLS{Min: "1.2", Max: "1.3", CipherSuites: contourCipherSuites, ALPN: []string{"h2", "http/1.1"}}},
		{name: "HTTP/1.1", c: Connections{HTTPVersions: "HTTP/1.1\nhttp/1.1"},
			want:      ListenerTLS{Min: "1.2", Max: "1.3", CipherSuites: contourCipherSuites, ALPN: []string{"http/1.1"}},
			wantCodec: envoy.CodecHTTP1},
		{name: "TLS 1.1", c: Connections{MinimumTLSVersion: "1.1"}, err: `tls-minimum-protocol-version "1.1": must be 1.2 or 1.3`},
		{name: "min above max", c: Connections{MinimumTLSVersion: "1.3", MaximumTLSVersion: "1.2"}, err: "above tls-maximum-protocol-version"},
		{name: "unknown cipher", c: Connections{CipherSuites: "ECDHE-RSA-AES256-GCM-SHA384\nDES-CBC3-SHA"}, err: `tls-cipher-suite "DES-CBC3-SHA"`},
		{name: "empty group", c: Connections{CipherSuites: "[]"}, err: `tls-cipher-suite "[]"`},
		{name: "HTTP/3", c: Connections{HTTPVersions: "HTTP/3"}, err: `default-http-version "HTTP/3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.TLS()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || tc.c.Check() == nil {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			conn, err := tc.c.Envoy()
			if err != nil || conn.Codec != tc.wantCodec {
				t.Errorf("codec %v (%v), want %v", conn.Codec, err, tc.wantCodec)
			}
		})
	}
}

// TestGlobalHeaders: Contour's global header policy merges into a
// Service's own: the Service's sets win (names compared without case),
// removals add up, dynamic values are expanded; nothing changes without
// a global policy.
func TestGlobalHeaders(t *testing.T) {
	t.Parallel()
	global := GlobalHeaders{
		Request: HeadersPolicy{Set: []Header{{Name: "x-env", Value: "prod"}, {Name: "x-svc", Value: "%CONTOUR_NAMESPACE%/%CONTOUR_SERVICE_NAME%:%CONTOUR_SERVICE_PORT% 5%"}},
			Remove: []string{"x-debug"}},
		Response: HeadersPolicy{Remove: []string{"server"}},
	}
	svc := contourv1.Service{Name: "web", Port: 80}
	for _, tc := range []struct {
		name string
		g    GlobalHeaders
		be   Backend
		want Backend
	}{{
		name: "no policy of its own",
		g:    global,
		want: Backend{
			RequestHeaders:  &HeadersPolicy{Set: []Header{{Name: "X-Env", Value: "prod"}, {Name: "X-Svc", Value: "app/web:80 5%%"}}, Remove: []string{"X-Debug"}},
			ResponseHeaders: &HeadersPolicy{Remove: []string{"Server"}},
		},
	}, {
		name: "its own policy wins",
		g:    global,
		be: Backend{RequestHeaders: &HeadersPolicy{Set: []Header{{Name: "X-ENV", Value: "staging"}}, Remove: []string{"X-Debug", "a"}},
			ResponseHeaders: &HeadersPolicy{Set: []Header{{Name: "b", Value: "1"}}}},
		want: Backend{
			RequestHeaders:  &HeadersPolicy{Set: []Header{{Name: "X-ENV", Value: "staging"}, {Name: "X-Svc", Value: "app/web:80 5%%"}}, Remove: []string{"X-Debug", "a"}},
			ResponseHeaders: &HeadersPolicy{Set: []Header{{Name: "b", Value: "1"}}, Remove: []string{"Server"}},
		},
	}, {
		name: "no global policy",
		be:   Backend{RequestHeaders: &HeadersPolicy{Remove: []string{"a"}}},
		want: Backend{RequestHeaders: &HeadersPolicy{Remove: []string{"a"}}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			own := tc.be.RequestHeaders
			var before *HeadersPolicy
			if own != nil {
				copied := *own
				before = &copied
			}
			tc.g.applyTo(&tc.be, "app", &svc)
			if diff := cmp.Diff(tc.want, tc.be); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if own != nil && !cmp.Equal(before, own) {
				t.Errorf("the Service's own policy was modified: %+v", own)
			}
		})
	}
	for _, bad := range [][2]string{{"Host", "a"}, {"x y", "a"}, {"x", "a\nb"}, {"", ""}} {
		if CheckGlobalHeader(bad[0], bad[1]) == nil {
			t.Errorf("%q: %q was accepted", bad[0], bad[1])
		}
	}
}
