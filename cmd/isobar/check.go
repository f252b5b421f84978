package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

func newCheckCmd() *cobra.Command {
	var in inputFlags
	var output, failOn string
	cmd := &cobra.Command{
		Use:   "check -f PATH...",
		Short: "Report invalid objects, conflicts, shadowed routes and other findings",
		Long: `check reads Kubernetes manifests and prints every finding: invalid objects
(with Contour's status reasons), routes two objects claim, duplicate hosts,
shadowed routes, missing Services, undelegated Secrets, ignored objects.
Each finding says where its objects are (file and line); -o github prints
them as GitHub Actions annotations on those lines.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			threshold, err := parseSeverity(failOn)
			if err != nil {
				return err
			}
			in.wantOrigins = true
			res, problems, err := in.compileInputs(cmd)
			if err != nil {
				return err
			}
			findings := res.AllFindings()
			rep := checkReport{Findings: locate(findings, in.origins), Problems: problemsJSON(problems), Summary: summarize(res.Statuses, findings)}
			switch output {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			case "text", "":
				writeCheckText(cmd.OutOrStdout(), rep)
			case "github":
				writeCheckGitHub(cmd.OutOrStdout(), rep, problems)
			default:
				return exitWith(exitBadInput, fmt.Errorf("unknown output format %q: use text, json or github", output))
			}
			switch {
			case len(problems) > 0:
				return exitWith(exitBadInput, nil)
			case threshold >= 0 && maxRank(findings) >= threshold:
				return exitWith(exitFindings, nil)
			}
			return nil
		},
	}
	in.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json, or github (GitHub Actions annotations on each object's file and line)")
	cmd.Flags().StringVar(&failOn, "fail-on", "error", "exit 1 when a finding is at least this severe: error, warning, info or never")
	return cmd
}

// checkReport is what `isobar check -o json` prints.
type checkReport struct {
	Findings []checkFinding `json:"findings"`
	Problems []problemJSON  `json:"problems"`
	Summary  checkSummary   `json:"summary"`
}

type problemJSON struct {
	Error string `json:"error"`
}

type checkSummary struct {
	Objects  int `json:"objects"`
	Valid    int `json:"valid"`
	Invalid  int `json:"invalid"`
	Orphaned int `json:"orphaned"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Info     int `json:"info"`
}

func problemsJSON(ps []source.Problem) []problemJSON {
	out := []problemJSON{}
	for _, p := range ps {
		out = append(out, problemJSON{Error: p.Error()})
	}
	return out
}

func summarize(objs []status.Object, findings []status.Finding) checkSummary {
	s := checkSummary{Objects: len(objs)}
	for _, o := range objs {
		switch o.CurrentStatus {
		case status.Valid:
			s.Valid++
		case status.Invalid:
			s.Invalid++
		case status.Orphaned:
			s.Orphaned++
		}
	}
	for _, f := range findings {
		switch f.Severity {
		case status.SeverityError:
			s.Errors++
		case status.SeverityWarning:
			s.Warnings++
		default:
			s.Info++
		}
	}
	return s
}

func writeCheckText(w io.Writer, rep checkReport) {
	if len(rep.Findings) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEVERITY\tCODE\tOBJECT\tWHERE\tMESSAGE")
		for _, f := range rep.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Severity, f.Code, objectNames(f.Finding), f.where(), f.Message)
		}
		tw.Flush()
	}
	writeSummary(w, rep.Summary)
}

// writeSummary prints the closing line: objects by status, findings by
// severity.
func writeSummary(w io.Writer, s checkSummary) {
	fmt.Fprintf(w, "%d objects: %d valid, %d invalid, %d orphaned; %d errors, %d warnings, %d info\n",
		s.Objects, s.Valid, s.Invalid, s.Orphaned, s.Errors, s.Warnings, s.Info)
}

// parseSeverity turns a --fail-on value into a rank; "never" is -1.
func parseSeverity(s string) (int, error) {
	switch s {
	case "error":
		return status.SeverityError.Rank(), nil
	case "warning":
		return status.SeverityWarning.Rank(), nil
	case "info":
		return status.SeverityInfo.Rank(), nil
	case "never":
		return -1, nil
	}
	return 0, exitWith(exitBadInput, fmt.Errorf("unknown --fail-on %q: use error, warning, info or never", s))
}

func maxRank(fs []status.Finding) int {
	m := -1
	for _, f := range fs {
		if r := f.Severity.Rank(); r > m {
			m = r
		}
	}
	return m
}
