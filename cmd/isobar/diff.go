package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/sim/diff"
	"github.com/isobar-dev/isobar/sim/router"
)

func newDiffCmd() *cobra.Command {
	var base, head []string
	var baseGit, requestsFile, output, failOn, namespace string
	var noProbes bool
	var cf compileFlags
	cmd := &cobra.Command{
		Use:   "diff (--base PATH... | --base-git REV) --head PATH...",
		Short: "Show what a change does: objects, statuses, xDS, and requests whose answer changes",
		Long: `diff compares two states of the manifests: objects added, removed or changed
(field by field), status changes (valid → invalid...), new and resolved
findings, xDS resources added, removed or changed, and — most useful in a
review — the requests whose answer changes (backends, weights, status or
redirect), before → after. The requests are those of --requests FILE plus,
unless --no-probes, one probe per route of every virtual host of both
states.

--base-git REV reads the --head paths as they are at a git revision: what a
CI job on a pull request has (isobar diff --base-git origin/main --head .).

Exit codes: 0 no change, 1 changes, 2 bad input, 3 a dangerous change (an
object becomes invalid, or a routed request becomes unrouted; --fail-on never
turns this into 1).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(head) == 0 || (len(base) == 0) == (baseGit == "") {
				return exitWith(exitBadInput, fmt.Errorf("give --head and exactly one of --base or --base-git"))
			}
			if failOn != "dangerous" && failOn != "never" {
				return exitWith(exitBadInput, fmt.Errorf("unknown --fail-on %q: use dangerous or never", failOn))
			}
			if baseGit != "" {
				dir, cleanup, err := gitSnapshot(baseGit, head)
				if err != nil {
					return exitWith(exitBadInput, err)
				}
				defer cleanup()
				base = dir
			}
			tuneBatchGC(diffHeapLimit)
			bs, hs, err := diffStates(cmd, namespace, cf.options(), base, head)
			if err != nil {
				return err
			}
			dopts := diff.Options{NoProbes: noProbes, Evaluate: evaluator()}
			if dopts.Requests, err = diffRequests(requestsFile); err != nil {
				return err
			}
			rep, err := diff.Compare(bs, hs, dopts)
			if err != nil {
				return err
			}
			timings.mark("compared")
			if err := writeDiff(cmd.OutOrStdout(), rep, output); err != nil {
				return err
			}
			timings.mark("written")
			switch {
			case len(rep.Dangers) > 0 && failOn == "dangerous":
				return exitWith(exitDanger, nil)
			case !rep.Empty():
				return exitWith(exitFindings, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&base, "base", nil, "file or folder of the state before the change (repeatable)")
	cmd.Flags().StringArrayVar(&head, "head", nil, "file or folder of the state after the change (repeatable)")
	cmd.Flags().StringVar(&baseGit, "base-git", "", "read the --head paths at this git revision as the base")
	cmd.Flags().StringVar(&requestsFile, "requests", "", "a YAML list of requests to compare (as for route --requests)")
	cmd.Flags().BoolVar(&noProbes, "no-probes", false, "compare only the --requests, not the probes derived from both states")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or markdown")
	cmd.Flags().StringVar(&failOn, "fail-on", "dangerous", "exit 3 on a dangerous change (dangerous) or never")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "namespace of objects that name none")
	cf.register(cmd)
	return cmd
}

// diffRequests reads the --requests file, if any.
func diffRequests(file string) ([]diff.Request, error) {
	if file == "" {
		return nil, nil
	}
	cases, err := router.LoadCases(file)
	if err != nil {
		return nil, exitWith(exitBadInput, err)
	}
	out := make([]diff.Request, 0, len(cases))
	for _, c := range cases {
		out = append(out, diff.Request{Name: c.Name, URL: c.URL, Method: c.Method, Headers: c.Headers, ClientIP: c.ClientIP})
	}
	return out, nil
}

// diffIndex loads one side.
func diffIndex(cmd *cobra.Command, namespace string, reuse *source.Reuse, paths []string, flag string) (*source.Index, error) {
	idx, problems := source.Load(source.LoadOptions{DefaultNamespace: namespace, Stdin: cmd.InOrStdin(), Reuse: reuse}, paths...)
	for _, p := range problems {
		fmt.Fprintf(cmd.ErrOrStderr(), "error: %s: %s\n", flag, p.Error())
	}
	if len(problems) > 0 {
		return nil, exitWith(exitBadInput, fmt.Errorf("%s: %w", flag, unreadable(problems)))
	}
	return idx, nil
}

// diffState compiles one side.
func diffState(idx *source.Index, opts controlplane.Options) (diff.State, error) {
	res, err := controlplane.Compile(idx, opts)
	if err != nil {
		return diff.State{}, fmt.Errorf("internal error (please report it): %w", err)
	}
	return diff.State{Index: idx, Result: res}, nil
}

// evaluator adapts the request router to diff, building one router per
// resource set.
func evaluator() diff.Evaluator {
	routers := map[*xds.Resources]*router.Router{}
	return func(res *xds.Resources, q diff.Request) (diff.Answer, error) {
		rt, ok := routers[res]
		if !ok {
			rt = router.New(res, router.Options{})
			routers[res] = rt
		}
		r := rt.Evaluate(router.Request{URL: q.URL, Method: q.Method, Headers: q.Headers, ClientIP: q.ClientIP})
		a := diff.Answer{Routed: r.Routed, Status: r.Status, Redirect: r.Redirect, Backends: []diff.Backend{}}
		if r.Route != nil {
			a.Source = r.Route.Source
		}
		for _, b := range r.Backends {
			a.Backends = append(a.Backends, diff.Backend{Namespace: b.Namespace, Service: b.Service, Port: b.Port, Weight: b.Weight})
		}
		return a, nil
	}
}

func writeDiff(w io.Writer, rep *diff.Report, output string) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "markdown", "md":
		diff.WriteMarkdown(w, rep)
	case "text", "":
		diff.WriteText(w, rep)
	default:
		return exitWith(exitBadInput, fmt.Errorf("unknown output format %q: use text, json or markdown", output))
	}
	return nil
}

// diffHeapLimit is the soft limit of a diff (tuneBatchGC): two S10k
// states allocate about 1.8 GB in all, so the collector then does not run.
const diffHeapLimit = 2 << 30

// diffStates reads and compiles both sides. The head is read after the
// base, reusing every document that did not change, while the base compiles
// (compiling only reads the shared objects).
func diffStates(cmd *cobra.Command, namespace string, opts controlplane.Options, base, head []string) (diff.State, diff.State, error) {
	reuse := source.NewReuse()
	bidx, err := diffIndex(cmd, namespace, reuse, base, "--base")
	if err != nil {
		return diff.State{}, diff.State{}, err
	}
	var bs diff.State
	var berr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		timings.mark("base read")
		if bs, berr = diffState(bidx, opts); berr == nil {
			timings.mark("base compiled")
			bs.Prepare() // while the head is read and compiled
			timings.mark("base prepared")
		}
	}()
	hidx, err := diffIndex(cmd, namespace, reuse, head, "--head")
	if err != nil {
		<-done
		return diff.State{}, diff.State{}, err
	}
	timings.mark("head read")
	hs, err := diffState(hidx, opts)
	timings.mark("head compiled")
	<-done
	if berr != nil {
		return diff.State{}, diff.State{}, berr
	}
	return bs, hs, err
}
