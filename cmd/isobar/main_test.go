package main

import (
	"log/slog"
	"os"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
)

// TestMain routes the Kubernetes libraries' logs (warnings and errors only)
// to stderr before any test starts a client, as `isobar serve` does before
// it runs. Commands run in this process leave its collector alone
// (ownProcess): the tests share it. With runAsIsobarEnv set, the test binary
// is isobar itself (the arguments are a command's), so that tests can run a
// command in a process of its own, collector settings included.
func TestMain(m *testing.M) {
	if os.Getenv(runAsIsobarEnv) == "1" {
		main()
		os.Exit(0)
	}
	ownProcess = false
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	ctrl.SetLogger(logr.FromSlogHandler(h))
	klog.SetLogger(logr.FromSlogHandler(h))
	os.Exit(m.Run())
}
