package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	operatorv1alpha1 "github.com/isobar-dev/isobar/operator/api/v1alpha1"
	"github.com/isobar-dev/isobar/operator/objects"
)

// TestConfigFile reads Contour configuration files into serve's flags: the
// keys Isobar implements set their flags unless the command line did, the
// other Contour keys are reported, and anything else is refused.
func TestConfigFile(t *testing.T) {
	for _, c := range []struct {
		name, file string
		args       []string
		want       map[string]string // flag → value
		ignored    []string
		err        string
	}{{
		name: "Contour's settings",
		file: "incluster: false\nkubeconfig: /etc/kube.conf\naccesslog-format: json\naccesslog-level: error\n" +
			"disablePermitInsecure: true\nenableExternalNameService: true\nenvoy-service-namespace: edge\nenvoy-service-name: proxy\n" +
			"timeouts:\n  connection-idle-timeout: 60s\ntls:\n  minimum-protocol-version: \"1.2\"\n",
		want: map[string]string{"kubeconfig": "/etc/kube.conf", "accesslog-format": "json", "accesslog-level": "error",
			"disable-permit-insecure": "true", "enable-external-name": "true", "envoy-service-namespace": "edge", "envoy-service-name": "proxy",
			"connection-idle-timeout": "60s", "tls-minimum-protocol-version": "1.2"},
	}, {
		name: "TLS, HTTP versions and upstreams",
		file: "tls:\n  minimum-protocol-version: 1.3\n  maximum-protocol-version: \"1.3\"\n  cipher-suites:\n  - \"[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]\"\n" +
			"  - ECDHE-RSA-AES256-GCM-SHA384\n  fallback-certificate:\n    name: fb\n    namespace: ns\n" +
			"default-http-versions:\n- HTTP/2\n- http/1.1\ncluster:\n  dns-lookup-family: v6\n  max-requests-per-connection: 1\n",
		want: map[string]string{"tls-minimum-protocol-version": "1.3", "tls-maximum-protocol-version": "1.3",
			"tls-cipher-suite":     "[[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305],ECDHE-RSA-AES256-GCM-SHA384]",
			"default-http-version": "[HTTP/2,http/1.1]", "dns-lookup-family": "v6", "cluster-max-requests-per-connection": "1",
			"fallback-certificate": "ns/fb"},
	}, {
		name: "compression, and Contour's keys Isobar does not implement",
		file: "compression:\n  algorithm: zstd\nnetwork:\n  strip-trailing-host-dot: true\n" +
			"featureFlags: [useEndpointSlices]\nkubernetesClientQPS: 5.5\nkubernetesClientBurst: 10\nomEnforcedHealthListener: {address: 127.0.0.1, port: 8003}\n",
		want: map[string]string{"compression": "zstd", "strip-trailing-host-dot": "true", "kubernetes-client-qps": "5.5",
			"kubernetes-client-burst": "10", "envoy-om-health-address": "127.0.0.1", "envoy-om-health-port": "8003"},
		ignored: []string{"featureFlags"},
	}, {
		name: "no Kubernetes client budget",
		file: "kubernetesClientQPS: 0\n",
		err:  "kubernetesClientQPS: must be a number above 0",
	}, {
		name: "runtime settings: strings, numbers and booleans as text, in key order",
		file: "runtime-settings:\n  envoy.reloadable_features.x: \"false\"\n  b.limit: 5\n  a.flag: true\n",
		want: map[string]string{"runtime-setting": "[a.flag=true,b.limit=5,envoy.reloadable_features.x=false]"},
	}, {
		name: "runtime settings given on the command line win",
		file: "runtime-settings:\n  a: b\n",
		args: []string{"--runtime-setting", "c=d"},
		want: map[string]string{"runtime-setting": "[c=d]"},
	}, {
		name: "metrics: Isobar's HTTP endpoint and Envoy's statistics, over TLS",
		file: "metrics:\n  contour: {address: 127.0.0.1, port: 9000}\n  envoy: {address: 0.0.0.0, port: 8003, server-certificate-path: /c.pem, server-key-path: /k.pem, ca-certificate-path: /ca.pem}\n",
		want: map[string]string{"http-address": "127.0.0.1", "http-port": "9000", "envoy-metrics-address": "0.0.0.0", "envoy-metrics-port": "8003",
			"envoy-metrics-cert-file": "/c.pem", "envoy-metrics-key-file": "/k.pem", "envoy-metrics-ca-file": "/ca.pem"},
	}, {
		name: "Isobar's own metrics over TLS are refused, not served in the clear",
		file: "metrics:\n  contour: {port: 8000, server-certificate-path: /c.pem, server-key-path: /k.pem}\n",
		err:  "metrics.contour.server-certificate-path: Isobar serves its metrics over plain HTTP only",
	}, {
		name: "runtime settings not a mapping",
		file: "runtime-settings: [a]\n",
		err:  "runtime-settings: must be a mapping of runtime keys to values",
	}, {
		name: "a runtime setting that is not a scalar",
		file: "runtime-settings:\n  a: {b: c}\n",
		err:  "runtime-settings: a: must be a string, a number or true/false",
	}, {
		name: "global authorization, as JSON on its flag",
		file: "globalExtAuth:\n  extensionService: projectcontour/auth\n  failOpen: true\n  authPolicy:\n    context: {tier: edge}\n",
		want: map[string]string{"global-ext-auth": `{"authPolicy":{"context":{"tier":"edge"}},"extensionService":"projectcontour/auth","failOpen":true}`},
	}, {
		name: "global authorization by an HTTP server",
		file: "globalExtAuth:\n  extensionService: projectcontour/auth\n  serviceType: http\n  httpSettings:\n    pathPrefix: /auth\n",
		want: map[string]string{"global-ext-auth": `{"extensionService":"projectcontour/auth","httpSettings":{"pathPrefix":"/auth"},"serviceType":"http"}`},
	}, {
		name: "global authorization sending context to an HTTP server",
		file: "globalExtAuth:\n  extensionService: projectcontour/auth\n  serviceType: http\n  authPolicy:\n    context: {a: b}\n",
		err:  "globalExtAuth: globalExtAuth.AuthPolicy.Context are only applied to grpc service type",
	}, {
		name: "tracing, as JSON on its flag",
		file: "tracing:\n  extensionService: projectcontour/otel\n  serviceName: edge\n  overallSampling: \"50\"\n  customTags:\n  - {tagName: team, literal: pay}\n",
		want: map[string]string{"tracing": `{"customTags":[{"literal":"pay","tagName":"team"}],"extensionService":"projectcontour/otel","overallSampling":"50","serviceName":"edge"}`},
	}, {
		name: "tracing with a tag of both kinds",
		file: "tracing:\n  extensionService: projectcontour/otel\n  customTags:\n  - {tagName: team, literal: pay, requestHeaderName: X-Team}\n",
		err:  "tracing: customTags[0]: must set exactly one of literal or requestHeaderName",
	}, {
		name: "ECDH curves, for ingress_https and upstreams, and TLS fingerprints",
		file: "listener:\n  max-connections-to-accept-per-socket-event: 8\ntls:\n  ecdh-curves: [X25519MLKEM768, X25519]\n  fingerprint: {ja3: true, ja4: false}\ncluster:\n  upstream-tls:\n    ecdh-curves: [P-384]\n",
		want: map[string]string{"tls-ecdh-curve": "[X25519MLKEM768,X25519]", "cluster-upstream-tls-ecdh-curve": "[P-384]",
			"tls-fingerprint-ja3": "true", "tls-fingerprint-ja4": "false", "listener-max-connections-to-accept-per-socket-event": "8"},
	}, {
		name: "a curve Contour does not accept",
		file: "tls:\n  ecdh-curves: [X25519, secp256k1]\n",
		err:  "tls.ecdh-curves: [1]: tls-ecdh-curve \"secp256k1\": not a curve Envoy offers (X25519, P-256, P-384, P-521, X25519MLKEM768, MLKEM1024)",
	}, {
		name: "a compression algorithm Envoy has not",
		file: "compression:\n  algorithm: lz4\n",
		err:  "compression.algorithm: compression \"lz4\": must be gzip, brotli, zstd or disabled",
	}, {
		name: "the fallback certificate: the command line wins; an empty one is none",
		file: "tls:\n  fallback-certificate: {name: fb, namespace: ns}\n",
		args: []string{"--fallback-certificate=other/cert"},
		want: map[string]string{"fallback-certificate": "other/cert"},
	}, {
		name: "Envoy's client certificate",
		file: "tls:\n  envoy-client-certificate: {name: envoy, namespace: certs}\n",
		want: map[string]string{"envoy-client-certificate": "certs/envoy"},
	}, {
		name: "an empty fallback certificate, as Contour's example file has",
		file: "tls:\n  fallback-certificate: {name: \"\", namespace: \"\"}\n",
		want: map[string]string{"fallback-certificate": ""},
	}, {
		name: "a fallback certificate without its namespace",
		file: "tls:\n  fallback-certificate: {name: fb}\n",
		err:  "tls.fallback-certificate: a namespace is required with the name",
	}, {
		name: "a fallback certificate that is not a mapping",
		file: "tls:\n  fallback-certificate: ns/fb\n",
		err:  "tls.fallback-certificate: must be a mapping of a Secret's name and namespace",
	}, {
		name: "a fallback certificate with a key Contour does not know",
		file: "tls:\n  fallback-certificate: {name: fb, namespace: ns, kind: Secret}\n",
		err:  "tls.fallback-certificate: unknown key \"kind\" (name and namespace are expected)",
	}, {
		name: "a TLS version Envoy does not offer",
		file: "tls:\n  maximum-protocol-version: 1.1\n",
		err:  "tls.maximum-protocol-version: tls-maximum-protocol-version \"1.1\": must be 1.2 or 1.3",
	}, {
		name: "a TLS minimum above the maximum",
		file: "tls:\n  minimum-protocol-version: \"1.3\"\n  maximum-protocol-version: \"1.2\"\n",
		err:  "tls: tls-minimum-protocol-version 1.3 is above tls-maximum-protocol-version 1.2",
	}, {
		name: "a cipher suite Contour does not know",
		file: "tls:\n  cipher-suites:\n  - ECDHE-RSA-AES256-GCM-SHA384\n  - \"[AES128-SHA|DES-CBC3-SHA]\"\n",
		err:  "tls.cipher-suites: [1]: tls-cipher-suite \"[AES128-SHA|DES-CBC3-SHA]\": not a cipher suite",
	}, {
		name: "an HTTP version Contour does not know",
		file: "default-http-versions:\n- HTTP/3\n",
		err:  "default-http-versions: [0]: default-http-version \"HTTP/3\": must be HTTP/1.1 or HTTP/2",
	}, {
		name: "a DNS lookup family Contour does not know",
		file: "cluster:\n  dns-lookup-family: v5\n",
		err:  "cluster.dns-lookup-family: dns-lookup-family \"v5\": must be auto, v4, v6 or all",
	}, {
		name: "the global header policy",
		file: "policy:\n  request-headers:\n    set:\n      x-env: prod\n      Host: internal.example.com\n      x-n: 5\n    remove:\n    - x-debug\n" +
			"  response-headers:\n    remove: [server]\n  applyToIngress: true\n",
		want: map[string]string{"policy-request-header-set": "[x-env=prod,x-n=5]", "policy-request-header-remove": "[x-debug]",
			"policy-response-header-set": "[]", "policy-response-header-remove": "[server]", "policy-apply-to-ingress": "true"},
		ignored: []string{"policy.request-headers.set.Host"},
	}, {
		name: "the global header policy on the command line wins",
		file: "policy:\n  request-headers:\n    set: {x-env: prod}\n    remove: [x-debug]\n",
		args: []string{"--policy-request-header-remove=x-trace"},
		want: map[string]string{"policy-request-header-set": "[]", "policy-request-header-remove": "[x-trace]"},
	}, {
		name: "a header name that is not one",
		file: "policy:\n  response-headers:\n    set:\n      \"x y\": a\n",
		err:  `policy.response-headers.set.x y: header name "x y"`,
	}, {
		name: "Host on responses",
		file: "policy:\n  response-headers:\n    set: {host: a}\n",
		err:  "policy.response-headers.set.host: setting Host is not supported",
	}, {
		name: "a header policy key Contour does not know",
		file: "policy:\n  request-headers:\n    add: {a: b}\n",
		err:  `policy.request-headers: unknown key "add"`,
	}, {
		name: "removals not a list",
		file: "policy:\n  request-headers:\n    remove: x-debug\n",
		err:  "policy.request-headers.remove: must be a list",
	}, {
		name: "empty lists and mappings",
		file: "default-http-versions:\ntls:\npolicy:\n  request-headers:\n",
		want: map[string]string{"default-http-version": "[]", "tls-cipher-suite": "[]", "policy-request-header-set": "[]"},
	}, {
		name: "a connect timeout that never ends",
		file: "timeouts:\n  connect-timeout: infinity\n",
		err:  "timeouts.connect-timeout: connect-timeout \"infinity\": not a duration",
	}, {
		name: "timeouts and trusted hops",
		file: "timeouts:\n  request-timeout: 30s\n  stream-idle-timeout: infinity\n  max-connection-duration: 1h\n" +
			"  delayed-close-timeout: 2s\n  connection-shutdown-grace-period: 10s\n  connect-timeout: 5s\n" +
			"network:\n  num-trusted-hops: 2\n  admin-port: 9001\n",
		want: map[string]string{"request-timeout": "30s", "stream-idle-timeout": "infinity", "max-connection-duration": "1h",
			"delayed-close-timeout": "2s", "connection-shutdown-grace-period": "10s", "num-trusted-hops": "2", "connection-idle-timeout": "",
			"connect-timeout": "5s", "envoy-admin-port": "9001"},
	}, {
		name: "listener settings",
		file: "serverHeaderTransformation: append_if_absent\nlistener:\n  max-requests-per-connection: 1\n" +
			"  http2-max-concurrent-streams: 2147483647\n  max-requests-per-io-cycle: 10\n  max-connections-per-listener: 100\n",
		want: map[string]string{"server-header-transformation": "append_if_absent", "listener-max-requests-per-connection": "1",
			"listener-http2-max-concurrent-streams": "2147483647", "listener-max-requests-per-io-cycle": "10",
			"listener-max-connections-per-listener": "100"},
	}, {
		name: "no request per I/O cycle",
		file: "listener:\n  max-requests-per-io-cycle: 0\n",
		err:  "listener.max-requests-per-io-cycle: must be a whole number from 1",
	}, {
		name: "listener options",
		file: "listener:\n  per-connection-buffer-limit-bytes: 32768\n  connection-balancer: exact\n" +
			"  socket-options:\n    tos: 255\n    traffic-class: 64\n",
		want: map[string]string{"listener-per-connection-buffer-limit-bytes": "32768", "listener-connection-balancer": "exact",
			"listener-socket-tos": "255"},
		ignored: []string{"listener.socket-options.traffic-class"},
	}, {
		name: "empty socket options",
		file: "listener:\n  socket-options:\n",
		want: map[string]string{"listener-socket-tos": "0"},
	}, {
		name: "socket options not a mapping",
		file: "listener:\n  socket-options: 5\n",
		err:  "listener.socket-options: must be a mapping",
	}, {
		name: "a TOS above a byte",
		file: "listener:\n  socket-options:\n    tos: 256\n",
		err:  "listener.socket-options.tos: listener-socket-tos 256: must be from 0 to 255",
	}, {
		name: "a negative TOS",
		file: "listener:\n  socket-options:\n    tos: -1\n",
		err:  "listener.socket-options.tos: must be a whole number",
	}, {
		name: "a balancer Contour does not know",
		file: "listener:\n  connection-balancer: random\n",
		err:  `listener.connection-balancer: listener-connection-balancer "random": only exact`,
	}, {
		name: "no buffer",
		file: "listener:\n  per-connection-buffer-limit-bytes: 0\n",
		err:  "listener.per-connection-buffer-limit-bytes: must be a whole number from 1",
	}, {
		name: "cluster limits",
		file: "cluster:\n  per-connection-buffer-limit-bytes: 65536\n  max-requests-per-connection: 4294967295\n",
		want: map[string]string{"cluster-per-connection-buffer-limit-bytes": "65536", "cluster-max-requests-per-connection": "4294967295"},
	}, {
		name: "global circuit breakers",
		file: "cluster:\n  circuit-breakers:\n    max-connections: 100\n    max-pending-requests: 0\n    max-requests: 200\n" +
			"    max-retries: 4\n    per-host-max-connections: 10\n",
		want: map[string]string{"cluster-circuit-breakers-max-connections": "100", "cluster-circuit-breakers-max-pending-requests": "0",
			"cluster-circuit-breakers-max-requests": "200", "cluster-circuit-breakers-max-retries": "4",
			"cluster-circuit-breakers-per-host-max-connections": "10"},
	}, {
		name:    "a circuit breaker Contour does not know",
		file:    "cluster:\n  circuit-breakers:\n    max-streams: 1\n",
		ignored: []string{"cluster.circuit-breakers.max-streams"},
	}, {
		name: "a negative circuit breaker",
		file: "cluster:\n  circuit-breakers:\n    max-retries: -3\n",
		err:  "cluster.circuit-breakers.max-retries: must be a whole number from 0 to 4294967295",
	}, {
		name: "circuit breakers not a mapping",
		file: "cluster:\n  circuit-breakers: [1]\n",
		err:  "cluster.circuit-breakers: must be a mapping",
	}, {
		name: "upstream TLS",
		file: "cluster:\n  upstream-tls:\n    minimum-protocol-version: 1.3\n    maximum-protocol-version: \"1.3\"\n" +
			"    cipher-suites:\n    - ECDHE-RSA-AES256-GCM-SHA384\n    ecdh-curves: [X25519]\n",
		want: map[string]string{"cluster-upstream-tls-minimum-protocol-version": "1.3", "cluster-upstream-tls-maximum-protocol-version": "1.3",
			"cluster-upstream-tls-cipher-suite": "[ECDHE-RSA-AES256-GCM-SHA384]", "cluster-upstream-tls-ecdh-curve": "[X25519]"},
	}, {
		name: "an upstream TLS minimum above its maximum",
		file: "cluster:\n  upstream-tls:\n    minimum-protocol-version: 1.3\n    maximum-protocol-version: 1.2\n",
		err:  "cluster.upstream-tls: cluster-upstream-tls-minimum-protocol-version 1.3 is above cluster-upstream-tls-maximum-protocol-version 1.2",
	}, {
		name: "an upstream TLS version Envoy does not offer",
		file: "cluster:\n  upstream-tls:\n    minimum-protocol-version: 1.0\n",
		err:  `cluster.upstream-tls.minimum-protocol-version: cluster-upstream-tls-minimum-protocol-version "1": must be 1.2 or 1.3`,
	}, {
		name: "an upstream cipher suite Envoy does not have",
		file: "cluster:\n  upstream-tls:\n    cipher-suites: [RC4-SHA]\n",
		err:  `cluster.upstream-tls.cipher-suites: [0]: cluster-upstream-tls-cipher-suite "RC4-SHA": not a cipher suite`,
	}, {
		name: "no upstream buffer",
		file: "cluster:\n  per-connection-buffer-limit-bytes: 0\n",
		err:  "cluster.per-connection-buffer-limit-bytes: must be a whole number from 1 to 4294967295",
	}, {
		name: "more upstream requests than a uint32",
		file: "cluster:\n  max-requests-per-connection: 4294967296\n",
		err:  "cluster.max-requests-per-connection: must be a whole number from 1 to 4294967295",
	}, {
		name: "no request per connection",
		file: "listener:\n  max-requests-per-connection: 0\n",
		err:  "listener.max-requests-per-connection: must be a whole number from 1 to 4294967295",
	}, {
		name: "more streams than Envoy takes",
		file: "listener:\n  http2-max-concurrent-streams: 2147483648\n",
		err:  "listener.http2-max-concurrent-streams: listener-http2-max-concurrent-streams 2147483648: Envoy accepts at most 2147483647",
	}, {
		name: "a streams limit that is not a number",
		file: "listener:\n  http2-max-concurrent-streams: many\n",
		err:  "listener.http2-max-concurrent-streams: must be a whole number from 1",
	}, {
		name: "a Server header transformation Contour does not know",
		file: "serverHeaderTransformation: drop\n",
		err:  `serverHeaderTransformation: server-header-transformation "drop": must be overwrite, append_if_absent or pass_through`,
	}, {
		name: "the status address",
		file: "ingress-status-address: lb.example.com\n",
		want: map[string]string{"ingress-status-address": "lb.example.com"},
	}, {
		name: "a text log line",
		file: "accesslog-format-string: \"%START_TIME% %RESPONSE_CODE%\\n\"\n",
		want: map[string]string{"accesslog-format-string": "%START_TIME% %RESPONSE_CODE%\n"},
	}, {
		name: "a text log line without its line break",
		file: "accesslog-format-string: \"%START_TIME%\"\n",
		err:  "accesslog-format-string: access log format string",
	}, {
		name: "paths and chunked lengths",
		file: "disableMergeSlashes: true\ndisableAllowChunkedLength: true\n",
		want: map[string]string{"disable-merge-slashes": "true", "disable-allow-chunked-length": "true"},
	}, {
		name: "JSON fields",
		file: "accesslog-format: json\njson-fields:\n- \"@timestamp\"\n- grpc_status\n- host=%REQ(:AUTHORITY)%\n",
		want: map[string]string{"accesslog-json-field": "[@timestamp,grpc_status,host=%REQ(:AUTHORITY)%]"},
	}, {
		name: "a JSON field Envoy cannot log",
		file: "json-fields:\n- x=%NOPE%\n",
		err:  "json-fields: JSON field",
	}, {
		name: "JSON fields not a list",
		file: "json-fields: duration\n",
		err:  "json-fields: must be a list of strings",
	}, {
		name: "a timeout that is not one",
		file: "timeouts:\n  request-timeout: soon\n",
		err:  "timeouts.request-timeout: not a duration",
	}, {
		name: "negative hops",
		file: "network:\n  num-trusted-hops: -1\n",
		err:  "network.num-trusted-hops: must be a whole number",
	}, {
		name: "timeouts not a mapping",
		file: "timeouts: 30s\n",
		err:  "timeouts: must be a mapping",
	}, {
		name: "the command line wins",
		file: "accesslog-format: json\ndisablePermitInsecure: true\n",
		args: []string{"--accesslog-format=envoy", "--disable-permit-insecure=false"},
		want: map[string]string{"accesslog-format": "envoy", "disable-permit-insecure": "false"},
	}, {
		name: "in-cluster drops the kubeconfig",
		file: "incluster: true\nkubeconfig: /root/.kube/config\n",
		want: map[string]string{"kubeconfig": ""},
	}, {
		name: "the operator's file",
		file: "enableExternalNameService: false\nenvoy-service-namespace: projectcontour\nenvoy-service-name: envoy\n",
		want: map[string]string{"enable-external-name": "false", "envoy-service-namespace": "projectcontour"},
	}, {
		name: "an empty file",
		file: "",
		want: map[string]string{"accesslog-format": "envoy"},
	}, {
		name: "a key Contour does not know",
		file: "accesslog-format: json\ningressClass: internal\n",
		err:  `unknown key "ingressClass"`,
	}, {
		name: "a boolean as a string",
		file: "disablePermitInsecure: \"yes\"\n",
		err:  "disablePermitInsecure: must be true or false",
	}, {
		name: "the rate limit service",
		file: "rateLimitService:\n  extensionService: projectcontour/ratelimit\n  domain: contour\n  failOpen: true\n" +
			"  enableXRateLimitHeaders: true\n  enableResourceExhaustedCode: true\n  defaultGlobalRateLimitPolicy:\n    descriptors:\n" +
			"    - entries:\n      - genericKey: {key: k, value: v}\n      - remoteAddress: {}\n",
		want: map[string]string{"rate-limit-service": "projectcontour/ratelimit", "rate-limit-domain": "contour", "rate-limit-fail-open": "true",
			"rate-limit-x-headers": "true", "rate-limit-resource-exhausted-code": "true",
			"rate-limit-default-policy": `{"descriptors":[{"entries":[{"genericKey":{"key":"k","value":"v"}},{"remoteAddress":{}}]}]}`},
	}, {
		name: "a default policy with an entry setting two fields",
		file: "rateLimitService:\n  extensionService: a/b\n  domain: d\n  defaultGlobalRateLimitPolicy:\n" +
			"    descriptors: [{entries: [{genericKey: {value: v}, remoteAddress: {}}]}]\n",
		err: "rateLimitService.defaultGlobalRateLimitPolicy: defaultGlobalRateLimitPolicy.descriptors[0].entries[0]: must set exactly one of",
	}, {
		name: "a default policy with a field Contour does not know",
		file: "rateLimitService:\n  extensionService: a/b\n  domain: d\n  defaultGlobalRateLimitPolicy: {descriptor: []}\n",
		err:  `rateLimitService.defaultGlobalRateLimitPolicy: not a global rate limit policy: json: unknown field "descriptor"`,
	}, {
		name:    "a rate limit service without its ExtensionService: as in Contour, none",
		file:    "rateLimitService:\n  domain: contour\n  failOpen: true\n",
		want:    map[string]string{"rate-limit-service": "", "rate-limit-domain": "", "rate-limit-fail-open": "false"},
		ignored: []string{"rateLimitService.domain", "rateLimitService.failOpen"},
	}, {
		name: "a rate limit service named without its namespace",
		file: "rateLimitService:\n  extensionService: ratelimit\n  domain: contour\n",
		err:  "rateLimitService.extensionService: \"ratelimit\" is not namespace/name of an ExtensionService",
	}, {
		name: "a rate limit flag of the wrong type",
		file: "rateLimitService:\n  extensionService: a/b\n  failOpen: \"yes\"\n",
		err:  "rateLimitService.failOpen: must be true or false",
	}, {
		name: "rateLimitService not a mapping",
		file: "rateLimitService: a/b\n",
		err:  "rateLimitService: must be a mapping",
	}, {
		name: "a string as a number",
		file: "envoy-service-name: 7\n",
		err:  "envoy-service-name: must be a string",
	}, {
		name: "not a map",
		file: "- accesslog-format\n",
		err:  "config.yaml: error unmarshaling",
	}} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(c.file), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := newServeCmd()
			if err := cmd.ParseFlags(c.args); err != nil {
				t.Fatal(err)
			}
			ignored, err := applyConfigFile(cmd, path)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error %v, want one naming %s and %q", err, path, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ignored, c.ignored) {
				t.Errorf("ignored %q, want %q", ignored, c.ignored)
			}
			for flag, want := range c.want {
				if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
					t.Errorf("--%s = %q, want %q", flag, got, want)
				}
			}
		})
	}
}

// TestConfigFileBadValue: a value Isobar refuses exits 2 before anything
// is served, naming the file and the setting.
func TestConfigFileBadValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contour.yaml")
	if err := os.WriteFile(path, []byte("accesslog-format: xml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "", "serve", "--config-path", path, "--fixtures", t.TempDir(), "--insecure")
	if code != 2 || !strings.Contains(stderr, path+": accesslog-format: access log format \"xml\"") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestRateLimitFlags: the rate limit flags are checked before anything is
// read (exit 2): the service as namespace/name, a domain with it (Envoy
// needs one), and the other flags only with it.
func TestRateLimitFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate-limit-service", "rls"}, `--rate-limit-service: "rls" is not namespace/name of an ExtensionService`},
		{[]string{"--rate-limit-service", "rl/rls"}, "--rate-limit-domain: required with --rate-limit-service"},
		{[]string{"--rate-limit-fail-open"}, "--rate-limit-fail-open needs --rate-limit-service"},
		{[]string{"--rate-limit-domain", "d"}, "--rate-limit-domain needs --rate-limit-service"},
		{[]string{"--rate-limit-service", "rl/rls", "--rate-limit-domain", "d", "--rate-limit-default-policy", `{"descriptors":[{"entries":[]}]}`},
			"--rate-limit-default-policy: defaultGlobalRateLimitPolicy.descriptors[0].entries: must have at least one entry"},
		{[]string{"--rate-limit-service", "rl/rls", "--rate-limit-domain", "d", "--rate-limit-default-policy", `{} {}`},
			"--rate-limit-default-policy: not a global rate limit policy: more than one JSON value"},
	} {
		args := append([]string{"translate", "-f", "-"}, c.args...)
		_, stderr, code := run(t, "", args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestConfigFileOffline: the offline commands read the same file, so that a
// CI dry-run uses production's settings; what they do not use is reported.
func TestConfigFileOffline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "contour.yaml")
	conf := "incluster: true\naccesslog-format: json\ndisablePermitInsecure: true\nenvoy-service-name: envoy\ntimeouts:\n  request-timeout: 30s\n" +
		"json-fields:\n- duration\n- trace=%REQ(X-TRACE-ID)%\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, "", "translate", "-f", "fixtures/seeds/talk-canary/input.yaml", "--config-path", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "json_format") {
		t.Errorf("the file's accesslog-format json did not reach the listeners")
	}
	if !strings.Contains(out, `trace: "%REQ(X-TRACE-ID)%"`) || strings.Contains(out, "user_agent") {
		t.Errorf("the file's json-fields are not the JSON lines' fields")
	}
	if !strings.Contains(out, "request_timeout: 30s") {
		t.Errorf("the file's timeouts.request-timeout did not reach the connection managers")
	}
	want := path + ": settings that Isobar does not implement or this command does not use are ignored: envoy-service-name, incluster"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	out, _, code = run(t, "", "translate", "-f", "fixtures/seeds/talk-canary/input.yaml", "--config-path", path, "--accesslog-format", "envoy")
	if code != 0 || strings.Contains(out, "json_format") {
		t.Errorf("--accesslog-format on the command line did not win over the file (exit %d)", code)
	}
}

// TestConfigFileFromOperator: the file the operator mounts for the control
// plane is one serve reads whole, and its settings reach serve's flags.
func TestConfigFileFromOperator(t *testing.T) {
	c := &operatorv1alpha1.Contour{}
	c.Name, c.Namespace = "contour-sample", "default"
	c.Spec.Namespace.Name = "edge"
	ext := true
	c.Spec.EnableExternalNameService = &ext
	c.Spec.IncludeGrants = &ext
	c.Spec.VHDS = &ext
	c.Spec.ExcludeRejected = &ext
	c.Spec.FallbackCertificate = &operatorv1alpha1.SecretReference{Name: "fallback: cert", Namespace: "certs"}
	// More of Contour's file, with keys the operator manages (they lose).
	c.Spec.Config = &runtime.RawExtension{Raw: []byte(`{"compression": {"algorithm": "brotli"}, "kubeconfig": "/tmp/x",
		"envoy-service-name": "mine", "tls": {"minimum-protocol-version": "1.3", "fallback-certificate": {"name": "a", "namespace": "b"}},
		"tracing": {"extensionService": "obs/otel"}}`)}
	path := filepath.Join(t.TempDir(), "isobar.yaml")
	if err := os.WriteFile(path, []byte(objects.Config(c).Data["isobar.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	args := objects.Deployment(c, objects.Images{Isobar: "isobar", Envoy: "envoy"}).Spec.Template.Spec.Containers[0].Args
	if !slices.Contains(args, "--config-path=/config/isobar.yaml") {
		t.Fatalf("the control plane's args %q do not read the mounted file", args)
	}
	if !slices.Contains(args, "--include-grants") {
		t.Errorf("includeGrants: the control plane's args %q lack --include-grants", args)
	}
	for _, flag := range []string{"--vhds", "--exclude-rejected"} {
		if !slices.Contains(args, flag) {
			t.Errorf("the control plane's args %q lack %s", args, flag)
		}
	}
	cmd := newServeCmd()
	for _, flag := range []string{"include-grants", "vhds", "exclude-rejected"} {
		if cmd.Flags().Lookup(flag) == nil {
			t.Errorf("serve has no --%s", flag)
		}
	}
	ignored, err := applyConfigFile(cmd, path)
	if err != nil || len(ignored) > 0 {
		t.Fatalf("serve reads the operator's file: ignored %q, error %v", ignored, err)
	}
	for flag, want := range map[string]string{"enable-external-name": "true", "envoy-service-namespace": "edge", "envoy-service-name": objects.Envoy,
		"fallback-certificate": "certs/fallback: cert", "compression": "brotli", "tls-minimum-protocol-version": "1.3",
		"tracing": `{"extensionService":"obs/otel"}`, "kubeconfig": ""} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", flag, got, want)
		}
	}
}

// TestServeTakesContourArgs: the arguments of Contour's own Deployment
// (`contour serve ...`) configure `isobar serve` unchanged.
func TestServeTakesContourArgs(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "contour.yaml")
	if err := os.WriteFile(conf, []byte("disablePermitInsecure: true\nkubeconfig: /root/.kube/config\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--incluster", "--xds-address=0.0.0.0", "--xds-port=8001", "--contour-cafile=/certs/ca.crt",
		"--contour-cert-file=/certs/tls.crt", "--contour-key-file=/certs/tls.key", "--config-path=" + conf,
		"--envoy-service-http-port=8080", "--envoy-service-https-port=8443", "--ingress-class-name=internal",
		"--disable-leader-election", "--leader-election-resource-namespace=edge"}
	cmd := newServeCmd()
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	if err := cmd.PreRunE(cmd, nil); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{"xds-ca-file": "/certs/ca.crt", "xds-cert-file": "/certs/tls.crt",
		"xds-key-file": "/certs/tls.key", "ingress-class": "internal", "leader-election": "false",
		"leader-election-namespace": "edge", "disable-permit-insecure": "true", "kubeconfig": ""} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", flag, got, want)
		}
	}
	cmd = newServeCmd()
	if err := cmd.ParseFlags([]string{"--incluster", "--kubeconfig=/k"}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.PreRunE(cmd, nil); err == nil || !strings.Contains(err.Error(), "--incluster with --kubeconfig") {
		t.Errorf("--incluster with --kubeconfig: %v", err)
	}
}
