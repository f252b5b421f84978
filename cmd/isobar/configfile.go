package main

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// contourSetting is a key of Contour's configuration file that Isobar
// implements: the flag it sets, and the type its value must have.
type contourSetting struct {
	flag string
	kind string // "bool" or "string"
}

// contourSettings are the keys of Contour's configuration file (contour.yaml,
// `contour serve --config-path`) that Isobar implements, by their flags.
var contourSettings = map[string]contourSetting{
	"kubeconfig":                {"kubeconfig", "string"},
	"accesslog-format":          {"accesslog-format", "string"},
	"accesslog-level":           {"accesslog-level", "string"},
	"disablePermitInsecure":     {"disable-permit-insecure", "bool"},
	"enableExternalNameService": {"enable-external-name", "bool"},
	"envoy-service-namespace":   {"envoy-service-namespace", "string"},
	"envoy-service-name":        {"envoy-service-name", "string"},
}

// contourUnimplemented are the other top-level keys of Contour's
// configuration file: accepted, and reported as ignored.
var contourUnimplemented = []string{
	"accesslog-format-string", "cluster", "debug", "default-http-versions", "disableAllowChunkedLength",
	"disableMergeSlashes", "gateway", "ingress-status-address", "json-fields", "listener", "metrics", "network",
	"policy", "rateLimitService", "server", "timeouts", "tls",
}

// applyConfigFile reads Contour's configuration file at path and sets the
// flags of cmd its keys stand for, unless the command line set them (flags
// take precedence, as in Contour). `incluster: true` drops the file's
// kubeconfig. It returns the keys present that Isobar does not implement
// or cmd has no flag for, sorted, so that the caller reports them; a key Contour does not know, or a
// value of the wrong type, is an error naming the file and the key.
func applyConfigFile(cmd *cobra.Command, path string) (ignored []string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
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
		case k == "incluster":
		case ok && cmd.Flags().Lookup(s.flag) == nil: // serve's, read by another command
			ignored = append(ignored, k)
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
	return ignored, nil
}

// setFromConfig sets the flag of setting s to v, the value of key k, unless
// the command line set it.
func setFromConfig(cmd *cobra.Command, path, k string, s contourSetting, v any) (err error) {
	var value string
	switch x := v.(type) {
	case bool:
		if s.kind != "bool" {
			return fmt.Errorf("%s: %s: must be a string", path, k)
		}
		value = strconv.FormatBool(x)
	case string:
		if s.kind != "string" {
			return fmt.Errorf("%s: %s: must be true or false", path, k)
		}
		value = x
	default:
		return fmt.Errorf("%s: %s: must be a %s", path, k, map[string]string{"bool": "true or false", "string": "string"}[s.kind])
	}
	if cmd.Flags().Changed(s.flag) {
		return nil
	}
	switch k { // checked here, so that the error names the file
	case "accesslog-format":
		err = graph.AccessLog{Format: value}.Check()
	case "accesslog-level":
		err = graph.AccessLog{Level: value}.Check()
	}
	if err == nil {
		err = cmd.Flags().Set(s.flag, value)
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", path, k, err)
	}
	return nil
}
