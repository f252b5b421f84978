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

// adminFlags say where Envoy's admin interface is and which listener the
// drains leave out of their counts: the flags both drain commands share.
type adminFlags struct {
	adminAddress         string
	adminPort, statsPort int
	// fs is the flag set, to tell whether --admin-address was given.
	fs *pflag.FlagSet
}

// contourAdminSocket is where Contour's bootstrap puts Envoy's admin
// interface, in a volume its DaemonSet shares with the shutdown manager.
var contourAdminSocket = "/admin/admin.sock"

// register adds the flags, and those of d's counts, to fl.
func (a *adminFlags) register(fl *pflag.FlagSet, d *drain.Drainer) {
	a.fs = fl
	fl.StringVar(&a.adminAddress, "admin-address", a.adminAddress, "Envoy's admin address, or the path of its unix socket (Contour's bootstrap: /admin/admin.sock)")
	fl.IntVar(&a.adminPort, "admin-port", a.adminPort, "Envoy's admin port")
	fl.IntVar(&a.statsPort, "stats-port", a.statsPort, "port of Envoy's stats-health listener, whose connections are not counted")
	fl.DurationVar(&d.Interval, "check-interval", d.Interval, "time between two counts of open connections")
	fl.IntVar(&d.MinOpen, "min-open-connections", 0, "Envoy is drained when at most this many connections are open")
	fl.DurationVar(&d.Timeout, "drain-timeout", d.Timeout, "give up draining after this long (keep it below the pod's terminationGracePeriodSeconds)")
}

// apply points d at the admin interface: address:port, or the unix socket
// address when it is an absolute path; without --admin-address, Contour's
// socket when it exists (an Envoy started from Contour's bootstrap). The
// stats listener is not counted. It returns a description for logs, or an
// error for a port out of range.
func (a adminFlags) apply(d *drain.Drainer) (string, error) {
	if a.fs != nil && !a.fs.Changed("admin-address") {
		if fi, err := os.Stat(contourAdminSocket); err == nil && fi.Mode()&os.ModeSocket != 0 {
			a.adminAddress = contourAdminSocket
		}
	}
	if a.statsPort > 0 {
		d.Ignore = []string{"0.0.0.0_" + strconv.Itoa(a.statsPort), "[__]_" + strconv.Itoa(a.statsPort)}
	}
	if filepath.IsAbs(a.adminAddress) {
		d.Admin = "http://envoy-admin"
		d.Client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", a.adminAddress)
			}}}
		return "unix:" + a.adminAddress, nil
	}
	if a.adminPort < 1 || a.adminPort > 65535 {
		return "", fmt.Errorf("--admin-port %d: not a port number (1-65535)", a.adminPort)
	}
	d.Admin = "http://" + net.JoinHostPort(a.adminAddress, strconv.Itoa(a.adminPort))
	return d.Admin, nil
}

// envoyShutdownFlags are the flags of `isobar envoy shutdown`, Contour's.
type envoyShutdownFlags struct {
	admin      adminFlags
	drainDelay time.Duration
	readyFile  string
	drain      drain.Drainer
}

// newShutdownCmd is `isobar envoy shutdown`, the command Contour's Envoy
// DaemonSet runs as the shutdown-manager container's preStop hook.
func newShutdownCmd() *cobra.Command {
	f := envoyShutdownFlags{admin: adminFlags{adminAddress: "127.0.0.1", adminPort: 9001, statsPort: 8002}, readyFile: "/admin/ok",
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
	f.admin.register(fl, &f.drain)
	fl.DurationVar(&f.drainDelay, "drain-delay", 0, "wait this long before failing Envoy's health checks")
	fl.DurationVar(&f.drain.Delay, "check-delay", 0, "wait this long after that before counting connections")
	fl.StringVar(&f.readyFile, "ready-file", f.readyFile, "file created once Envoy is drained; empty: none")
	return cmd
}

func runEnvoyShutdown(parent context.Context, f *envoyShutdownFlags) error {
	admin, err := f.admin.apply(&f.drain)
	if err != nil {
		return exitWith(exitBadInput, err)
	}
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
