package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// contourSetting is a key of Contour's configuration file that Isobar
// implements: the flag it sets, and the type its value must have.
type contourSetting struct {
	flag string
	kind string // "bool", "string", "uint", "count" (a uint from 1), "float" (above 0), "version" (a string or a number), "list" (of strings), "headers" (set and remove), "runtime" (a mapping of runtime keys) or "policy" (a global rate limit policy)
}

// kindNames say what a value of each kind must be, in errors.
var kindNames = map[string]string{"bool": "true or false", "string": "a string", "uint": "a whole number from 0 to 4294967295",
	"float":   "a number above 0",
	"count":   "a whole number from 1 to 4294967295",
	"version": "a version such as \"1.2\"", "list": "a list of strings",
	"secret": "a mapping of a Secret's name and namespace"}

// contourSettings are the keys of Contour's configuration file (contour.yaml,
// `contour serve --config-path`) that Isobar implements, by their flags.
var contourSettings = map[string]contourSetting{
	"kubeconfig":                 {"kubeconfig", "string"},
	"accesslog-format":           {"accesslog-format", "string"},
	"accesslog-level":            {"accesslog-level", "string"},
	"disablePermitInsecure":      {"disable-permit-insecure", "bool"},
	"enableExternalNameService":  {"enable-external-name", "bool"},
	"envoy-service-namespace":    {"envoy-service-namespace", "string"},
	"envoy-service-name":         {"envoy-service-name", "string"},
	"ingress-status-address":     {"ingress-status-address", "string"},
	"json-fields":                {"accesslog-json-field", "list"},
	"accesslog-format-string":    {"accesslog-format-string", "string"},
	"disableMergeSlashes":        {"disable-merge-slashes", "bool"},
	"disableAllowChunkedLength":  {"disable-allow-chunked-length", "bool"},
	"default-http-versions":      {"default-http-version", "list"},
	"serverHeaderTransformation": {"server-header-transformation", "string"},
	"compression.algorithm":      {"compression", "string"},
	"tracing":                    {"tracing", "tracing"},
	"globalExtAuth":              {"global-ext-auth", "globalauth"},
	// The keys of the timeouts, network, cluster, tls, policy and listener mappings, by their
	// paths.
	"timeouts.request-timeout":                            {"request-timeout", "string"},
	"timeouts.connection-idle-timeout":                    {"connection-idle-timeout", "string"},
	"timeouts.stream-idle-timeout":                        {"stream-idle-timeout", "string"},
	"timeouts.max-connection-duration":                    {"max-connection-duration", "string"},
	"timeouts.delayed-close-timeout":                      {"delayed-close-timeout", "string"},
	"timeouts.connection-shutdown-grace-period":           {"connection-shutdown-grace-period", "string"},
	"timeouts.connect-timeout":                            {"connect-timeout", "string"},
	"network.num-trusted-hops":                            {"num-trusted-hops", "uint"},
	"network.strip-trailing-host-dot":                     {"strip-trailing-host-dot", "bool"},
	"network.admin-port":                                  {"envoy-admin-port", "uint"},
	"cluster.dns-lookup-family":                           {"dns-lookup-family", "string"},
	"cluster.max-requests-per-connection":                 {"cluster-max-requests-per-connection", "count"},
	"cluster.per-connection-buffer-limit-bytes":           {"cluster-per-connection-buffer-limit-bytes", "count"},
	"cluster.upstream-tls.minimum-protocol-version":       {"cluster-upstream-tls-minimum-protocol-version", "version"},
	"cluster.upstream-tls.maximum-protocol-version":       {"cluster-upstream-tls-maximum-protocol-version", "version"},
	"cluster.upstream-tls.cipher-suites":                  {"cluster-upstream-tls-cipher-suite", "list"},
	"cluster.upstream-tls.ecdh-curves":                    {"cluster-upstream-tls-ecdh-curve", "list"},
	"cluster.circuit-breakers.max-connections":            {"cluster-circuit-breakers-max-connections", "uint"},
	"cluster.circuit-breakers.max-pending-requests":       {"cluster-circuit-breakers-max-pending-requests", "uint"},
	"cluster.circuit-breakers.max-requests":               {"cluster-circuit-breakers-max-requests", "uint"},
	"cluster.circuit-breakers.max-retries":                {"cluster-circuit-breakers-max-retries", "uint"},
	"cluster.circuit-breakers.per-host-max-connections":   {"cluster-circuit-breakers-per-host-max-connections", "uint"},
	"tls.minimum-protocol-version":                        {"tls-minimum-protocol-version", "version"},
	"tls.maximum-protocol-version":                        {"tls-maximum-protocol-version", "version"},
	"tls.cipher-suites":                                   {"tls-cipher-suite", "list"},
	"tls.ecdh-curves":                                     {"tls-ecdh-curve", "list"},
	"tls.fingerprint.ja3":                                 {"tls-fingerprint-ja3", "bool"},
	"tls.fingerprint.ja4":                                 {"tls-fingerprint-ja4", "bool"},
	"tls.fallback-certificate":                            {"fallback-certificate", "secret"},
	"tls.envoy-client-certificate":                        {"envoy-client-certificate", "secret"},
	"policy.request-headers":                              {"policy-request-header-set", "headers"},
	"policy.response-headers":                             {"policy-response-header-set", "headers"},
	"policy.applyToIngress":                               {"policy-apply-to-ingress", "bool"},
	"listener.max-requests-per-connection":                {"listener-max-requests-per-connection", "count"},
	"listener.http2-max-concurrent-streams":               {"listener-http2-max-concurrent-streams", "count"},
	"listener.per-connection-buffer-limit-bytes":          {"listener-per-connection-buffer-limit-bytes", "count"},
	"listener.connection-balancer":                        {"listener-connection-balancer", "string"},
	"listener.max-connections-to-accept-per-socket-event": {"listener-max-connections-to-accept-per-socket-event", "count"},
	"listener.socket-options.tos":                         {"listener-socket-tos", "uint"},
	"listener.max-requests-per-io-cycle":                  {"listener-max-requests-per-io-cycle", "count"},
	"listener.max-connections-per-listener":               {"listener-max-connections-per-listener", "count"},
	"runtime-settings":                                    {"runtime-setting", "runtime"},
	"kubernetesClientQPS":                                 {"kubernetes-client-qps", "float"},
	"kubernetesClientBurst":                               {"kubernetes-client-burst", "count"},
	"metrics.contour.address":                             {"http-address", "string"},
	"metrics.contour.port":                                {"http-port", "uint"},
	"metrics.envoy.address":                               {"envoy-metrics-address", "string"},
	"metrics.envoy.port":                                  {"envoy-metrics-port", "uint"},
	"metrics.envoy.server-certificate-path":               {"envoy-metrics-cert-file", "string"},
	"metrics.envoy.server-key-path":                       {"envoy-metrics-key-file", "string"},
	"metrics.envoy.ca-certificate-path":                   {"envoy-metrics-ca-file", "string"},
	"metrics.contour.server-certificate-path":             {"", "refused"},
	"metrics.contour.server-key-path":                     {"", "refused"},
	"metrics.contour.ca-certificate-path":                 {"", "refused"},
	"omEnforcedHealthListener.address":                    {"envoy-om-health-address", "string"},
	"omEnforcedHealthListener.port":                       {"envoy-om-health-port", "uint"},
	"rateLimitService.extensionService":                   {"rate-limit-service", "string"},
	"rateLimitService.domain":                             {"rate-limit-domain", "string"},
	"rateLimitService.failOpen":                           {"rate-limit-fail-open", "bool"},
	"rateLimitService.enableXRateLimitHeaders":            {"rate-limit-x-headers", "bool"},
	"rateLimitService.enableResourceExhaustedCode":        {"rate-limit-resource-exhausted-code", "bool"},
	"rateLimitService.defaultGlobalRateLimitPolicy":       {"rate-limit-default-policy", "policy"},
}

// contourMappings are the top-level keys whose mappings applyConfigFile
// reads key by key (as "timeouts.request-timeout"): their other keys are
// reported as ignored one by one.
var contourMappings = []string{"cluster", "compression", "listener", "metrics", "network", "omEnforcedHealthListener", "policy", "rateLimitService", "timeouts", "tls"}

// contourSubMappings are the mappings inside those of contourMappings that
// are read key by key too.
var contourSubMappings = []string{"cluster.circuit-breakers", "cluster.upstream-tls", "listener.socket-options", "metrics.contour", "metrics.envoy", "tls.fingerprint"}

// contourUnimplemented are the other top-level keys of Contour's
// configuration file: accepted, and reported as ignored.
var contourUnimplemented = []string{
	"debug", "featureFlags", "gateway", "server",
}

// applyConfigFile reads Contour's configuration file at path and sets the
// flags of cmd its keys stand for, unless the command line set them (flags
// take precedence, as in Contour). `incluster: true` drops the file's
// kubeconfig. It returns the keys present that Isobar does not implement
// or cmd has no flag for, sorted, so that the caller reports them; a key
// Contour does not know, or a value of the wrong type, is an error naming
// the file and the key.
func applyConfigFile(cmd *cobra.Command, path string) (ignored []string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if ignored, err = flattenMappings(doc, path); err != nil {
		return nil, err
	}
	ignored = append(ignored, unusedRateLimitKeys(cmd, doc)...)
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	inCluster := false
	for _, k := range keys {
		if k != "incluster" {
			continue
		}
		b, ok := doc[k].(bool)
		if !ok {
			return nil, fmt.Errorf("%s: incluster: must be true or false", path)
		}
		inCluster = b
	}
	for _, k := range keys {
		switch s, ok := contourSettings[k]; {
		case k == "incluster" && cmd.Flags().Lookup("kubeconfig") == nil: // serve's
			ignored = append(ignored, k)
		case k == "incluster":
		case ok && s.kind == "refused" && cmd.Flags().Lookup("kubeconfig") == nil: // serve's alone
			ignored = append(ignored, k)
		case ok && s.kind == "refused":
			if v, _ := doc[k].(string); v != "" {
				return nil, fmt.Errorf("%s: %s: Isobar serves its metrics over plain HTTP only; refusing to start rather "+
					"than serve them unprotected (remove the key, or put the endpoint behind a TLS proxy)", path, k)
			}
		case ok && cmd.Flags().Lookup(s.flag) == nil: // serve's, read by another command
			ignored = append(ignored, k)
		case ok && (s.kind == "policy" || s.kind == "tracing" || s.kind == "globalauth"):
			if err := setPolicyFromConfig(cmd, path, k, s, doc[k]); err != nil {
				return nil, err
			}
		case ok && s.kind == "runtime":
			if err := setRuntimeFromConfig(cmd, path, k, s, doc[k]); err != nil {
				return nil, err
			}
		case ok && s.kind == "headers":
			skipped, err := setHeadersFromConfig(cmd, path, k, doc[k])
			if err != nil {
				return nil, err
			}
			ignored = append(ignored, skipped...)
		case ok:
			if k == "kubeconfig" && inCluster {
				continue
			}
			if err := setFromConfig(cmd, path, k, s, doc[k]); err != nil {
				return nil, err
			}
		case slices.Contains(contourUnimplemented, k):
			ignored = append(ignored, k)
		default:
			return nil, fmt.Errorf("%s: unknown key %q (a Contour configuration file is expected)", path, k)
		}
	}
	if err := checkTLSVersions(cmd, path, doc); err != nil {
		return nil, err
	}
	sort.Strings(ignored)
	return ignored, nil
}

// setPolicyFromConfig sets the flag of setting s, a mapping given to its
// flag as JSON (a global rate limit policy, tracing or global
// authorization), to v, the mapping of key k, unless the command line set
// it; the setting is checked here, so that an error names the file.
func setPolicyFromConfig(cmd *cobra.Command, path, k string, s contourSetting, v any) error {
	if v == nil {
		return nil
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("%s: %s: must be a mapping", path, k)
	}
	data, err := json.Marshal(v)
	switch {
	case err != nil:
	case s.kind == "tracing":
		_, err = graph.ParseTracing(string(data))
	case s.kind == "globalauth":
		_, err = graph.ParseGlobalAuthorization(string(data))
	default:
		_, err = parseDefaultPolicy(string(data))
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", path, k, err)
	}
	if cmd.Flags().Changed(s.flag) {
		return nil
	}
	return cmd.Flags().Set(s.flag, string(data))
}

// checkTLSVersions refuses a file whose TLS minimum version is above its
// maximum, for listeners or upstreams (each is checked alone by
// setFromConfig).
func checkTLSVersions(cmd *cobra.Command, path string, doc map[string]any) error {
	_, hasMin := doc["cluster.upstream-tls.minimum-protocol-version"]
	_, hasMax := doc["cluster.upstream-tls.maximum-protocol-version"]
	if (hasMin || hasMax) && cmd.Flags().Lookup("cluster-upstream-tls-minimum-protocol-version") != nil {
		u := graph.Upstream{}
		u.TLSMinimumVersion, _ = cmd.Flags().GetString("cluster-upstream-tls-minimum-protocol-version")
		u.TLSMaximumVersion, _ = cmd.Flags().GetString("cluster-upstream-tls-maximum-protocol-version")
		if err := u.Check(); err != nil {
			return fmt.Errorf("%s: cluster.upstream-tls: %w", path, err)
		}
	}
	return checkListenerTLSVersions(cmd, path, doc)
}

// checkListenerTLSVersions is checkTLSVersions for tls.*.
func checkListenerTLSVersions(cmd *cobra.Command, path string, doc map[string]any) error {
	_, hasMin := doc["tls.minimum-protocol-version"]
	_, hasMax := doc["tls.maximum-protocol-version"]
	if !hasMin && !hasMax || cmd.Flags().Lookup("tls-minimum-protocol-version") == nil {
		return nil
	}
	c := graph.Connections{}
	c.MinimumTLSVersion, _ = cmd.Flags().GetString("tls-minimum-protocol-version")
	c.MaximumTLSVersion, _ = cmd.Flags().GetString("tls-maximum-protocol-version")
	if _, err := c.TLS(); err != nil {
		return fmt.Errorf("%s: tls: %w", path, err)
	}
	return nil
}

// unusedRateLimitKeys drops from doc, and returns, the rateLimitService
// keys of a file naming no extensionService (when the command line names
// none either): as in Contour, no rate limit service is configured then,
// and the other keys do nothing.
func unusedRateLimitKeys(cmd *cobra.Command, doc map[string]any) []string {
	if v, ok := doc["rateLimitService.extensionService"]; ok && v != nil && v != "" || cmd.Flags().Changed("rate-limit-service") {
		return nil
	}
	var unused []string
	for k := range doc {
		if strings.HasPrefix(k, "rateLimitService.") {
			unused = append(unused, k)
			delete(doc, k)
		}
	}
	return unused
}

// flattenMappings replaces, in doc, each mapping of contourMappings by its
// keys with their paths ("timeouts.request-timeout") and returns the paths
// Isobar does not implement.
func flattenMappings(doc map[string]any, path string) (ignored []string, err error) {
	for _, m := range contourMappings {
		v, ok := doc[m]
		if !ok {
			continue
		}
		delete(doc, m)
		if v == nil { // an empty mapping
			continue
		}
		inner, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %s: must be a mapping", path, m)
		}
		for k, x := range inner {
			sub, err := flattenKey(doc, path, m+"."+k, x)
			if err != nil {
				return nil, err
			}
			ignored = append(ignored, sub...)
		}
	}
	return ignored, nil
}

// flattenKey puts the key k of a mapping, with its value x, into doc, or
// the keys of x when k is one of contourSubMappings; it returns the keys
// Isobar does not implement.
func flattenKey(doc map[string]any, path, k string, x any) (ignored []string, err error) {
	if !slices.Contains(contourSubMappings, k) {
		if _, known := contourSettings[k]; !known {
			return []string{k}, nil
		}
		doc[k] = x
		return nil, nil
	}
	if x == nil { // an empty mapping
		return nil, nil
	}
	inner, ok := x.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s: must be a mapping", path, k)
	}
	for kk, xx := range inner {
		sub, err := flattenKey(doc, path, k+"."+kk, xx)
		if err != nil {
			return nil, err
		}
		ignored = append(ignored, sub...)
	}
	return ignored, nil
}

// setFromConfig sets the flag of setting s to v, the value of key k, unless
// the command line set it.
func setFromConfig(cmd *cobra.Command, path, k string, s contourSetting, v any) (err error) {
	switch s.kind {
	case "list":
		return setListFromConfig(cmd, path, k, s, v)
	case "secret":
		return setSecretFromConfig(cmd, path, k, s, v)
	}
	var value string
	switch x := v.(type) {
	case float64: // YAML numbers
		switch {
		case s.kind == "version": // minimum-protocol-version: 1.2, unquoted
			value = strconv.FormatFloat(x, 'f', -1, 64)
		case s.kind == "float" && x > 0:
			value = strconv.FormatFloat(x, 'f', -1, 32)
		case s.kind != "uint" && s.kind != "count" || x < 0 || x != float64(uint32(x)) || s.kind == "count" && x < 1:
			return fmt.Errorf("%s: %s: must be %s", path, k, kindNames[s.kind])
		default:
			value = strconv.FormatUint(uint64(x), 10)
		}
	case bool:
		if s.kind != "bool" {
			return fmt.Errorf("%s: %s: must be %s", path, k, kindNames[s.kind])
		}
		value = strconv.FormatBool(x)
	case string:
		if s.kind != "string" && s.kind != "version" {
			return fmt.Errorf("%s: %s: must be %s", path, k, kindNames[s.kind])
		}
		value = x
	default:
		return fmt.Errorf("%s: %s: must be %s", path, k, kindNames[s.kind])
	}
	if cmd.Flags().Changed(s.flag) {
		return nil
	}
	switch { // checked here, so that the error names the file
	case k == "accesslog-format":
		err = graph.AccessLog{Format: value}.Check()
	case k == "accesslog-level":
		err = graph.AccessLog{Level: value}.Check()
	case k == "accesslog-format-string":
		err = graph.AccessLog{Text: value}.Check()
	case k == "timeouts.connect-timeout":
		err = graph.Upstream{ConnectTimeout: value}.Check()
	case k == "cluster.dns-lookup-family":
		err = graph.Upstream{DNSLookupFamily: value}.Check()
	case k == "serverHeaderTransformation":
		err = graph.Connections{ServerHeaderTransformation: value}.Check()
	case k == "compression.algorithm":
		err = graph.Connections{Compression: value}.Check()
	case k == "listener.http2-max-concurrent-streams":
		n, _ := strconv.ParseUint(value, 10, 32)
		err = graph.Connections{HTTP2MaxConcurrentStreams: uint32(n)}.Check()
	case k == "listener.socket-options.tos":
		n, _ := strconv.ParseUint(value, 10, 32)
		err = graph.Connections{SocketTOS: uint32(n)}.Check()
	case k == "rateLimitService.extensionService":
		err = new(graph.RateLimitService).ParseRateLimitService(value)
	case k == "listener.connection-balancer":
		err = graph.Connections{ConnectionBalancer: value}.Check()
	case k == "cluster.upstream-tls.minimum-protocol-version":
		err = graph.Upstream{TLSMinimumVersion: value}.Check()
	case k == "cluster.upstream-tls.maximum-protocol-version":
		err = graph.Upstream{TLSMaximumVersion: value}.Check()
	case k == "tls.minimum-protocol-version":
		err = graph.Connections{MinimumTLSVersion: value}.Check()
	case k == "tls.maximum-protocol-version":
		err = graph.Connections{MaximumTLSVersion: value}.Check()
	case strings.HasPrefix(k, "timeouts."):
		err = graph.CheckTimeout(value)
	}
	if err == nil {
		err = cmd.Flags().Set(s.flag, value)
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", path, k, err)
	}
	return nil
}

// setListFromConfig sets the repeatable flag of setting s to the entries
// of v, the value of key k, unless the command line set it; each entry is
// checked here, so that an error names the file.
func setListFromConfig(cmd *cobra.Command, path, k string, s contourSetting, v any) error {
	if v == nil { // an empty list: the default
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%s: %s: must be %s", path, k, kindNames[s.kind])
	}
	entries := make([]string, len(list))
	for i, x := range list {
		if entries[i], ok = x.(string); !ok || strings.Contains(entries[i], "\n") {
			return fmt.Errorf("%s: %s[%d]: must be a string on one line", path, k, i)
		}
	}
	if err := checkList(k, entries); err != nil {
		return fmt.Errorf("%s: %s: %w", path, k, err)
	}
	if cmd.Flags().Changed(s.flag) {
		return nil
	}
	for _, e := range entries {
		if err := cmd.Flags().Set(s.flag, e); err != nil {
			return fmt.Errorf("%s: %s: %w", path, k, err)
		}
	}
	return nil
}

// checkList checks the entries of the list key k.
func checkList(k string, entries []string) error {
	var check func(string) error
	switch k {
	case "json-fields":
		_, err := envoy.JSONFields(entries)
		return err
	case "tls.cipher-suites":
		check = graph.CheckCipherSuite
	case "cluster.upstream-tls.cipher-suites":
		check = func(e string) error { return graph.Upstream{TLSCipherSuites: e}.Check() }
	case "tls.ecdh-curves":
		check = func(e string) error { return graph.Connections{ECDHCurves: e}.Check() }
	case "cluster.upstream-tls.ecdh-curves":
		check = func(e string) error { return graph.Upstream{TLSECDHCurves: e}.Check() }
	case "default-http-versions":
		check = graph.CheckHTTPVersion
	}
	for i, e := range entries {
		if err := check(e); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return nil
}

// setSecretFromConfig sets the flag of setting s, a Secret's
// namespace/name, from v, the mapping of key k ({name, namespace}, as
// Contour's tls.fallback-certificate), unless the command line set it. An
// empty name leaves it unset, as in Contour.
func setSecretFromConfig(cmd *cobra.Command, path, k string, s contourSetting, v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %s: must be %s", path, k, kindNames[s.kind])
	}
	var name, namespace string
	for key, x := range m {
		str, ok := x.(string)
		switch {
		case key != "name" && key != "namespace":
			return fmt.Errorf("%s: %s: unknown key %q (name and namespace are expected)", path, k, key)
		case !ok:
			return fmt.Errorf("%s: %s.%s: must be a string", path, k, key)
		case key == "name":
			name = str
		default:
			namespace = str
		}
	}
	switch {
	case name == "":
		return nil
	case namespace == "":
		return fmt.Errorf("%s: %s: a namespace is required with the name", path, k)
	case cmd.Flags().Changed(s.flag):
		return nil
	}
	return cmd.Flags().Set(s.flag, namespace+"/"+name)
}
