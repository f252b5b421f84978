package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/sim/scenario"
)

func newSimCmd() *cobra.Command {
	var update bool
	var goldenDir string
	cmd := &cobra.Command{
		Use:   "sim [SCENARIO.yaml...]",
		Short: "Replay scenarios step by step and check statuses, requests and golden xDS",
		Long: `sim replays scenarios (default: fixtures/scenarios/*.yaml). Each step applies,
updates or deletes objects, then checks the statuses, findings and request
answers it expects and compares the whole output with its golden
(golden/scenarios/<scenario>/<step>.yaml). Every step is also checked for
transition safety (a probe request routed before the step is still routed
after it, unless listed in allowUnrouted) and order independence.

--update rewrites the goldens. Exit codes: 0 pass, 1 mismatch (with a
unified diff), 2 bad input.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files := args
			if len(files) == 0 {
				var err error
				if files, err = filepath.Glob(filepath.Join("fixtures", "scenarios", "*.yaml")); err != nil {
					return exitWith(exitBadInput, err)
				}
				sort.Strings(files)
			}
			if len(files) == 0 {
				return exitWith(exitBadInput, fmt.Errorf("no scenarios: give files or run from a folder with fixtures/scenarios/"))
			}
			failed := false
			for _, f := range files {
				sc, err := scenario.Load(f)
				if err != nil {
					return exitWith(exitBadInput, err)
				}
				res, err := scenario.Run(sc, scenario.RunOptions{GoldenDir: goldenDir, Update: update})
				if err != nil {
					return exitWith(exitBadInput, err)
				}
				writeSim(cmd.OutOrStdout(), res, update)
				failed = failed || res.Failed()
			}
			if failed {
				return exitWith(exitFindings, nil)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&update, "update", false, "rewrite the golden files")
	cmd.Flags().StringVar(&goldenDir, "golden-dir", filepath.Join("golden", "scenarios"), "folder of the scenario goldens")
	return cmd
}

func writeSim(w io.Writer, res *scenario.Result, update bool) {
	fmt.Fprintf(w, "scenario %s\n", res.Scenario)
	for _, s := range res.Steps {
		mark := "PASS"
		if len(s.Failures) > 0 || s.Diff != "" {
			mark = "FAIL"
		}
		if update {
			mark += " (golden updated)"
		}
		fmt.Fprintf(w, "  %s  %s\n", mark, s.Name)
		for _, f := range s.Failures {
			fmt.Fprintf(w, "      %s\n", f)
		}
		if s.Diff != "" {
			fmt.Fprintf(w, "      the xDS differs from %s:\n", s.Golden)
			fmt.Fprint(w, s.Diff)
		}
	}
}
