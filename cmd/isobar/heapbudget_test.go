package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// modulePrefix is how the functions of this module start in a profile.
const modulePrefix = "github.com/isobar-dev/isobar/"

// budgetParts names what each of this module's packages holds in a
// running serve, by import path below the module: the longest prefix that
// matches a package decides. An allocation is charged to the innermost
// frame of this module on its stack (the code that asked for the memory,
// not the library that made it); one with no such frame is "runtime and
// libraries".
var budgetParts = map[string]string{
	"controlplane/source":    "objects",
	"controlplane/kube":      "objects",
	"controlplane/translate": "xds messages",
	"controlplane/envoy":     "xds messages",
	"controlplane/server":    "encodings and streams",
	"controlplane/snapshot":  "encodings and streams",
	"controlplane/status":    "statuses",
	"controlplane/graph":     "graph parts",
	"controlplane":           "compiler bookkeeping",
	"controlplane/live":      "serve loop",
}

// heapBudget is the live heap of a heap profile by part (budgetParts), in
// bytes.
type heapBudget map[string]int64

// liveByPart reads a heap profile (as /debug/pprof/heap writes it) and
// returns its in-use bytes by part.
func liveByPart(data []byte) (heapBudget, error) {
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	at := -1
	for i, st := range p.SampleType {
		if st.Type == "inuse_space" {
			at = i
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("the profile has no inuse_space samples")
	}
	out := heapBudget{}
	for _, s := range p.Sample {
		out[partOf(s)] += s.Value[at]
	}
	return out, nil
}

// partOf returns the part of the innermost frame of this module on the
// sample's stack. A location's lines run from the innermost inlined call
// out, and a sample's locations from the leaf up.
func partOf(s *profile.Sample) string {
	for _, loc := range s.Location {
		for _, line := range loc.Line {
			if line.Function == nil {
				continue
			}
			if pkg, ok := modulePackage(line.Function.Name); ok {
				if part, ok := budgetParts[pkg]; ok {
					return part
				}
				return "other Isobar code"
			}
		}
	}
	return "runtime and libraries"
}

// modulePackage returns the import path below the module of the package
// of function name (as "controlplane/source" for
// "github.com/isobar-dev/isobar/controlplane/source.(*loader).add").
func modulePackage(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, modulePrefix)
	if !ok {
		return "", false
	}
	slash := strings.LastIndexByte(rest, '/')
	dot := strings.IndexByte(rest[slash+1:], '.')
	if dot < 0 {
		return rest, true
	}
	return rest[:slash+1+dot], true
}

// parts returns the budget's parts, largest first (then by name).
func (h heapBudget) parts() []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if h[out[i]] != h[out[j]] {
			return h[out[i]] > h[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// metricName is the unit of part's benchmark metric, as
// "MB-live-xds-messages".
func metricName(part string) string {
	return "MB-live-" + strings.ReplaceAll(part, " ", "-")
}
