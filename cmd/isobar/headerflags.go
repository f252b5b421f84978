package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// headerFlags are the flags of Contour's global header policy (its
// configuration file's policy mapping).
type headerFlags struct {
	requestSet, requestRemove, responseSet, responseRemove []string
	applyToIngress                                         bool
}

func (f *headerFlags) register(cmd *cobra.Command) {
	for _, d := range []struct {
		name string
		to   *[]string
		what string
	}{
		{"policy-request-header-set", &f.requestSet, "NAME=VALUE: a header set on requests to every Service, unless its own policy sets it"},
		{"policy-request-header-remove", &f.requestRemove, "a header removed from requests to every Service"},
		{"policy-response-header-set", &f.responseSet, "NAME=VALUE: a header set on the responses of every Service, unless its own policy sets it"},
		{"policy-response-header-remove", &f.responseRemove, "a header removed from the responses of every Service"},
	} {
		cmd.Flags().StringArrayVar(d.to, d.name, nil, d.what+" routed by an HTTPProxy (and an Ingress with --policy-apply-to-ingress); repeatable (Contour's policy."+
			strings.Split(strings.TrimPrefix(d.name, "policy-"), "-header")[0]+"-headers)")
	}
	cmd.Flags().BoolVar(&f.applyToIngress, "policy-apply-to-ingress", false,
		"apply the --policy-*-header-* headers to the Services of Ingresses too (Contour's policy.applyToIngress)")
}

// headers returns the policy the flags describe, or an error naming the
// first flag whose value is not valid.
func (f *headerFlags) headers() (graph.GlobalHeaders, error) {
	out := graph.GlobalHeaders{ApplyToIngress: f.applyToIngress}
	for _, p := range []struct {
		kind        string
		set, remove []string
		to          *graph.HeadersPolicy
	}{{"request", f.requestSet, f.requestRemove, &out.Request}, {"response", f.responseSet, f.responseRemove, &out.Response}} {
		for _, s := range p.set {
			name, value, ok := strings.Cut(s, "=")
			if !ok {
				return out, fmt.Errorf("--policy-%s-header-set %q: must be NAME=VALUE", p.kind, s)
			}
			if err := graph.CheckGlobalHeader(name, value); err != nil {
				return out, fmt.Errorf("--policy-%s-header-set %q: %w", p.kind, s, err)
			}
			p.to.Set = append(p.to.Set, graph.Header{Name: name, Value: value})
		}
		for _, n := range p.remove {
			if err := graph.CheckGlobalHeader(n, ""); err != nil {
				return out, fmt.Errorf("--policy-%s-header-remove %q: %w", p.kind, n, err)
			}
			p.to.Remove = append(p.to.Remove, n)
		}
		sort.SliceStable(p.to.Set, func(i, j int) bool { return p.to.Set[i].Name < p.to.Set[j].Name })
	}
	return out, nil
}

// setHeadersFromConfig sets the flags of policy.request-headers or
// policy.response-headers (k) from v, a mapping of set (names to values)
// and remove (a list of names), unless the command line set them. It
// returns the headers it leaves out: Host, which Contour sets on requests
// as a rewrite of their authority and Isobar's global policy does not.
func setHeadersFromConfig(cmd *cobra.Command, path, k string, v any) (ignored []string, err error) {
	kind := strings.TrimSuffix(strings.TrimPrefix(k, "policy."), "-headers")
	setFlag, removeFlag := "policy-"+kind+"-header-set", "policy-"+kind+"-header-remove"
	m, ok := v.(map[string]any)
	if v != nil && !ok {
		return nil, fmt.Errorf("%s: %s: must be a mapping of set and remove", path, k)
	}
	var sets, removes []string
	for _, key := range sortedKeys(m) {
		switch key {
		case "set":
			if sets, ignored, err = headerSets(path, k, kind, m[key]); err != nil {
				return nil, err
			}
		case "remove":
			if removes, err = headerRemoves(path, k, m[key]); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: %s: unknown key %q (set or remove)", path, k, key)
		}
	}
	if cmd.Flags().Changed(setFlag) || cmd.Flags().Changed(removeFlag) {
		return ignored, nil
	}
	for _, s := range [][2]any{{setFlag, sets}, {removeFlag, removes}} {
		for _, e := range s[1].([]string) {
			if err := cmd.Flags().Set(s[0].(string), e); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, k, err)
			}
		}
	}
	return ignored, nil
}

// headerSets reads the set mapping of a header policy as NAME=VALUE
// entries, sorted; a request's Host is returned as ignored.
func headerSets(path, k, kind string, v any) (sets, ignored []string, err error) {
	m, ok := v.(map[string]any)
	if v != nil && !ok {
		return nil, nil, fmt.Errorf("%s: %s.set: must be a mapping of header names to values", path, k)
	}
	for _, name := range sortedKeys(m) {
		var value string
		switch x := m[name].(type) {
		case string:
			value = x
		case float64, bool:
			value = fmt.Sprint(x)
		default:
			return nil, nil, fmt.Errorf("%s: %s.set.%s: must be a string", path, k, name)
		}
		if strings.EqualFold(name, "host") && kind == "request" {
			ignored = append(ignored, k+".set."+name)
			continue
		}
		if err := graph.CheckGlobalHeader(name, value); err != nil {
			return nil, nil, fmt.Errorf("%s: %s.set.%s: %w", path, k, name, err)
		}
		sets = append(sets, name+"="+value)
	}
	return sets, ignored, nil
}

// headerRemoves reads the remove list of a header policy.
func headerRemoves(path, k string, v any) ([]string, error) {
	list, ok := v.([]any)
	if v != nil && !ok {
		return nil, fmt.Errorf("%s: %s.remove: must be a list of header names", path, k)
	}
	out := make([]string, len(list))
	for i, x := range list {
		if out[i], ok = x.(string); !ok {
			return nil, fmt.Errorf("%s: %s.remove[%d]: must be a header name", path, k, i)
		}
		if err := graph.CheckGlobalHeader(out[i], ""); err != nil {
			return nil, fmt.Errorf("%s: %s.remove[%d]: %w", path, k, i, err)
		}
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
