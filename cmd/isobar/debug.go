package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"
)

// serveDebug serves Go's profiles under /debug/pprof/ on address:port, as
// Contour does on its debug port (loopback by default: profiles show what
// the process holds). A port of 0 turns it off. The port is a convenience:
// when it cannot be opened (another process on the same machine has it) the
// failure is logged and serving goes on. The returned function stops it.
func serveDebug(address string, port int, log *slog.Logger) (stop func()) {
	if port == 0 {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
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
