package goldentest

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/isobar-dev/isobar/controlplane"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// caseFlag sets the option of flag k to the value v in o.
type caseFlag func(o *controlplane.Options, k, v string) error

// caseFlags are the command-line flags a case's args header may set, by
// name.
var caseFlags = merge(scopeFlags, listenerFlags, upstreamFlags, headerFlags, rateLimitFlags, numberFlags)

func merge(tables ...map[string]caseFlag) map[string]caseFlag {
	out := map[string]caseFlag{}
	for _, t := range tables {
		for k, f := range t {
			out[k] = f
		}
	}
	return out
}

// scopeFlags choose what is translated and how it is logged.
var scopeFlags = map[string]caseFlag{
	"--root-namespaces":         func(o *controlplane.Options, _, v string) error { o.RootNamespaces = strings.Split(v, ","); return nil },
	"--ingress-class":           func(o *controlplane.Options, _, v string) error { o.IngressClass = v; return nil },
	"--disable-permit-insecure": func(o *controlplane.Options, _, _ string) error { o.DisablePermitInsecure = true; return nil },
	"--enable-external-name":    func(o *controlplane.Options, _, _ string) error { o.EnableExternalName = true; return nil },
	"--include-grants":          func(o *controlplane.Options, _, _ string) error { o.IncludeGrants = true; return nil },
	"--accesslog-format":        func(o *controlplane.Options, _, v string) error { o.AccessLog.Format = v; return nil },
	"--accesslog-level":         func(o *controlplane.Options, _, v string) error { o.AccessLog.Level = v; return nil },
	"--accesslog-path":          func(o *controlplane.Options, _, v string) error { o.AccessLog.Path = v; return nil },
	"--now": func(o *controlplane.Options, _, v string) (err error) {
		o.Now, err = time.Parse(time.RFC3339, v)
		return err
	},
}

// listenerFlags are the listeners' and connection managers' settings.
var listenerFlags = map[string]caseFlag{
	"--tls-minimum-protocol-version": func(o *controlplane.Options, _, v string) error { o.Connections.MinimumTLSVersion = v; return nil },
	"--tls-maximum-protocol-version": func(o *controlplane.Options, _, v string) error { o.Connections.MaximumTLSVersion = v; return nil },
	"--envoy-client-certificate":     func(o *controlplane.Options, _, v string) error { o.ClientCertificate = v; return nil },
	"--fallback-certificate":         func(o *controlplane.Options, _, v string) error { o.FallbackCertificate = v; return nil },
	"--strip-trailing-host-dot": func(o *controlplane.Options, _, _ string) error {
		o.Connections.StripTrailingHostDot = true
		return nil
	},
	"--compression":         func(o *controlplane.Options, _, v string) error { o.Connections.Compression = v; return nil },
	"--tls-fingerprint-ja3": func(o *controlplane.Options, _, _ string) error { o.Connections.JA3Fingerprinting = true; return nil },
	"--tls-fingerprint-ja4": func(o *controlplane.Options, _, _ string) error { o.Connections.JA4Fingerprinting = true; return nil },
	"--tls-ecdh-curve": func(o *controlplane.Options, _, v string) error {
		o.Connections.ECDHCurves = joinLine(o.Connections.ECDHCurves, v)
		return nil
	},
	"--tls-cipher-suite": func(o *controlplane.Options, _, v string) error {
		o.Connections.CipherSuites = joinLine(o.Connections.CipherSuites, v)
		return nil
	},
	"--default-http-version": func(o *controlplane.Options, _, v string) error {
		o.Connections.HTTPVersions = joinLine(o.Connections.HTTPVersions, v)
		return nil
	},
	"--server-header-transformation": func(o *controlplane.Options, _, v string) error {
		o.Connections.ServerHeaderTransformation = v
		return nil
	},
	"--listener-connection-balancer": func(o *controlplane.Options, _, v string) error { o.Connections.ConnectionBalancer = v; return nil },
	"--use-proxy-protocol":           func(o *controlplane.Options, _, _ string) error { o.Connections.UseProxyProtocol = true; return nil },
	"--envoy-service-http-address":   func(o *controlplane.Options, _, v string) error { o.Connections.HTTPAddress = v; return nil },
	"--envoy-service-https-address":  func(o *controlplane.Options, _, v string) error { o.Connections.HTTPSAddress = v; return nil },
	// Contour's per-listener paths, which the command line requires equal.
	"--envoy-http-access-log":  func(o *controlplane.Options, _, v string) error { o.AccessLog.Path = v; return nil },
	"--envoy-https-access-log": func(o *controlplane.Options, _, v string) error { o.AccessLog.Path = v; return nil },
}

// upstreamFlags are the clusters' settings.
var upstreamFlags = map[string]caseFlag{
	"--connect-timeout":   func(o *controlplane.Options, _, v string) error { o.Upstream.ConnectTimeout = v; return nil },
	"--dns-lookup-family": func(o *controlplane.Options, _, v string) error { o.Upstream.DNSLookupFamily = v; return nil },
	"--cluster-upstream-tls-minimum-protocol-version": func(o *controlplane.Options, _, v string) error {
		o.Upstream.TLSMinimumVersion = v
		return nil
	},
	"--cluster-upstream-tls-maximum-protocol-version": func(o *controlplane.Options, _, v string) error {
		o.Upstream.TLSMaximumVersion = v
		return nil
	},
	"--cluster-upstream-tls-cipher-suite": func(o *controlplane.Options, _, v string) error {
		o.Upstream.TLSCipherSuites = joinLine(o.Upstream.TLSCipherSuites, v)
		return nil
	},
	"--cluster-upstream-tls-ecdh-curve": func(o *controlplane.Options, _, v string) error {
		o.Upstream.TLSECDHCurves = joinLine(o.Upstream.TLSECDHCurves, v)
		return nil
	},
}

// headerFlags are the global header policy's.
var headerFlags = map[string]caseFlag{
	"--policy-request-header-set":  setHeader,
	"--policy-response-header-set": setHeader,
	"--policy-request-header-remove": func(o *controlplane.Options, _, v string) error {
		o.Headers.Request.Remove = append(o.Headers.Request.Remove, v)
		return nil
	},
	"--policy-response-header-remove": func(o *controlplane.Options, _, v string) error {
		o.Headers.Response.Remove = append(o.Headers.Response.Remove, v)
		return nil
	},
	"--policy-apply-to-ingress": func(o *controlplane.Options, _, _ string) error { o.Headers.ApplyToIngress = true; return nil },
}

// setHeader reads a NAME=VALUE of --policy-request-header-set or
// --policy-response-header-set.
func setHeader(o *controlplane.Options, k, v string) error {
	name, value, _ := strings.Cut(v, "=")
	p := &o.Headers.Request
	if k == "--policy-response-header-set" {
		p = &o.Headers.Response
	}
	p.Set = append(p.Set, graph.Header{Name: name, Value: value})
	return nil
}

// rateLimitFlags are the global rate limit service's.
var rateLimitFlags = map[string]caseFlag{
	"--rate-limit-service": func(o *controlplane.Options, _, v string) error { return o.RateLimitService.ParseRateLimitService(v) },
	"--global-ext-auth": func(o *controlplane.Options, _, v string) (err error) {
		o.GlobalAuthorization, err = graph.ParseGlobalAuthorization(v)
		return err
	},
	"--tracing": func(o *controlplane.Options, _, v string) (err error) {
		o.Tracing, err = graph.ParseTracing(v)
		return err
	},
	"--rate-limit-default-policy": func(o *controlplane.Options, _, v string) error {
		var p contourv1.GlobalRateLimitPolicy
		if err := json.Unmarshal([]byte(v), &p); err != nil {
			return err
		}
		d, err := graph.DefaultGlobalRateLimit(&p)
		o.RateLimitService.Default = d
		return err
	},
	"--rate-limit-domain":    func(o *controlplane.Options, _, v string) error { o.RateLimitService.Domain = v; return nil },
	"--rate-limit-fail-open": func(o *controlplane.Options, _, _ string) error { o.RateLimitService.FailOpen = true; return nil },
	"--rate-limit-x-headers": func(o *controlplane.Options, _, _ string) error {
		o.RateLimitService.XRateLimitHeaders = true
		return nil
	},
	"--rate-limit-resource-exhausted-code": func(o *controlplane.Options, _, _ string) error {
		o.RateLimitService.ResourceExhaustedCode = true
		return nil
	},
}

// numberFlags are the settings that take a whole number.
var numberFlags = merge(
	number("--num-trusted-hops", func(o *controlplane.Options) *uint32 { return &o.Connections.NumTrustedHops }),
	number("--listener-max-requests-per-connection", func(o *controlplane.Options) *uint32 { return &o.Connections.MaxRequestsPerConnection }),
	number("--listener-http2-max-concurrent-streams", func(o *controlplane.Options) *uint32 { return &o.Connections.HTTP2MaxConcurrentStreams }),
	number("--listener-per-connection-buffer-limit-bytes", func(o *controlplane.Options) *uint32 { return &o.Connections.PerConnectionBufferLimitBytes }),
	number("--listener-socket-tos", func(o *controlplane.Options) *uint32 { return &o.Connections.SocketTOS }),
	number("--listener-max-connections-to-accept-per-socket-event", func(o *controlplane.Options) *uint32 {
		return &o.Connections.MaxConnectionsToAcceptPerSocketEvent
	}),
	number("--cluster-max-requests-per-connection", func(o *controlplane.Options) *uint32 { return &o.Upstream.MaxRequestsPerConnection }),
	number("--cluster-per-connection-buffer-limit-bytes", func(o *controlplane.Options) *uint32 { return &o.Upstream.PerConnectionBufferLimitBytes }),
	number("--cluster-circuit-breakers-max-connections", func(o *controlplane.Options) *uint32 { return &o.Upstream.CircuitBreakers.MaxConnections }),
	number("--cluster-circuit-breakers-max-retries", func(o *controlplane.Options) *uint32 { return &o.Upstream.CircuitBreakers.MaxRetries }),
)

// number is the table entry of flag k, a uint32 at field(o).
func number(k string, field func(o *controlplane.Options) *uint32) map[string]caseFlag {
	return map[string]caseFlag{k: func(o *controlplane.Options, _, v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		*field(o) = uint32(n)
		return err
	}}
}
