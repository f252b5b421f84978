package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/isobar-dev/isobar/controlplane/bootstrap"
)

func newBootstrapCmd() *cobra.Command {
	o := bootstrap.Defaults()
	cmd := &cobra.Command{
		Use:   "bootstrap PATH|-",
		Short: "Write Envoy's bootstrap configuration pointing at the Isobar xDS server",
		Long: `bootstrap writes Envoy's bootstrap JSON: the admin endpoint (an address and
port, or a unix socket path), one static cluster for the xDS server (HTTP/2
with keepalives) and every resource type over one ADS stream. With
--xds-ca-file, --xds-cert-file and --xds-key-file Envoy talks TLS to the
xDS server; with --resources-dir as well, the certificates are referenced
through SDS files Envoy watches, so they rotate without a restart.

The admin endpoint controls Envoy (it can stop it and dump its secrets), so
it stays on a local address; the static cluster envoy-admin reaches it. The
listener that forwards only GET /ready, /stats and /stats/prometheus to it,
stats-health (probe readiness and scrape metrics there), comes from
isobar serve over LDS (its --stats-address:--stats-port, 0.0.0.0:8002), as
Contour serves it; --stats-port here adds a static one instead, for an xDS
server that does not serve it (then run serve with --stats-port 0).

Without --admin-address and --admin-port, in a container where the folder
/admin exists (Contour's Envoy DaemonSet shares it between Envoy and its
shutdown manager), the admin endpoint is the unix socket /admin/admin.sock,
as Contour's bootstrap puts it: nothing in the pod's network, nor a
kubectl port-forward, reaches it; elsewhere it is 127.0.0.1:9001.

It runs as the init container of the Envoy pods:
  isobar bootstrap --xds-address=contour /config/envoy.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("admin-address") && !cmd.Flags().Changed("admin-port") {
				o.AdminAddress = defaultAdminAddress(o.AdminAddress)
			}
			if args[0] == "-" {
				b, err := bootstrap.Build(o)
				if err != nil {
					return exitWith(exitBadInput, err)
				}
				data, err := bootstrap.JSON(b)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := bootstrap.Write(args[0], o); err != nil {
				return exitWith(exitBadInput, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "isobar bootstrap: wrote %s\n", args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.XDSAddress, "xds-address", o.XDSAddress, "address of the Isobar xDS server (IP or DNS name)")
	f.Uint32Var(&o.XDSPort, "xds-port", o.XDSPort, "port of the Isobar xDS server")
	f.StringVar(&o.AdminAddress, "admin-address", o.AdminAddress, "Envoy admin address, or an absolute unix socket path")
	f.Uint32Var(&o.AdminPort, "admin-port", o.AdminPort, "Envoy admin port")
	f.StringVar(&o.StatsAddress, "stats-address", o.StatsAddress, "address of a static stats-health listener (GET /ready, /stats, /stats/prometheus)")
	f.Uint32Var(&o.StatsPort, "stats-port", o.StatsPort, "port of a static stats-health listener; 0 (the default): none, serve sends it over LDS")
	f.StringVar(&o.NodeID, "node-id", o.NodeID, "Envoy node id")
	f.StringVar(&o.Cluster, "cluster", o.Cluster, "Envoy node cluster")
	f.StringVar(&o.CAFile, "xds-ca-file", "", "CA bundle that signed the xDS server's certificate")
	f.StringVar(&o.CertFile, "xds-cert-file", "", "Envoy's client certificate for the xDS server")
	f.StringVar(&o.KeyFile, "xds-key-file", "", "Envoy's client key for the xDS server")
	f.StringVar(&o.ResourcesDir, "resources-dir", "", "write SDS files for the xDS certificates here (rotation without restart)")
	f.StringVar((*string)(&o.Protocol), "xds-protocol", string(o.Protocol), "ADS variant: delta (only changed resources are sent) or sotw (state of the world)")
	f.StringVar(&o.DNSLookupFamily, "dns-lookup-family", "", "how the xDS server's name resolves: auto, v4, v6 or all (as Contour's; default auto)")
	f.Uint64Var(&o.MaxHeapBytes, "overload-max-heap", 0,
		"Envoy's heap limit in bytes: its overload manager shrinks the heap at 95 % and stops accepting requests at 98 % (as Contour's; default: none)")
	f.Int64Var(&o.MaxDownstreamConnections, "overload-downstream-max-conn", 0,
		"Envoy's limit of downstream connections, over every listener (as Contour's; default: none)")
	registerContourBootstrapFlags(f, &o)
	return cmd
}

// registerContourBootstrapFlags accepts the arguments of Contour's
// `contour bootstrap` that Isobar names differently or does not need, so
// that an Envoy DaemonSet written for Contour runs unchanged: its xDS TLS
// files, its namespace (Contour's alternative stat names; not used) and
// the xDS resource version (v3 only). They are hidden from the help.
func registerContourBootstrapFlags(f *pflag.FlagSet, o *bootstrap.Options) {
	f.StringVar(&o.CAFile, "envoy-cafile", "", "Contour's name of --xds-ca-file")
	f.StringVar(&o.CertFile, "envoy-cert-file", "", "Contour's name of --xds-cert-file")
	f.StringVar(&o.KeyFile, "envoy-key-file", "", "Contour's name of --xds-key-file")
	f.String("namespace", "projectcontour", "Contour's namespace of the Envoy pods (accepted, not used)")
	f.StringVar(&o.ResourceVersion, "xds-resource-version", "v3", "the xDS API version: v3")
	for _, name := range []string{"envoy-cafile", "envoy-cert-file", "envoy-key-file", "namespace", "xds-resource-version"} {
		_ = f.MarkHidden(name)
	}
}

// contourAdminDir is the folder Contour's Envoy DaemonSet shares between
// Envoy and its shutdown manager, holding the admin socket.
var contourAdminDir = "/admin"

// defaultAdminAddress is the admin endpoint when none is given: Contour's
// socket in contourAdminDir when that folder exists, else fallback.
func defaultAdminAddress(fallback string) string {
	if info, err := os.Stat(contourAdminDir); err == nil && info.IsDir() {
		return filepath.Join(contourAdminDir, "admin.sock")
	}
	return fallback
}
