package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// BenchmarkLoopbackFloor is the floor under BenchmarkServeProcess's
// fan-out on this machine: the same bytes (what S10k's EDS + RDS take in
// delta responses, 10.7 MiB: 8.0 MiB of resources, each in a Resource with
// its name and version and in an Any with its type URL, which more than
// doubles a ClusterLoadAssignment; with full-, of all five types, 23.2
// MiB) moved to the same number of connections over loopback TCP with
// nothing else, no HTTP/2, no gRPC, no protobuf. The
// sender writes 32 KiB at a time (gRPC's write buffer), each receiver
// reads into 1 MiB, as the fake Envoys do; both run in this process, as
// the server and its clients share the machine's cores. s-all-received
// is the time from the first dial until every connection has had all its
// bytes.
func BenchmarkLoopbackFloor(b *testing.B) {
	set := compileCorpus(b, filepath.Join(writeCorpus(b, b.TempDir(), "s10k", func(d []byte) []byte { return d }), "all.yaml"))
	for _, kind := range []string{"", "full-"} {
		types := []string{resourcev3.EndpointType, resourcev3.RouteType}
		if kind == "full-" {
			types = allTypes
		}
		size := set.wireSize(types...)
		payload := make([]byte, size)
		for _, n := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s%dclients", kind, n), func(b *testing.B) {
				var total time.Duration
				for i := 0; i < b.N; i++ {
					total += moveBytes(b, payload, n)
				}
				b.ReportMetric((total / time.Duration(b.N)).Seconds(), "s-all-received")
				b.ReportMetric(float64(len(payload))/(1<<20), "MB-per-client")
				b.ReportMetric(float64(set.size(types...))/(1<<20), "MB-resources-per-client")
			})
		}
	}
}

// moveBytes sends payload to each of n connections and returns how long it
// took from the first dial until the last byte was read.
func moveBytes(b *testing.B, payload []byte, n int) time.Duration {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for rest := payload; len(rest) > 0; {
					k := min(len(rest), 32<<10)
					if _, err := c.Write(rest[:k]); err != nil {
						return
					}
					rest = rest[k:]
				}
			}()
		}
	}()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- receive(ln.Addr().String(), len(payload))
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return took
}

// receive reads from a new connection to addr until the sender closes it
// and checks that want bytes came.
func receive(addr string, want int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	got := 0
	for {
		k, err := c.Read(buf)
		got += k
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if got != want {
		return fmt.Errorf("received %d bytes, want %d", got, want)
	}
	return nil
}
