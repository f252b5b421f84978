package graph

import (
	"fmt"
	"slices"
	"strings"
)

// contourCipherSuites are the TLS 1.2 cipher suites ingress_https offers
// when Connections.CipherSuites is empty: Contour's default list, in order
// of preference ([a|b] is a group of equal preference).
var contourCipherSuites = []string{
	"[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]",
	"[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]",
	"ECDHE-ECDSA-AES256-GCM-SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384",
}

// DefaultCipherSuites returns Contour's default TLS 1.2 cipher suites, for
// downstream and upstream TLS alike.
func DefaultCipherSuites() []string { return slices.Clone(contourCipherSuites) }

// knownCiphers are the cipher names Contour accepts in tls.cipher-suites
// (those Envoy's BoringSSL builds support).
var knownCiphers = []string{
	"AES128-GCM-SHA256", "AES128-SHA", "AES256-GCM-SHA384", "AES256-SHA",
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-SHA",
	"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-RSA-AES256-SHA", "ECDHE-RSA-CHACHA20-POLY1305",
}

// HTTP versions of Connections.HTTPVersions, as Contour spells them
// (compared without regard to case).
const (
	HTTPVersion1 = "http/1.1"
	HTTPVersion2 = "http/2"
)

// ListenerTLS is what ingress_https's TLS contexts share: the versions
// ("1.2"/"1.3") and TLS 1.2 cipher suites offered, and the ALPN protocols
// of HTTP hosts (h2 before http/1.1).
type ListenerTLS struct {
	Min, Max     string
	CipherSuites []string
	ALPN         []string
	// Curves are the ECDH curves offered, in order of preference (none:
	// Envoy's defaults).
	Curves []string
}

// TLS returns c's settings of ingress_https's TLS contexts, or an error
// naming the first that is not valid: the versions (1.2 or 1.3, minimum
// not above maximum), each cipher suite (a name Contour knows, or an
// [a|b] group of them; repeats dropped) and each HTTP version.
func (c Connections) TLS() (ListenerTLS, error) {
	out, err := tlsSettings("tls-", c.MinimumTLSVersion, c.MaximumTLSVersion, c.CipherSuites, c.ECDHCurves)
	if err != nil {
		return ListenerTLS{}, err
	}
	alpn, err := c.alpn()
	if err != nil {
		return ListenerTLS{}, err
	}
	out.ALPN = alpn
	return out, nil
}

// tlsSettings reads TLS versions (1.2 or 1.3, "": 1.2 and 1.3; minimum
// not above maximum), cipher suites (one a line, each a name Contour
// knows or an [a|b] group of them; repeats dropped; none: Contour's list)
// and ECDH curves (one a line, each one Contour accepts; repeats dropped);
// errors name the flags, prefix followed by minimum-protocol-version,
// maximum-protocol-version, cipher-suite and ecdh-curve.
func tlsSettings(prefix, minVersion, maxVersion, ciphers, curves string) (ListenerTLS, error) {
	var out ListenerTLS
	for _, v := range []struct{ name, value string }{{"minimum-protocol-version", minVersion}, {"maximum-protocol-version", maxVersion}} {
		if v.value != "" && v.value != "1.2" && v.value != "1.3" {
			return ListenerTLS{}, fmt.Errorf("%s%s %q: must be 1.2 or 1.3", prefix, v.name, v.value)
		}
	}
	out.Min, out.Max = defaultString(minVersion, "1.2"), defaultString(maxVersion, "1.3")
	if out.Min > out.Max {
		return ListenerTLS{}, fmt.Errorf("%sminimum-protocol-version %s is above %smaximum-protocol-version %s", prefix, out.Min, prefix, out.Max)
	}
	for _, s := range lines(ciphers) {
		if !validCipherSuite(s) {
			return ListenerTLS{}, fmt.Errorf("%scipher-suite %q: not a cipher suite Envoy supports (%s, or a group of them as [A|B])", prefix, s, strings.Join(knownCiphers, ", "))
		}
		if !slices.Contains(out.CipherSuites, s) {
			out.CipherSuites = append(out.CipherSuites, s)
		}
	}
	if len(out.CipherSuites) == 0 {
		out.CipherSuites = contourCipherSuites
	}
	for _, c := range lines(curves) {
		if !slices.Contains(ecdhCurves, c) {
			return ListenerTLS{}, fmt.Errorf("%secdh-curve %q: not a curve Envoy offers (%s)", prefix, c, strings.Join(ecdhCurves, ", "))
		}
		if !slices.Contains(out.Curves, c) {
			out.Curves = append(out.Curves, c)
		}
	}
	return out, nil
}

// ecdhCurves are the ECDH curves Contour accepts (BoringSSL's names, as
// Envoy passes them on).
var ecdhCurves = []string{"X25519", "P-256", "P-384", "P-521", "X25519MLKEM768", "MLKEM1024"}

// alpn is the ALPN protocols of c's HTTP versions, h2 first; both when
// none is set.
func (c Connections) alpn() ([]string, error) {
	var h1, h2 bool
	for _, v := range lines(c.HTTPVersions) {
		switch strings.ToLower(v) {
		case HTTPVersion1:
			h1 = true
		case HTTPVersion2:
			h2 = true
		default:
			return nil, fmt.Errorf("default-http-version %q: must be HTTP/1.1 or HTTP/2", v)
		}
	}
	var out []string
	if h2 || !h1 {
		out = append(out, "h2")
	}
	if h1 || !h2 {
		out = append(out, "http/1.1")
	}
	return out, nil
}

// validCipherSuite reports whether s is a cipher name Contour accepts, or
// an equal-preference group [a|b|...] of them.
func validCipherSuite(s string) bool {
	if len(s) >= 2 && strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		for _, c := range strings.Split(s[1:len(s)-1], "|") {
			if !slices.Contains(knownCiphers, c) {
				return false
			}
		}
		return true
	}
	return slices.Contains(knownCiphers, s)
}

// CheckCipherSuite returns an error when s is not a cipher suite of
// Connections.CipherSuites.
func CheckCipherSuite(s string) error {
	_, err := Connections{CipherSuites: s}.TLS()
	return err
}

// CheckHTTPVersion returns an error when v is not a version of
// Connections.HTTPVersions.
func CheckHTTPVersion(v string) error {
	_, err := Connections{HTTPVersions: v}.alpn()
	return err
}

// lines splits a setting of one entry a line; "" has none.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
