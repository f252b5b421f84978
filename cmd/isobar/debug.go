package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// serveDebug serves Go's profiles under /debug/pprof/ on address:port, as
// Contour does on its debug port (loopback by default: profiles show what
// the process holds), and /debug/config from latest when it is not nil. A
// port of 0 turns it off. The port is a convenience:
// when it cannot be opened (another process on the same machine has it) the
// failure is logged and serving goes on. The returned function stops it.
func serveDebug(address string, port int, log *slog.Logger, latest *atomic.Pointer[controlplane.Result]) (stop func()) {
	if port == 0 {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if latest != nil {
		mux.Handle("/debug/config", configHandler{latest})
	}
	addr := net.JoinHostPort(address, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Warn("debug endpoint not served", "address", addr, "error", err)
		return func() {}
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug endpoint stopped", "error", err)
		}
	}()
	log.Info("serving profiles", "address", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}

// configHandler answers /debug/config with the configuration being served,
// as `isobar translate` prints it (listeners, routes, clusters, endpoints,
// secrets with private keys redacted, statuses and findings), in YAML or,
// with ?format=json, JSON: `isobar route --xds` reads it to explain where
// a request goes in the live configuration. 503 before the first build.
type configHandler struct {
	latest *atomic.Pointer[controlplane.Result]
}

// ServeHTTP writes the configuration being served, as translate prints it.
func (h configHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res := h.latest.Load()
	if res == nil {
		http.Error(w, "no configuration built yet", http.StatusServiceUnavailable)
		return
	}
	format := xds.YAML
	switch r.URL.Query().Get("format") {
	case "", "yaml":
	case "json":
		format = xds.JSON
	default:
		http.Error(w, "format: yaml or json", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", map[xds.Format]string{xds.YAML: "application/yaml", xds.JSON: "application/json"}[format])
	doc := xds.Document{Resources: res.Resources, Status: res.Statuses, Findings: res.Findings}
	_ = xds.Marshal(w, doc, xds.MarshalOptions{Format: format}) // a failure mid-body can only cut it short
}
