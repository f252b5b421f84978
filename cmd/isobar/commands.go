package main

import "github.com/spf13/cobra"

// commands lists every subcommand in the order `isobar --help` shows them.
func commands() []*cobra.Command {
	return []*cobra.Command{
		newTranslateCmd(),
		newCheckCmd(),
		newRouteCmd(),
		newDiffCmd(),
		newSimCmd(),
		newGenCmd(),
		newServeCmd(),
		newBootstrapCmd(),
		newOperatorCmd(),
		newEnvoyCmd(),
		newCertgenCmd(),
		newCliCmd(),
	}
}
