package graph

import (
	"fmt"
	"net/netip"

	"github.com/isobar-dev/isobar/controlplane/envoy"
)

// Connections are how Envoy's connection managers keep downstream
// connections, as Contour's configuration file says it (timeouts.* and
// network.num-trusted-hops): each timeout is "" (the default),
// "infinity" (or "infinite": off) or a Go duration such as "30s". The zero
// value is Contour's default: connections idle for 60 s are closed, and
// every other timeout is Envoy's.
type Connections struct {
	RequestTimeout                string
	ConnectionIdleTimeout         string
	StreamIdleTimeout             string
	MaxConnectionDuration         string
	DelayedCloseTimeout           string
	ConnectionShutdownGracePeriod string
	// NumTrustedHops is how many proxies in front of Envoy append to
	// X-Forwarded-For; the client's address is read that far from its end.
	NumTrustedHops uint32
	// DisableMergeSlashes keeps repeated slashes in request paths;
	// DisableAllowChunkedLength makes Envoy refuse an HTTP/1 request with
	// both Content-Length and chunked encoding (Contour's settings of the
	// same names).
	DisableMergeSlashes, DisableAllowChunkedLength bool
	// StripTrailingHostDot removes a trailing dot from the Host before
	// routing ("a.com." is routed as "a.com"; Contour's
	// network.strip-trailing-host-dot).
	StripTrailingHostDot bool
	// MinimumTLSVersion and MaximumTLSVersion ("1.2" or "1.3"; "": 1.2 and
	// 1.3) bound the TLS versions of ingress_https: a virtual host may raise
	// the minimum and lower the maximum, not go beyond them (Contour's
	// tls.minimum-protocol-version and tls.maximum-protocol-version).
	MinimumTLSVersion, MaximumTLSVersion string
	// CipherSuites are the TLS 1.2 cipher suites ingress_https offers, one
	// a line, in order of preference ("": Contour's default list; Contour's
	// tls.cipher-suites).
	CipherSuites string
	// ECDHCurves are the ECDH curves ingress_https offers, one a line, in
	// order of preference ("": Envoy's defaults; Contour's tls.ecdh-curves).
	ECDHCurves string
	// HTTPVersions are the HTTP versions offered, one a line: HTTP/1.1
	// and/or HTTP/2 ("": both; Contour's default-http-versions). They set
	// the ALPN protocols of ingress_https and, when only one is given, the
	// codec of every connection manager.
	HTTPVersions string
	// MaxRequestsPerConnection closes a downstream connection after that
	// many requests (0: no limit); HTTP2MaxConcurrentStreams bounds the
	// concurrent streams of an HTTP/2 connection (0: Envoy's default; at
	// most 2147483647, Envoy's bound). Contour's
	// listener.max-requests-per-connection and
	// listener.http2-max-concurrent-streams.
	MaxRequestsPerConnection, HTTP2MaxConcurrentStreams uint32
	// ServerHeaderTransformation is what Envoy does with a response's
	// Server header: overwrite (with "envoy"; "" means it too),
	// append_if_absent or pass_through (Contour's
	// serverHeaderTransformation).
	ServerHeaderTransformation string
	// PerConnectionBufferLimitBytes (0: Envoy's default), SocketTOS (0 to
	// 255; 0: not set) and ConnectionBalancer ("" or "exact") are settings
	// of the listeners themselves: Contour's
	// listener.per-connection-buffer-limit-bytes,
	// listener.socket-options.tos and listener.connection-balancer.
	PerConnectionBufferLimitBytes, SocketTOS uint32
	ConnectionBalancer                       string
	// Tracing is the resolved tracing setting (Options.Tracing; the
	// graph's Connections carry it, set by Build; zero: none).
	Tracing TracingSettings
	// MaxConnectionsToAcceptPerSocketEvent bounds how many connections
	// each listener accepts per socket event (0: Envoy's default; Contour's
	// listener.max-connections-to-accept-per-socket-event).
	MaxConnectionsToAcceptPerSocketEvent uint32
	// JA3Fingerprinting and JA4Fingerprinting make ingress_https's TLS
	// inspector fingerprint client hellos (Contour's tls.fingerprint.ja3
	// and .ja4).
	JA3Fingerprinting, JA4Fingerprinting bool
	// Compression is how every connection manager compresses responses:
	// gzip ("" means it too), brotli, zstd or disabled (Contour's
	// compression.algorithm).
	Compression string
	// HTTPAddress and HTTPSAddress are the IP addresses ingress_http and
	// ingress_https listen on ("": 0.0.0.0; Contour's
	// --envoy-service-http-address and --envoy-service-https-address).
	HTTPAddress, HTTPSAddress string
	// UseProxyProtocol makes both listeners read a PROXY protocol header
	// (v1 or v2) first: the client address is then the one it names
	// (Contour's --use-proxy-protocol).
	UseProxyProtocol bool
}

// Listener returns the settings of c that belong to the listeners
// themselves, or an error naming the first one that is not valid.
func (c Connections) Listener() (envoy.ListenerOptions, error) {
	if c.SocketTOS > 255 {
		return envoy.ListenerOptions{}, fmt.Errorf("listener-socket-tos %d: must be from 0 to 255", c.SocketTOS)
	}
	if c.ConnectionBalancer != "" && c.ConnectionBalancer != "exact" {
		return envoy.ListenerOptions{}, fmt.Errorf("listener-connection-balancer %q: only exact is supported (as in Contour)", c.ConnectionBalancer)
	}
	o := envoy.ListenerOptions{BufferLimit: c.PerConnectionBufferLimitBytes, TOS: uint8(c.SocketTOS), ExactBalance: c.ConnectionBalancer == "exact",
		JA3: c.JA3Fingerprinting, JA4: c.JA4Fingerprinting, AcceptPerEvent: c.MaxConnectionsToAcceptPerSocketEvent,
		ProxyProtocol: c.UseProxyProtocol, HTTPAddress: "0.0.0.0", HTTPSAddress: "0.0.0.0"}
	for _, a := range []struct {
		flag string
		in   string
		to   *string
	}{{"envoy-service-http-address", c.HTTPAddress, &o.HTTPAddress}, {"envoy-service-https-address", c.HTTPSAddress, &o.HTTPSAddress}} {
		if a.in == "" {
			continue
		}
		ip, err := netip.ParseAddr(a.in)
		if err != nil || ip.Zone() != "" {
			return envoy.ListenerOptions{}, fmt.Errorf("%s %q: not an IP address", a.flag, a.in)
		}
		*a.to = ip.String()
	}
	return o, nil
}

// serverHeaderTransformations are the values of
// Connections.ServerHeaderTransformation, Contour's names.
var serverHeaderTransformations = map[string]envoy.ServerHeaderTransformation{
	"": envoy.ServerOverwrite, "overwrite": envoy.ServerOverwrite,
	"append_if_absent": envoy.ServerAppendIfAbsent, "pass_through": envoy.ServerPassThrough,
}

// maxHTTP2Streams is the largest HTTP/2 concurrent stream limit Envoy
// accepts.
const maxHTTP2Streams = 1<<31 - 1

// Envoy returns c as the connection managers' settings, or an error naming
// the first value that is not valid.
func (c Connections) Envoy() (envoy.Connections, error) {
	out := envoy.Connections{TrustedHops: c.NumTrustedHops, KeepSlashes: c.DisableMergeSlashes, RejectChunkedLength: c.DisableAllowChunkedLength,
		MaxRequests: c.MaxRequestsPerConnection, MaxStreams: c.HTTP2MaxConcurrentStreams, StripHostDot: c.StripTrailingHostDot}
	if out.MaxStreams > maxHTTP2Streams {
		return envoy.Connections{}, fmt.Errorf("listener-http2-max-concurrent-streams %d: Envoy accepts at most %d", out.MaxStreams, maxHTTP2Streams)
	}
	var ok bool
	if out.ServerHeader, ok = serverHeaderTransformations[c.ServerHeaderTransformation]; !ok {
		return envoy.Connections{}, fmt.Errorf("server-header-transformation %q: must be overwrite, append_if_absent or pass_through", c.ServerHeaderTransformation)
	}
	switch a := envoy.Compression(c.Compression); a {
	case "", envoy.CompressionGzip, envoy.CompressionBrotli, envoy.CompressionZstd, envoy.CompressionDisabled:
		out.Compression = a
	default:
		return envoy.Connections{}, fmt.Errorf("compression %q: must be gzip, brotli, zstd or disabled", c.Compression)
	}
	alpn, err := c.alpn()
	if err != nil {
		return envoy.Connections{}, err
	}
	if t := c.Tracing; t.On() {
		out.Tracing = envoy.TracingConfig(envoy.Tracing{Cluster: t.Cluster, Authority: t.Authority, Timeout: t.Timeout.Proto(),
			ServiceName: t.ServiceName, Overall: t.Overall, Client: t.Client, Random: t.Random, MaxPathTagLength: t.MaxPathTagLength, Tags: t.Tags})
	}
	if len(alpn) == 1 { // one version: no need to detect it (Contour's)
		out.Codec = map[string]envoy.Codec{"h2": envoy.CodecHTTP2, "http/1.1": envoy.CodecHTTP1}[alpn[0]]
	}
	for _, t := range []struct {
		name, value string
		to          *envoy.Timeout
	}{
		{"request-timeout", c.RequestTimeout, &out.Request},
		{"connection-idle-timeout", c.ConnectionIdleTimeout, &out.Idle},
		{"stream-idle-timeout", c.StreamIdleTimeout, &out.StreamIdle},
		{"max-connection-duration", c.MaxConnectionDuration, &out.MaxDuration},
		{"delayed-close-timeout", c.DelayedCloseTimeout, &out.DelayedClose},
		{"connection-shutdown-grace-period", c.ConnectionShutdownGracePeriod, &out.Drain},
	} {
		v, err := connectionTimeout(t.value)
		if err != nil {
			return envoy.Connections{}, fmt.Errorf("%s %q: %w", t.name, t.value, err)
		}
		*t.to = v
	}
	if !out.Idle.Set {
		out.Idle = envoy.DefaultConnections.Idle // Contour's, not Envoy's
	}
	return out, nil
}

// Check returns an error naming the first value of c that is not valid.
func (c Connections) Check() error {
	if _, err := c.Envoy(); err != nil {
		return err
	}
	if _, err := c.Listener(); err != nil {
		return err
	}
	_, err := c.TLS()
	return err
}

// CheckTimeout returns an error when s is not a timeout setting of
// Connections.
func CheckTimeout(s string) error {
	_, err := connectionTimeout(s)
	return err
}

// connectionTimeout reads one timeout setting: "" unset, infinity or 0 off.
func connectionTimeout(s string) (envoy.Timeout, error) {
	if s == "" {
		return envoy.Timeout{}, nil
	}
	d, off, err := parseTimeout(s)
	switch {
	case err != nil:
		return envoy.Timeout{}, fmt.Errorf("not a duration (such as 30s or 1m) nor infinity")
	case off || d == 0:
		return envoy.Timeout{Set: true, Off: true}, nil
	}
	return envoy.Timeout{Set: true, Duration: d}, nil
}
