// Command isobar is the Isobar binary: the offline simulator (translate,
// check, route, diff, sim), the live control plane (serve, bootstrap) and the
// operator. Each subcommand lives in its own file; this one wires them.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command (see the README's command-line contract).
const (
	exitOK       = 0
	exitFindings = 1
	exitBadInput = 2
	exitDanger   = 3
)

// exitError carries a process exit code out of a command. A nil err exits
// silently with code.
type exitError struct {
	code int
	err  error
}

// Error returns the wrapped error's message, or the exit status without one.
func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "isobar",
		Short:         "Isobar: an Envoy ingress control plane and offline simulator for Contour's APIs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(commands()...)
	var cpuProfile string
	var showTimings bool
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (for performance reports)")
	root.PersistentFlags().BoolVar(&showTimings, "timings", false, "print when each phase of the command ended, on stderr (for performance reports)")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	_ = root.PersistentFlags().MarkHidden("timings")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		timings = nil
		if showTimings {
			timings = &phaseClock{w: cmd.ErrOrStderr(), start: time.Now()}
		}
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return nil
	}
	return root
}

// stopProfile ends a --cpuprofile profile; main calls it whatever the
// command returned.
var stopProfile = func() {}

func main() {
	err := newRootCmd().Execute()
	stopProfile()
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "isobar:", ee.err)
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "isobar:", err)
	os.Exit(exitBadInput)
}
