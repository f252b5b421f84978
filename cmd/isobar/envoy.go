package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/operator/drain"
)

func newEnvoyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "envoy",
		Short: "Commands that run next to Envoy in its pod",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newShutdownManagerCmd(), newShutdownCmd())
	return cmd
}

// shutdownFlags are the flags of `isobar envoy shutdown-manager`.
type shutdownFlags struct {
	address string
	port    int
	admin   adminFlags
	drain   drain.Drainer
}

func newShutdownManagerCmd() *cobra.Command {
	f := shutdownFlags{address: "0.0.0.0", port: 8090, admin: adminFlags{adminAddress: "127.0.0.1", adminPort: 9001, statsPort: 8002},
		drain: drain.Drainer{Delay: 5 * time.Second, Interval: time.Second, Timeout: 270 * time.Second}}
	cmd := &cobra.Command{
		Use:   "shutdown-manager",
		Short: "Drain Envoy before its pod stops (the Envoy pod's sidecar)",
		Long: `shutdown-manager runs next to Envoy and drains it when the pod stops. Both
containers' preStop hooks call GET /shutdown on --port: the first call fails
Envoy's health checks (its /ready turns 503 and the pod leaves the Service's
endpoints), asks Envoy to drain its listeners gracefully (responses close
their connections, HTTP/2 clients get a GOAWAY) and, after --drain-delay,
counts the connections still open on Envoy's listeners every
--check-interval until at most --min-open-connections are left or
--drain-timeout passes. Every call answers when that drain ends (200, or 500
with the reason), so Kubernetes sends Envoy its SIGTERM only then. The stats
listener (--stats-port) and the admin interface are not counted.
GET /healthz answers 200.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runShutdownManager(cmd.Context(), &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.address, "address", f.address, "address of /shutdown and /healthz")
	fl.IntVar(&f.port, "port", f.port, "port of /shutdown and /healthz")
	f.admin.register(fl, &f.drain)
	fl.DurationVar(&f.drain.Delay, "drain-delay", f.drain.Delay, "wait this long after failing Envoy's health checks before counting connections")
	contourShutdownManagerFlags(cmd)
	return cmd
}

func runShutdownManager(parent context.Context, f *shutdownFlags) error {
	if f.port < 1 || f.port > 65535 {
		return exitWith(exitBadInput, fmt.Errorf("--port %d: not a port number (1-65535)", f.port))
	}
	d := &f.drain
	admin, err := f.admin.apply(d)
	if err != nil {
		return exitWith(exitBadInput, err)
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	handler := drain.Manager(d)
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/shutdown" {
			log.Info("draining Envoy", "admin", admin, "caller", r.RemoteAddr)
			defer log.Info("drain request answered", "caller", r.RemoteAddr)
		}
		handler.ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: net.JoinHostPort(f.address, strconv.Itoa(f.port)), Handler: logged, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	log.Info("shutdown manager listening", "address", ln.Addr().String(), "admin", admin)
	go func() {
		<-ctx.Done()
		// The preStop hooks have returned by now (Kubernetes signals a
		// container after its hook); let their answers go out.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
