package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/isobar-dev/isobar/sim/gen"
)

// TestFakeEnvoys runs the benchmark's fake Envoys (BenchmarkServeProcess)
// against `isobar serve --fixtures` on a corpus of 1,500 HTTPProxies, so
// that `make test` keeps them honest: each kind must receive exactly what
// the corpus compiles to. A state-of-the-world client's first requests name
// its 3,000-odd resources, more than the 65,535 bytes of the server's first
// flow-control window, so the clients' windowed writes are exercised too.
func TestFakeEnvoys(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	o := gen.S1k()
	o.Proxies = 1500
	if _, err := gen.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "all.yaml")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	set := compileCorpus(t, file)
	if n := len(set.names[resourcev3.EndpointType]) + len(set.names[resourcev3.RouteType]); n <= 65535 {
		t.Fatalf("the corpus's names take %d bytes: too few to need a second window", n)
	}
	xdsPort, httpPort := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = runServe(ctx, serveFlags{fixtures: dir, xdsAddress: "127.0.0.1", xdsPort: xdsPort, httpAddress: "127.0.0.1",
			httpPort: httpPort, insecure: true, stats: statsFlags{address: "0.0.0.0", port: 8002}}) // serve's default stats listener
	}()
	addr := "127.0.0.1:" + strconv.Itoa(xdsPort)
	edsRDS := []string{resourcev3.EndpointType, resourcev3.RouteType}
	clients := map[string]fakeEnvoy{
		"delta EDS + RDS": func(ctx context.Context, addr string, ready chan<- struct{}) error {
			return adsClient(ctx, addr, edsRDS, set.count(edsRDS...), ready)
		},
		"delta, all types": func(ctx context.Context, addr string, ready chan<- struct{}) error {
			return adsClient(ctx, addr, allTypes, set.count(allTypes...), ready)
		},
		"state of the world": func(ctx context.Context, addr string, ready chan<- struct{}) error {
			return sotwADSClient(ctx, addr, set.names, set.count(edsRDS...), ready)
		},
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not open its xDS port within 20 s")
		}
	}
	for name, client := range clients {
		t.Run(name, func(t *testing.T) {
			cctx, ccancel := context.WithCancel(ctx)
			defer ccancel()
			ready, failed := make(chan struct{}, 3), make(chan error, 3)
			for range 3 {
				go func() {
					if err := client(cctx, addr, ready); err != nil && cctx.Err() == nil {
						failed <- err
					}
				}()
			}
			for i := 0; i < 3; i++ {
				select {
				case <-ready:
				case err := <-failed:
					t.Fatal(err)
				case <-time.After(30 * time.Second):
					t.Fatalf("after 30 s, %d of 3 clients have the full set", i)
				}
			}
			select { // more than the full set comes in the response that completes it
			case err := <-failed:
				t.Fatal(err)
			case <-time.After(200 * time.Millisecond):
			}
		})
	}
}
