package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	runtimev3 "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/controlplane/envoy"
	"github.com/isobar-dev/isobar/controlplane/translate"
)

// runtimeFlags are serve's settings of the runtime layer served over RTDS
// (envoy.RuntimeLayer): Contour's listener.max-requests-per-io-cycle,
// listener.max-connections-per-listener and runtime-settings.
type runtimeFlags struct {
	maxRequestsPerIOCycle     uint32
	maxConnectionsPerListener uint32
	settings                  []string // KEY=VALUE
}

// register adds the flags to cmd.
func (r *runtimeFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Uint32Var(&r.maxRequestsPerIOCycle, "listener-max-requests-per-io-cycle", 0,
		"HTTP requests Envoy processes from one connection per I/O cycle, the rest in later cycles (a CVE-2023-44487 mitigation; runtime key http.max_requests_per_io_cycle); 0: no limit")
	fl.Uint32Var(&r.maxConnectionsPerListener, "listener-max-connections-per-listener", 0,
		"active connections each of ingress_http and ingress_https accepts (runtime keys envoy.resource_limits.listener.<name>.connection_limit); 0: no limit")
	fl.StringArrayVar(&r.settings, "runtime-setting", nil,
		"KEY=VALUE: an Envoy runtime setting (repeatable), such as a reloadable feature to turn off; the keys Isobar sets itself (re2.max_program_size.*, and those of the two listener limits when set) are not overridden")
}

// layer returns the runtime layer the flags describe and the settings it
// skipped (keys the layer manages), or an error naming the flag.
func (r runtimeFlags) layer() (*runtimev3.Runtime, []string, error) {
	settings := map[string]string{}
	for _, kv := range r.settings {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok || k == "":
			return nil, nil, fmt.Errorf("--runtime-setting %q: want KEY=VALUE", kv)
		case !utf8.ValidString(kv):
			return nil, nil, fmt.Errorf("--runtime-setting %q: not UTF-8", kv)
		}
		settings[k] = v // the last of a key wins, as for other repeated flags
	}
	layer, skipped := envoy.RuntimeLayer(envoy.RuntimeOptions{MaxRequestsPerIOCycle: r.maxRequestsPerIOCycle,
		MaxConnectionsPerListener: r.maxConnectionsPerListener, Listeners: []string{translate.HTTPListener, translate.HTTPSListener},
		Settings: settings})
	return layer, skipped, nil
}

// setRuntimeFromConfig sets the --runtime-setting flag from v, the mapping
// of key k (Contour's runtime-settings), unless the command line set it.
// Values may be strings, numbers or booleans (Envoy reads each as text).
func setRuntimeFromConfig(cmd *cobra.Command, path, k string, s contourSetting, v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %s: must be a mapping of runtime keys to values", path, k)
	}
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	values := make([]string, 0, len(keys))
	for _, key := range keys {
		var text string
		switch x := m[key].(type) {
		case string:
			text = x
		case float64:
			text = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			text = strconv.FormatBool(x)
		default:
			return fmt.Errorf("%s: %s: %s: must be a string, a number or true/false", path, k, key)
		}
		values = append(values, key+"="+text)
	}
	if cmd.Flags().Changed(s.flag) {
		return nil
	}
	for _, kv := range values {
		if err := cmd.Flags().Set(s.flag, kv); err != nil {
			return fmt.Errorf("%s: %s: %w", path, k, err)
		}
	}
	return nil
}
