package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/isobar-dev/isobar/operator/drain"
)

// adminEndpoint points d at Envoy's admin interface: address:port, or the
// unix socket address when it is an absolute path (Contour's bootstrap
// puts it at /admin/admin.sock). It returns a description for logs, or an
// error for a port out of range.
func adminEndpoint(d *drain.Drainer, address string, port int) (string, error) {
	if filepath.IsAbs(address) {
		d.Admin = "http://envoy-admin"
		d.Client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", address)
			}}}
		return "unix:" + address, nil
	}
	if port < 1 || port > 65535 {
		return "", fmt.Errorf("--admin-port %d: not a port number (1-65535)", port)
	}
	d.Admin = "http://" + net.JoinHostPort(address, strconv.Itoa(port))
	return d.Admin, nil
}

// ignoreStats leaves the stats listener on port out of the counts.
func ignoreStats(d *drain.Drainer, port int) {
	if port > 0 {
		d.Ignore = []string{"0.0.0.0_" + strconv.Itoa(port), "[__]_" + strconv.Itoa(port)}
	}
}

// envoyShutdownFlags are the flags of `isobar envoy shutdown`, Contour's.
type envoyShutdownFlags struct {
	adminAddress         string
	adminPort, statsPort int
	drainDelay           time.Duration
	readyFile            string
	drain                drain.Drainer
}

// newShutdownCmd is `isobar envoy shutdown`, the command Contour's Envoy
// DaemonSet runs as the shutdown-manager container's preStop hook.
func newShutdownCmd() *cobra.Command {
	f := envoyShutdownFlags{adminAddress: "127.0.0.1", adminPort: 9001, statsPort: 8002, readyFile: "/admin/ok",
		drain: drain.Drainer{Interval: 5 * time.Second, Timeout: 270 * time.Second}}
	cmd := &cobra.Command{
		Use:   "shutdown",
		Short: "Drain Envoy now and return when it is drained (Contour's preStop command)",
		Long: `shutdown drains Envoy and returns once it is drained, as Contour's "envoy
shutdown" does in the preStop hook of Contour's shutdown-manager container:
after --drain-delay it fails Envoy's health checks, asks it to drain its
listeners gracefully, waits --check-delay, then counts the connections open
on its listeners every --check-interval until at most --min-open-connections
are left (or --drain-timeout passes), and creates --ready-file. The admin
interface is --admin-address:--admin-port, or a unix socket when
--admin-address is a path (Contour's bootstrap: /admin/admin.sock).
isobar envoy shutdown-manager drains the same way when its /shutdown is
called: the two may run together.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEnvoyShutdown(cmd.Context(), &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.adminAddress, "admin-address", f.adminAddress, "Envoy's admin address, or the path of its unix socket")
	fl.IntVar(&f.adminPort, "admin-port", f.adminPort, "Envoy's admin port")
	fl.IntVar(&f.statsPort, "stats-port", f.statsPort, "port of Envoy's stats-health listener, whose connections are not counted")
	fl.DurationVar(&f.drainDelay, "drain-delay", 0, "wait this long before failing Envoy's health checks")
	fl.DurationVar(&f.drain.Delay, "check-delay", 0, "wait this long after that before counting connections")
	fl.DurationVar(&f.drain.Interval, "check-interval", f.drain.Interval, "time between two counts of open connections")
	fl.IntVar(&f.drain.MinOpen, "min-open-connections", 0, "Envoy is drained when at most this many connections are open")
	fl.DurationVar(&f.drain.Timeout, "drain-timeout", f.drain.Timeout, "give up after this long (keep it below the pod's terminationGracePeriodSeconds)")
	fl.StringVar(&f.readyFile, "ready-file", f.readyFile, "file created once Envoy is drained; empty: none")
	return cmd
}

func runEnvoyShutdown(parent context.Context, f *envoyShutdownFlags) error {
	admin, err := adminEndpoint(&f.drain, f.adminAddress, f.adminPort)
	if err != nil {
		return exitWith(exitBadInput, err)
	}
	ignoreStats(&f.drain, f.statsPort)
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	log.Info("draining Envoy", "admin", admin, "drain-delay", f.drainDelay.String())
	select {
	case <-time.After(f.drainDelay):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := f.drain.Drain(ctx); err != nil {
		return err
	}
	if f.readyFile != "" {
		if err := os.WriteFile(f.readyFile, nil, 0o644); err != nil {
			return err
		}
	}
	log.Info("Envoy drained", "ready-file", f.readyFile)
	return nil
}

// contourShutdownManagerFlags makes shutdown-manager take the flags of
// Contour's: --serve-port (its --port) and --ready-file, which it does not
// need (its /shutdown drains Envoy itself instead of waiting for the file
// Contour's preStop command writes).
func contourShutdownManagerFlags(cmd *cobra.Command) {
	var readyFile string
	fl := cmd.Flags()
	fl.StringVar(&readyFile, "ready-file", "/admin/ok", "Contour's: the file its /shutdown waits for; Isobar's drains Envoy itself, so it is not read")
	_ = fl.MarkHidden("ready-file")
	fl.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "serve-port" {
			name = "port"
		}
		return pflag.NormalizedName(name)
	})
}
