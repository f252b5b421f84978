package graph

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// Ingress annotations Isobar reads (Contour's, with the legacy
// contour.heptio.com prefix accepted too).
const (
	annForceSSLRedirect = "ingress.kubernetes.io/force-ssl-redirect"
	annAllowHTTP        = "kubernetes.io/ingress.allow-http"
	annNumRetries       = "num-retries"
	annRetryOn          = "retry-on"
	annPerTryTimeout    = "per-try-timeout"
	annResponseTimeout  = "response-timeout"
	annRequestTimeout   = "request-timeout" // deprecated alias of response-timeout
	annWebsocketRoutes  = "websocket-routes"
	annTLSMinimum       = "tls-minimum-protocol-version"
	annTLSMaximum       = "tls-maximum-protocol-version"
	annTLSCertNamespace = "tls-cert-namespace"
)

// knownIngressAnnotations are the projectcontour.io/ keys valid on Ingress.
var knownIngressAnnotations = map[string]bool{
	"ingress.class": true, annNumRetries: true, annRetryOn: true, annPerTryTimeout: true,
	annResponseTimeout: true, annRequestTimeout: true, annWebsocketRoutes: true,
	annTLSMinimum: true, annTLSMaximum: true, annTLSCertNamespace: true,
}

// serviceAnnotations belong on Services, not Ingresses.
var serviceAnnotations = map[string]bool{
	annotationMaxConnections: true, annotationMaxPending: true, annotationMaxRequests: true,
	annotationMaxRetries: true, annotationPerHostMaxConns: true,
	"upstream-protocol.h2": true, "upstream-protocol.h2c": true, "upstream-protocol.tls": true,
}

// ingressAnnotations is what an Ingress's annotations ask for.
type ingressAnnotations struct {
	forceSSLRedirect bool
	allowHTTP        bool
	retry            *RetryPolicy
	timeouts         Timeouts
	websocketPaths   map[string]bool
	// minTLS and maxTLS are "1.2", "1.3" or "" (unset); a minimum above
	// the maximum is reported by ingressTLS, which then serves no TLS.
	minTLS, maxTLS string
	certNamespace  string
}

// ingressAnnotations reads and checks the annotations of an Ingress. Bad
// values are errors on the object (the annotation is ignored); unknown
// Contour annotations are warnings.
func (b *builder) ingressAnnotations(ref status.Ref, ann map[string]string) ingressAnnotations {
	out := ingressAnnotations{allowHTTP: true}
	get := func(key string) (string, bool) {
		if len(ann) == 0 { // (most Ingresses: no key to build)
			return "", false
		}
		if v, ok := ann[annotationPrefixContour+key]; ok {
			return v, true
		}
		v, ok := ann[annotationPrefixLegacy+key]
		return v, ok
	}
	bad := func(key, value, why string) {
		b.report.Error(ref, status.RuleError, ReasonAnnotationNotValid, "annotation %s: %q %s; it is ignored", key, value, why)
	}
	out.forceSSLRedirect = ann[annForceSSLRedirect] == "true"
	out.allowHTTP = ann[annAllowHTTP] != "false"
	if on, ok := get(annRetryOn); ok && strings.TrimSpace(on) != "" {
		out.retry = &RetryPolicy{NumRetries: 1}
		for _, s := range strings.Split(on, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out.retry.RetryOn = append(out.retry.RetryOn, s)
			}
		}
		if v, ok := get(annNumRetries); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
			switch {
			case err != nil || n < -1:
				bad(annNumRetries, v, "is not a number of retries")
			case n == -1:
				out.retry.NumRetries = 0
			case n > 0:
				out.retry.NumRetries = uint32(n)
			}
		}
		if v, ok := get(annPerTryTimeout); ok {
			if d, _, err := parseTimeout(v); err != nil {
				bad(annPerTryTimeout, v, "is not a duration")
			} else {
				out.retry.PerTryTimeout = d
			}
		}
	}
	timeoutKey := annResponseTimeout
	v, ok := get(annResponseTimeout)
	if !ok {
		if v, ok = get(annRequestTimeout); ok {
			timeoutKey = annRequestTimeout
			b.report.Warning(ref, status.RuleError, "DeprecatedAnnotation",
				"annotation projectcontour.io/request-timeout is deprecated; use projectcontour.io/response-timeout")
		}
	}
	if ok {
		if d, inf, err := parseTimeout(v); err != nil {
			bad(timeoutKey, v, "is not a duration or \"infinity\"")
		} else {
			out.timeouts.Response, out.timeouts.ResponseInfinite = d, inf
		}
	}
	if v, ok := get(annWebsocketRoutes); ok {
		out.websocketPaths = map[string]bool{}
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out.websocketPaths[p] = true
			}
		}
	}
	out.minTLS = b.tlsVersionAnnotation(ref, annTLSMinimum, get, bad)
	out.maxTLS = b.tlsVersionAnnotation(ref, annTLSMaximum, get, bad)
	if v, ok := get(annTLSCertNamespace); ok {
		out.certNamespace = strings.TrimSpace(v)
	}
	b.unknownAnnotations(ref, ann)
	return out
}

func (b *builder) tlsVersionAnnotation(ref status.Ref, key string, get func(string) (string, bool), bad func(string, string, string)) string {
	v, ok := get(key)
	if !ok {
		return ""
	}
	switch strings.TrimSpace(v) {
	case "1.2", "1.3":
		return strings.TrimSpace(v)
	}
	bad(key, v, `is not a TLS version ("1.2" or "1.3")`)
	return ""
}

// unknownAnnotations warns about Contour annotations Ingress does not use.
func (b *builder) unknownAnnotations(ref status.Ref, ann map[string]string) {
	keys := make([]string, 0, len(ann))
	for k := range ann {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var name string
		switch {
		case strings.HasPrefix(k, annotationPrefixContour):
			name = strings.TrimPrefix(k, annotationPrefixContour)
		case strings.HasPrefix(k, annotationPrefixLegacy):
			name = strings.TrimPrefix(k, annotationPrefixLegacy)
		default:
			continue
		}
		switch {
		case knownIngressAnnotations[name]:
		case serviceAnnotations[name]:
			b.report.Warning(ref, status.RuleError, "AnnotationIgnored", "annotation %s belongs on the Service; it has no effect on an Ingress", k)
		default:
			b.report.Warning(ref, status.RuleError, "AnnotationIgnored", "annotation %s is not a Contour annotation for Ingress; it has no effect", k)
		}
	}
}

// parseTimeout reads a Go duration or "infinity"/"infinite" (no timeout).
func parseTimeout(v string) (time.Duration, bool, error) {
	v = strings.TrimSpace(v)
	switch v {
	case "infinity", "infinite":
		return 0, true, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		if err == nil {
			err = strconv.ErrRange
		}
		return 0, false, err
	}
	return d, false, nil
}
