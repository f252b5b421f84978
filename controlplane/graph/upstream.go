package graph

import (
	"fmt"
	"strings"
	"time"
)

// Upstream is how Envoy connects to every upstream, as Contour's
// configuration file says it: timeouts.connect-timeout (a Go duration; ""
// or a duration that is not positive: Contour's 2 s) and
// cluster.dns-lookup-family (auto, v4, v6 or all; "": auto), which applies
// to the clusters of ExternalName Services, and the cluster.* settings of
// the fields below. The zero value is Contour's default, but for the TLS
// parameters (see TLSMinimumVersion).
type Upstream struct {
	ConnectTimeout  string
	DNSLookupFamily string
	// MaxRequestsPerConnection closes an upstream connection after that
	// many requests (0: no limit); PerConnectionBufferLimitBytes is the soft
	// limit of each upstream connection's buffers (0: Envoy's 1 MiB).
	// Contour's cluster.max-requests-per-connection and
	// cluster.per-connection-buffer-limit-bytes; they apply to the clusters
	// of Services.
	MaxRequestsPerConnection, PerConnectionBufferLimitBytes uint32
	// CircuitBreakers are the thresholds of a Service whose annotations do
	// not set them, threshold by threshold (0: Envoy's default); Contour's
	// cluster.circuit-breakers.
	CircuitBreakers CircuitBreakers
	// TLSMinimumVersion, TLSMaximumVersion ("1.2" or "1.3") and
	// TLSCipherSuites (one a line, as Connections.CipherSuites) are the TLS
	// parameters of the clusters of Services that Envoy reaches over TLS
	// (Contour's cluster.upstream-tls). When none is set, the contexts carry
	// no parameters (Envoy's defaults); when one is, the others take
	// Contour's defaults (1.2, 1.3, Contour's cipher suites).
	TLSMinimumVersion, TLSMaximumVersion, TLSCipherSuites string
	// TLSECDHCurves (one a line) are the ECDH curves offered to those
	// upstreams (Contour's cluster.upstream-tls.ecdh-curves; "": Envoy's).
	TLSECDHCurves string
}

// upstreamTLSPrefix starts the names of the upstream TLS settings in
// errors (their flags).
const upstreamTLSPrefix = "cluster-upstream-tls-"

// tls is u's upstream TLS parameters, ok false when none is set.
func (u Upstream) tls() (t ListenerTLS, ok bool, err error) {
	if u.TLSMinimumVersion == "" && u.TLSMaximumVersion == "" && u.TLSCipherSuites == "" && u.TLSECDHCurves == "" {
		return ListenerTLS{}, false, nil
	}
	t, err = tlsSettings(upstreamTLSPrefix, u.TLSMinimumVersion, u.TLSMaximumVersion, u.TLSCipherSuites, u.TLSECDHCurves)
	return t, err == nil, err
}

// DNS lookup families of Upstream.DNSLookupFamily, Contour's names.
const (
	DNSAuto = "auto"
	DNSv4   = "v4"
	DNSv6   = "v6"
	DNSAll  = "all"
)

// Check returns an error naming the first setting of u that is not valid.
func (u Upstream) Check() error {
	if _, err := u.connectTimeout(); err != nil {
		return fmt.Errorf("connect-timeout %q: %w", u.ConnectTimeout, err)
	}
	if _, _, err := u.tls(); err != nil {
		return err
	}
	switch u.DNSLookupFamily {
	case "", DNSAuto, DNSv4, DNSv6, DNSAll:
		return nil
	}
	return fmt.Errorf("dns-lookup-family %q: must be auto, v4, v6 or all", u.DNSLookupFamily)
}

// connectTimeout is u's connect timeout: 0 for Contour's default (unset, or
// not positive, which Contour accepts and replaces by its default).
// "infinity" is refused, as Contour does: a connection attempt needs an
// end.
func (u Upstream) connectTimeout() (time.Duration, error) {
	if u.ConnectTimeout == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(u.ConnectTimeout)
	if err != nil {
		return 0, fmt.Errorf("not a duration (such as 2s or 500ms)")
	}
	return max(d, 0), nil
}

// applyTLS sets u's upstream TLS parameters, if any, on c (a cluster of a
// Service or an extension, or a remote JWKS: Contour applies them to all).
func (u Upstream) applyTLS(c *Cluster) {
	if t, ok, _ := u.tls(); ok {
		c.UpstreamTLSMin, c.UpstreamTLSMax, c.UpstreamTLSCipherSuites = t.Min, t.Max, strings.Join(t.CipherSuites, "\n")
		c.UpstreamTLSCurves = strings.Join(t.Curves, "\n")
	}
}

// applyTo sets u on a cluster resolved from a Service (an invalid setting,
// which Check refuses before any build, leaves the default).
func (u Upstream) applyTo(c *Cluster) {
	c.ConnectTimeout, _ = u.connectTimeout()
	c.MaxRequestsPerConnection, c.BufferLimit = u.MaxRequestsPerConnection, u.PerConnectionBufferLimitBytes
	c.CircuitBreakers = c.CircuitBreakers.or(u.CircuitBreakers)
	u.applyTLS(c)
	if c.ExternalName != "" && u.DNSLookupFamily != DNSAuto {
		c.DNSLookupFamily = u.DNSLookupFamily
	}
}

// or is t with each threshold it leaves at 0 taken from d.
func (t CircuitBreakers) or(d CircuitBreakers) CircuitBreakers {
	for _, f := range []struct {
		to   *uint32
		from uint32
	}{
		{&t.MaxConnections, d.MaxConnections}, {&t.MaxPendingRequests, d.MaxPendingRequests}, {&t.MaxRequests, d.MaxRequests},
		{&t.MaxRetries, d.MaxRetries}, {&t.PerHostMaxConnections, d.PerHostMaxConnections},
	} {
		if *f.to == 0 {
			*f.to = f.from
		}
	}
	return t
}
