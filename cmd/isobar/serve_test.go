package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/isobar-dev/isobar/internal/goldentest"
)

func freePort(t *testing.T) int {
	t.Helper()
	// Below Linux's ephemeral range (32768–60999): a port the kernel hands
	// out for :0 may meanwhile become the local end of one of serve's own
	// connections to the API server, and serve then cannot listen on it.
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(20000+rand.IntN(12000)))
		if err == nil {
			defer l.Close()
			return l.Addr().(*net.TCPAddr).Port
		}
	}
	t.Fatal("no free port between 20000 and 32000")
	return 0
}

// untilServed calls open until it succeeds (serve opens the xDS port after
// its first build), failing after 10 s.
func untilServed(t *testing.T, open func() error) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := open()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no xDS server: %v", err)
		}
	}
}

// fixtureServe is a `serve --fixtures` a test runs: its folder, HTTP
// port, context and a gRPC connection to its xDS port.
type fixtureServe struct {
	dir               string
	httpPort, xdsPort int
	ctx               context.Context
	conn              *grpc.ClientConn
}

// startFixtureServe writes files (name → content) to a new folder and
// runs serve --fixtures on it with f, its folder, loopback addresses, free
// ports and plaintext xDS filled in, until the test ends (at most 30 s).
func startFixtureServe(t *testing.T, files map[string]string, f serveFlags) fixtureServe {
	t.Helper()
	s := fixtureServe{dir: t.TempDir(), httpPort: freePort(t)}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	xdsPort := freePort(t)
	s.xdsPort = xdsPort
	f.fixtures, f.xdsAddress, f.xdsPort, f.httpAddress, f.httpPort, f.insecure = s.dir, "127.0.0.1", xdsPort, "127.0.0.1", s.httpPort, true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	s.ctx = ctx
	go func() { _ = runServe(ctx, f) }()
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(xdsPort), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s.conn = conn
	return s
}

// TestServeFixtures runs `isobar serve --fixtures` against a folder, reads
// the routes over a real ADS stream, edits a file and sees the change
// arrive; /healthz and /metrics answer, and count findings (an expired
// certificate added to the folder).
func TestServeFixtures(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(goldentest.Path("fixtures/seeds/talk-canary/input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	xdsPort, httpPort, debugPort := freePort(t), freePort(t), freePort(t)
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, serveFlags{fixtures: dir, xdsAddress: "127.0.0.1", xdsPort: xdsPort,
			httpAddress: "127.0.0.1", httpPort: httpPort, debugAddress: "127.0.0.1", debugPort: debugPort, insecure: true})
	}()
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(xdsPort), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var ads discoverygrpc.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
	defer scancel()
	untilServed(t, func() (err error) {
		ads, err = discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(sctx)
		if err == nil {
			err = ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNames: []string{"ingress_http"}})
		}
		return err
	})
	weights := func() string {
		r, err := ads.Recv()
		if err != nil {
			t.Fatal(err)
		}
		var rc routev3.RouteConfiguration
		if err := r.GetResources()[0].UnmarshalTo(&rc); err != nil {
			t.Fatal(err)
		}
		if err := ads.Send(&discoverygrpc.DiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNames: []string{"ingress_http"},
			VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce()}); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range rc.GetVirtualHosts()[0].GetRoutes()[0].GetRoute().GetWeightedClusters().GetClusters() {
			out = append(out, c.GetName()+"="+strconv.Itoa(int(c.GetWeight().GetValue())))
		}
		return strings.Join(out, ",")
	}
	if got := weights(); got != "default/app-stable/80/da39a3ee5e=90,default/app-canary/80/da39a3ee5e=10" {
		t.Fatalf("initial weights %q", got)
	}
	edited := strings.Replace(strings.Replace(string(src), "weight: 90", "weight: 40", 1), "weight: 10", "weight: 60", 1)
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := weights(); got != "default/app-stable/80/da39a3ee5e=40,default/app-canary/80/da39a3ee5e=60" {
		t.Fatalf("weights after the edit %q", got)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ok", "/metrics": "isobar_xds_pushes_total",
		"debug:/debug/pprof/heap?debug=1": "heap profile"} {
		port := httpPort
		if p, ok := strings.CutPrefix(path, "debug:"); ok {
			path, port = p, debugPort
		}
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	// The configuration's revisions, what the client accepted, the objects
	// by status and the builds: the first (full) and the edit's.
	waitMetrics(t, httpPort, "the edit's revision acknowledged", func(m map[string]float64) bool {
		rev := m[`isobar_xds_revision{type="routes"}`]
		return rev >= 2 && m[`isobar_xds_acked_revision{type="routes"}`] == rev && m[`isobar_xds_nacked_revision{type="routes"}`] == 0 &&
			m[`isobar_objects{kind="HTTPProxy",namespace="default",status="valid"}`] == 1 &&
			m[`isobar_builds_total{kind="full",result="ok"}`]+m[`isobar_builds_total{kind="proxies",result="ok"}`] == 2 &&
			m["isobar_build_timestamp_seconds"] > float64(start.Unix()-1) &&
			// Contour's names, for its dashboard and alerts.
			m[`contour_httpproxy_valid{namespace="default",vhost="demo.projectcontour.io"}`] == 1 &&
			m[`contour_httpproxy{namespace="default"}`] == 1 && m[`contour_httpproxy_root{namespace="default"}`] == 1 &&
			m["contour_dagrebuild_total"] == 2 && m["contour_dagrebuild_timestamp"] > float64(start.Unix()-1)
	})
	// /debug/config is the configuration served, which `isobar route --xds`
	// explains requests against: the edited weights.
	for format, want := range map[string]int{"": 200, "?format=json": 200, "?format=xml": 400} {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(debugPort) + "/debug/config" + format)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("/debug/config%s: %d %s", format, resp.StatusCode, body)
		}
		if want != 200 {
			continue
		}
		served := filepath.Join(t.TempDir(), "served.yaml")
		if err := os.WriteFile(served, body, 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := run(t, "", "route", "--xds", served, "--url", "http://demo.projectcontour.io/")
		if code != 0 || !strings.Contains(out, "HTTPProxy default/demo") || !strings.Contains(out, "default/app-canary:80  60%") {
			t.Fatalf("route against /debug/config%s: exit %d\n%s%s", format, code, out, errOut)
		}
	}
	// A certificate that expired in 2021, added to the folder: serve checks
	// certificates against its clock and counts the finding.
	certs, err := os.ReadFile(goldentest.Path("fixtures/tls-certificate-time/input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "certs.yaml"), certs, 0o644); err != nil {
		t.Fatal(err)
	}
	waitMetrics(t, httpPort, "an expired certificate counted", func(m map[string]float64) bool {
		return m[`isobar_findings{code="CertificateExpired",severity="warning"}`] == 1
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// waitMetrics polls serve's /metrics on port until ok holds of its samples
// (by name and labels, as printed), failing after 10 s with what for.
func waitMetrics(t *testing.T, port int, what string, ok func(map[string]float64) bool) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		samples, body, err := scrapeMetrics("http://127.0.0.1:" + strconv.Itoa(port))
		if err != nil {
			t.Fatal(err)
		}
		last = body
		if ok(samples) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never showed %s:\n%s", what, grepLines(last, "isobar_"))
		}
	}
}

// scrapeMetrics reads base's /metrics: each sample's value by its name and
// labels as printed, and the whole text.
func scrapeMetrics(base string) (map[string]float64, string, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	samples := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		name, value, found := strings.Cut(line, " ")
		if f, err := strconv.ParseFloat(value, 64); found && err == nil && !strings.HasPrefix(line, "#") {
			samples[name] = f
		}
	}
	return samples, string(body), nil
}
