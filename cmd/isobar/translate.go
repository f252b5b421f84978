package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

func newTranslateCmd() *cobra.Command {
	var in inputFlags
	var output string
	var showSecrets bool
	cmd := &cobra.Command{
		Use:   "translate -f PATH...",
		Short: "Print the Envoy xDS and every object's status for a set of manifests",
		Long: `translate reads Kubernetes manifests and prints, as one deterministic document,
the Envoy configuration Isobar would serve (listeners, routes, clusters,
endpoints, secrets: shaped like Envoy's config dump) and the status and
findings of every object. Private keys are redacted unless --show-secrets.

Exit codes: 0 ok, 2 bad input (what could be read is still printed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseFormat(output)
			if err != nil {
				return err
			}
			res, problems, err := in.compileInputs(cmd)
			if err != nil {
				return err
			}
			// Only the document is printed. The graph and the decoded objects
			// are most of the live heap: a collection started now, while
			// encoding begins, frees them before the encodings pile up
			// (without it the peak heap is about 25 % higher).
			doc := xds.Document{Resources: res.Resources, Status: res.Statuses, Findings: res.Findings}
			res = nil
			go runtime.GC()
			if err := xds.Marshal(cmd.OutOrStdout(), doc, xds.MarshalOptions{Format: format, ShowSecrets: showSecrets}); err != nil {
				return err
			}
			timings.mark("written")
			if len(problems) > 0 {
				return exitWith(exitBadInput, unreadable(problems))
			}
			return nil
		},
	}
	in.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print private keys instead of redacting them")
	return cmd
}

// parseFormat checks an -o value for commands that print documents.
func parseFormat(s string) (xds.Format, error) {
	switch s {
	case "yaml", "":
		return xds.YAML, nil
	case "json":
		return xds.JSON, nil
	}
	return "", exitWith(exitBadInput, fmt.Errorf("unknown output format %q: use yaml or json", s))
}
