package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/sim/gen"
)

func newGenCmd() *cobra.Command {
	o := gen.DefaultOptions()
	var out string
	cmd := &cobra.Command{
		Use:   "gen [-o FILE]",
		Short: "Write a synthetic cluster (benchmark corpus) as multi-document YAML",
		Long: `gen writes a synthetic cluster: Namespaces, Services with endpoints, TLS
Secrets, HTTPProxies (roots and included children) and Ingresses. The same
flags always give the same bytes. The benchmark corpora are
  S1k:  isobar gen --proxies 1000  --ingresses 100  --seed 7
  S10k: isobar gen --proxies 10000 --ingresses 1000 --seed 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var w io.Writer = cmd.OutOrStdout()
			if out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				bw := bufio.NewWriter(f)
				defer bw.Flush()
				w = bw
			}
			st, err := gen.Write(w, o)
			if err != nil {
				return exitWith(exitBadInput, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "isobar gen: %d objects, %d endpoint addresses\n", st.Objects, st.Addresses)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Proxies, "proxies", o.Proxies, "HTTPProxies to write (roots and included children)")
	f.IntVar(&o.Routes, "routes", o.Routes, "routes per HTTPProxy")
	f.IntVar(&o.Ingresses, "ingresses", o.Ingresses, "Ingresses to write")
	f.IntVar(&o.Namespaces, "namespaces", o.Namespaces, "namespaces the objects are spread over")
	f.IntVar(&o.Endpoints, "endpoints", o.Endpoints, "ready endpoints per Service")
	f.IntVar(&o.ServicesPerProxy, "services-per-proxy", o.ServicesPerProxy, "Services each HTTPProxy routes to")
	f.IntVar(&o.CertPool, "cert-pool", o.CertPool, "distinct certificates reused by the TLS Secrets (1-4)")
	f.Float64Var(&o.TLSFrac, "tls-frac", o.TLSFrac, "fraction of roots and Ingresses with TLS")
	f.Float64Var(&o.IncludeFrac, "include-frac", o.IncludeFrac, "fraction of HTTPProxies included by a root")
	f.Float64Var(&o.WeightedFrac, "weighted-frac", o.WeightedFrac, "fraction of routes split 90/10 over two Services")
	f.Float64Var(&o.HeaderFrac, "header-frac", o.HeaderFrac, "fraction of routes with a header condition")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the pseudo-random choices")
	f.StringVar(&o.EndpointKind, "endpoint-kind", o.EndpointKind, "endpointslices, endpoints or both")
	f.StringVar(&o.Domain, "domain", o.Domain, "DNS suffix of every host")
	f.StringVarP(&out, "output", "o", "-", "output file, - for standard output")
	return cmd
}
