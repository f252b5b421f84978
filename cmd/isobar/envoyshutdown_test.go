package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestEnvoyShutdownOverUnixSocket: `isobar envoy shutdown`, Contour's
// preStop command, drains an Envoy whose admin is a unix socket (Contour's
// bootstrap) and creates the ready file once no connection is left.
func TestEnvoyShutdownOverUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "adm") // short: a socket path is limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock, ready := filepath.Join(dir, "admin.sock"), filepath.Join(dir, "ok")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var calls []string
	open := 2 // connections left: one fewer at each count
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		if r.URL.Path == "/stats" {
			w.Write([]byte("listener.0.0.0.0_8080.downstream_cx_active: " + string(rune('0'+open)) + "\n" +
				"listener.0.0.0.0_8002.downstream_cx_active: 5\n"))
			open = max(open-1, 0)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	// Without --admin-address, Contour's socket is found where its
	// bootstrap puts it.
	defer func(was string) { contourAdminSocket = was }(contourAdminSocket)
	contourAdminSocket = sock
	_, stderr, code := run(t, "", "envoy", "shutdown", "--ready-file", ready, "--check-interval", "10ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(ready); err != nil {
		t.Fatalf("no ready file: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"POST /healthcheck/fail", "POST /drain_listeners", "GET /stats", "GET /stats", "GET /stats"}
	if !slices.Equal(calls, want) {
		t.Fatalf("admin calls %v, want %v (the stats listener's 5 are not counted)", calls, want)
	}
}

// TestShutdownManagerTakesContourFlags: Contour's shutdown-manager flags
// parse: --serve-port is --port, --ready-file is accepted.
func TestShutdownManagerTakesContourFlags(t *testing.T) {
	cmd := newShutdownManagerCmd()
	if err := cmd.ParseFlags([]string{"--serve-port=8091", "--ready-file=/admin/ok", "--admin-address=/admin/admin.sock"}); err != nil {
		t.Fatal(err)
	}
	if got := cmd.Flags().Lookup("port").Value.String(); got != "8091" {
		t.Errorf("--port = %s", got)
	}
	_, stderr, code := run(t, "", "envoy", "shutdown", "--admin-port", "0")
	if code != exitBadInput || !strings.Contains(stderr, "--admin-port 0") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
