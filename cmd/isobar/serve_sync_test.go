package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// TestServeHealthyWhileSyncing holds the first list of HTTPProxies in a
// proxy in front of a real API server, as a large cluster makes a list
// slow: meanwhile /healthz answers 200 (a liveness probe must not restart
// a replica that is still starting) and /readyz 503; once the list goes
// through, the first build is served and /readyz says ok.
func TestServeHealthyWhileSyncing(t *testing.T) {
	env, _, c := startAPIServer(t)
	ctx := context.Background()
	createNamespaces(ctx, t, c, "projectcontour")
	release := make(chan struct{})
	kubeconfig := holdingProxy(t, env.Config, "/apis/projectcontour.io/v1/httpproxies", release)
	s := startServe(ctx, t, kubeconfig, false)
	defer s.stop(t)
	base := "http://127.0.0.1:" + strconv.Itoa(s.httpPort)
	eventually(t, 15*time.Second, "/healthz while the informers sync", func() bool { return httpStatus(base+"/healthz") == http.StatusOK })
	if got := httpStatus(base + "/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz while the informers sync: %d, want 503", got)
	}
	close(release)
	eventually(t, 30*time.Second, "/readyz once the first build is served", func() bool { return httpStatus(base+"/readyz") == http.StatusOK })
}

// holdingProxy serves cfg's API server over plain HTTP on loopback,
// authenticating as cfg, and holds every list (not watch) of path until
// release is closed. It returns a kubeconfig for it.
func holdingProxy(t *testing.T, cfg *rest.Config, path string, release <-chan struct{}) string {
	t.Helper()
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = transport
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path && r.URL.Query().Get("watch") == "" {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return writeKubeconfig(t, &rest.Config{Host: srv.URL})
}
