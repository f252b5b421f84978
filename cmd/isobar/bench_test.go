package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/sim/gen"
)

// The whole-process benchmarks run the built binary on generated corpora,
// as a user or a CI job would: start-up, reading, compiling and writing all
// count. Each reports the process's peak RSS next to the time.

// buildBinary builds isobar once for a benchmark.
//
// ISOBAR_BENCH_BIN names another binary to measure instead (an earlier
// build, for a before/after comparison with the same benchmark).
func buildBinary(b *testing.B) string {
	b.Helper()
	if bin := os.Getenv("ISOBAR_BENCH_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(b.TempDir(), "isobar")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeCorpus writes the S10k corpus to dir/name/all.yaml, with edit
// applied to its text, and returns the folder.
func writeCorpus(b *testing.B, dir, name string, edit func([]byte) []byte) string {
	b.Helper()
	var buf bytes.Buffer
	if _, err := gen.Write(&buf, gen.S10k()); err != nil {
		b.Fatal(err)
	}
	folder := filepath.Join(dir, name)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "all.yaml"), edit(buf.Bytes()), 0o644); err != nil {
		b.Fatal(err)
	}
	return folder
}

var gcTrace = regexp.MustCompile(`(\d+)->(\d+)->\d+ MB`)

// runProcess runs bin with args b.N times and reports peak RSS and, with
// heap, the peak Go heap (which the collector's trace shows only for a
// process that collects: diff does not). Exit codes in ok are expected.
func runProcess(b *testing.B, bin string, heap bool, ok map[int]bool, args ...string) {
	b.Helper()
	var rss, peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); err != nil && !ok[code] {
			b.Fatalf("%v: %v\n%s", args, err, stderr.Bytes())
		}
		if ru, isRusage := cmd.ProcessState.SysUsage().(*syscall.Rusage); isRusage {
			rss = max(rss, ru.Maxrss*1024)
		}
		for _, m := range gcTrace.FindAllSubmatch(stderr.Bytes(), -1) {
			for _, n := range m[1:] {
				v, _ := strconv.ParseInt(string(n), 10, 64)
				peak = max(peak, v<<20)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rss)/(1<<20), "MB-peak-rss")
	if heap {
		b.ReportMetric(float64(peak)/(1<<20), "MB-peak-heap")
	}
}

// BenchmarkTranslateProcess: `isobar translate -f s10k.yaml > /dev/null`.
func BenchmarkTranslateProcess(b *testing.B) {
	bin := buildBinary(b)
	corpus := writeCorpus(b, b.TempDir(), "s10k", func(d []byte) []byte { return d })
	runProcess(b, bin, true, nil, "translate", "-f", corpus)
}

// BenchmarkDiffProcess: `isobar diff` of two S10k states differing in one
// object (a root HTTPProxy's fqdn), probes included.
func BenchmarkDiffProcess(b *testing.B) {
	bin := buildBinary(b)
	dir := b.TempDir()
	base := writeCorpus(b, dir, "base", func(d []byte) []byte { return d })
	head := writeCorpus(b, dir, "head", func(d []byte) []byte {
		out := bytes.Replace(d, []byte("fqdn: p0.example.com\n"), []byte("fqdn: changed-p0.example.com\n"), 1)
		if bytes.Equal(out, d) {
			b.Fatal("the corpus has no p0.example.com root to change")
		}
		return out
	})
	runProcess(b, bin, false, map[int]bool{exitFindings: true, exitDanger: true}, "diff", "--base", base, "--head", head)
}

// BenchmarkServeProcess runs `isobar serve --fixtures` on S10k and connects
// N delta-ADS clients (EDS and RDS, wildcard, every response ACKed) from the
// benchmark's own process, so that the server's memory, read from
// /proc/PID/status, is the server's alone. It reports the server's RSS once
// ready and before any client (MB-server-rss-idle) and, once every client
// has the full set, the time since the first dial, the server's RSS, peak
// RSS (since it started) and Go heap (allocated, from /metrics), and its
// peak Go heap (from the collector's trace).
//
// The sotw- runs connect state-of-the-world ADS clients instead, which ask
// for every ClusterLoadAssignment and RouteConfiguration by name and send
// all the names again with every ACK, as Envoy does with Contour's
// bootstrap.
func BenchmarkServeProcess(b *testing.B) {
	bin := buildBinary(b)
	fixtures := writeCorpus(b, b.TempDir(), "s10k", func(d []byte) []byte { return d })
	want, names := corpusSize(b, filepath.Join(fixtures, "all.yaml"))
	for _, sotw := range []bool{false, true} {
		for _, n := range []int{100, 1000} {
			name := fmt.Sprintf("%dclients", n)
			if sotw {
				name = "sotw-" + name
			}
			b.Run(name, func(b *testing.B) {
				client := func(ctx context.Context, c *http.Client, addr string, ready chan<- struct{}) error {
					return adsClient(ctx, c, addr, want, ready)
				}
				if sotw {
					client = func(ctx context.Context, c *http.Client, addr string, ready chan<- struct{}) error {
						return sotwADSClient(ctx, c, addr, names, want, ready)
					}
				}
				for i := 0; i < b.N; i++ {
					serveFanOut(b, bin, fixtures, n, client)
				}
			})
		}
	}
}

// corpusSize compiles file in-process, as serve does with its default
// flags, and returns how many ClusterLoadAssignments and
// RouteConfigurations a wildcard client receives, and their names by
// type, encoded as a DiscoveryRequest's resource_names (one encoding that
// every state-of-the-world client sends).
func corpusSize(b *testing.B, file string) (int, map[string][]byte) {
	b.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	idx, problems := source.LoadBytes(source.LoadOptions{}, file, data)
	if len(problems) > 0 {
		b.Fatalf("the corpus has %d problems, the first: %v", len(problems), problems[0])
	}
	res, err := controlplane.Compile(idx, controlplane.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var eds, rds []string
	for _, e := range res.Resources.Endpoints {
		eds = append(eds, e.GetClusterName())
	}
	for _, r := range res.Resources.Routes {
		rds = append(rds, r.GetName())
	}
	names := map[string][]byte{}
	for typ, list := range map[string][]string{resourcev3.EndpointType: eds, resourcev3.RouteType: rds} {
		if names[typ], err = proto.Marshal(&discoverygrpc.DiscoveryRequest{ResourceNames: list}); err != nil {
			b.Fatal(err)
		}
	}
	return len(eds) + len(rds), names
}

// fakeEnvoy runs one client stream against addr, signalling ready once it
// has the full set.
type fakeEnvoy func(ctx context.Context, c *http.Client, addr string, ready chan<- struct{}) error

func serveFanOut(b *testing.B, bin, fixtures string, n int, client fakeEnvoy) {
	p := startServeProcess(b, bin, fixtures)
	p.waitReady(b, 3*time.Minute)
	idle, _ := p.memory(b)
	ctx, cancel := context.WithCancel(context.Background())
	clients := make([]*http.Client, n)
	defer func() {
		cancel()
		for _, c := range clients {
			if c != nil {
				c.CloseIdleConnections()
			}
		}
	}()
	ready, failed := make(chan struct{}, n), make(chan error, n)
	start := time.Now()
	for i := range clients {
		clients[i] = h2cClient()
		go func(c *http.Client) {
			if err := client(ctx, c, p.xdsAddr, ready); err != nil {
				failed <- err
			}
		}(clients[i])
	}
	const within = 180 * time.Second
	timeout := time.After(within)
	for i := 0; i < n; i++ {
		select {
		case <-ready:
		case err := <-failed:
			b.Fatalf("a client failed after %d of %d had the full set: %v\nserve's log ends:\n%s", i, n, err, p.logTail())
		case <-p.exited:
			b.Fatalf("serve exited after %d of %d clients had the full set:\n%s", i, n, p.logTail())
		case <-timeout:
			b.Fatalf("after %v, only %d of %d clients have the full set", within, i, n)
		}
	}
	connected := time.Since(start)
	rss, hwm := p.memory(b)
	heap := p.gauge(b, "go_memstats_heap_alloc_bytes")
	p.stop(b)
	b.ReportMetric(connected.Seconds(), "s-all-connected")
	b.ReportMetric(float64(idle)/(1<<20), "MB-server-rss-idle")
	b.ReportMetric(float64(rss)/(1<<20), "MB-server-rss")
	b.ReportMetric(float64(hwm)/(1<<20), "MB-server-peak-rss")
	b.ReportMetric(heap/(1<<20), "MB-server-heap")
	b.ReportMetric(float64(p.peakHeap(b))/(1<<20), "MB-server-peak-heap")
}

// rawStream is one ADS stream spoken by hand over h2c: requests are
// framed onto a pipe, responses read as a stream (see h2cClient).
type rawStream struct {
	requests *io.PipeWriter
	resp     *http.Response
	r        *frameReader
}

// openRawStream calls the ADS method on addr, sending first (encoded
// requests) before it waits for the response headers.
func openRawStream(ctx context.Context, c *http.Client, addr, method string, first [][]byte) (*rawStream, error) {
	body, requests := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://"+addr+"/envoy.service.discovery.v3.AggregatedDiscoveryService/"+method, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	s := &rawStream{requests: requests}
	go func() {
		for _, m := range first {
			if s.send(m) != nil {
				return
			}
		}
	}()
	if s.resp, err = c.Do(req); err != nil {
		requests.Close()
		return nil, err
	}
	s.r = &frameReader{r: bufio.NewReaderSize(s.resp.Body, 64<<10)}
	return s, nil
}

// send writes one encoded request.
func (s *rawStream) send(b []byte) error {
	frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(b)))
	_, err := s.requests.Write(append(frame, b...))
	return err
}

// ended describes err, after count resources, with the status the server
// ended the stream with, if it did.
func (s *rawStream) ended(count int, err error) error {
	_, _ = io.Copy(io.Discard, s.r.r)
	return fmt.Errorf("after %d resources: %w (grpc-status %q, message %q)", count, err,
		s.resp.Trailer.Get("Grpc-Status")+s.resp.Header.Get("Grpc-Status"), s.resp.Trailer.Get("Grpc-Message")+s.resp.Header.Get("Grpc-Message"))
}

func (s *rawStream) close() {
	s.requests.Close()
	s.resp.Body.Close()
}

// marshal encodes m followed by extra (a pre-encoded field).
func marshal(m proto.Message, extra []byte) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err) // requests built here always encode
	}
	return append(b, extra...)
}

// adsClient is one fake Envoy: it subscribes to every ClusterLoadAssignment
// and RouteConfiguration on a delta ADS stream, ACKs every response and
// signals ready once it has received want resources (the fixtures do not
// change, so more is an error).
func adsClient(ctx context.Context, c *http.Client, addr string, want int, ready chan<- struct{}) error {
	var first [][]byte
	for _, typ := range []string{resourcev3.EndpointType, resourcev3.RouteType} {
		first = append(first, marshal(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: []string{"*"}}, nil))
	}
	s, err := openRawStream(ctx, c, addr, "DeltaAggregatedResources", first)
	if err != nil {
		return err
	}
	defer s.close()
	for count := 0; ; {
		typeURL, nonce, _, n, err := s.r.response()
		if err != nil {
			return s.ended(count, err)
		}
		if count < want && count+n >= want {
			ready <- struct{}{}
		}
		if count += n; count > want {
			return fmt.Errorf("received %d resources, more than the %d compiled in-process", count, want)
		}
		if err := s.send(marshal(&discoverygrpc.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: nonce}, nil)); err != nil {
			return s.ended(count, err)
		}
	}
}

// sotwADSClient is adsClient on a state-of-the-world ADS stream: it asks
// for the names of each type (names: their encoding as resource_names) and
// ACKs every answer with its version, its nonce and the names again.
func sotwADSClient(ctx context.Context, c *http.Client, addr string, names map[string][]byte, want int, ready chan<- struct{}) error {
	var first [][]byte
	for _, typ := range []string{resourcev3.EndpointType, resourcev3.RouteType} {
		first = append(first, marshal(&discoverygrpc.DiscoveryRequest{TypeUrl: typ}, names[typ]))
	}
	s, err := openRawStream(ctx, c, addr, "StreamAggregatedResources", first)
	if err != nil {
		return err
	}
	defer s.close()
	for count := 0; ; {
		typeURL, nonce, version, n, err := s.r.response()
		if err != nil {
			return s.ended(count, err)
		}
		if count < want && count+n >= want {
			ready <- struct{}{}
		}
		count += n
		ack := &discoverygrpc.DiscoveryRequest{TypeUrl: typeURL, VersionInfo: version, ResponseNonce: nonce}
		if err := s.send(marshal(ack, names[typeURL])); err != nil {
			return s.ended(count, err)
		}
	}
}

// h2cClient returns a client with a connection of its own that speaks
// HTTP/2 without TLS, as gRPC in plaintext does. The clients stand in for
// Envoys that run elsewhere, so they must cost the machine little: a gRPC
// client assembles each response (S10k's RDS + EDS set is about 17 MB)
// before decoding it, and a thousand of them receiving at once held 12 to
// 23 GB. These read responses as a stream, skip the resources' bytes and
// let the server run at most 1 MiB ahead of them on each connection.
func h2cClient() *http.Client {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &protocols,
		HTTP2: &http.HTTP2Config{MaxReceiveBufferPerConnection: 1 << 20, MaxReceiveBufferPerStream: 1 << 20}}}
}

// frameReader reads gRPC-framed messages from a response body.
type frameReader struct {
	r    *bufio.Reader
	read int64
}

func (f *frameReader) ReadByte() (byte, error) {
	b, err := f.r.ReadByte()
	if err == nil {
		f.read++
	}
	return b, err
}

// response reads one DeltaDiscoveryResponse or DiscoveryResponse (their
// type URL, nonce and resources have the same field numbers, and field 1
// is the version of either) and returns its type, nonce, version and
// number of resources; it skips everything else.
func (f *frameReader) response() (typeURL, nonce, version string, resources int, err error) {
	var header [5]byte
	if _, err := io.ReadFull(f.r, header[:]); err != nil {
		return "", "", "", 0, err
	}
	if header[0] != 0 {
		return "", "", "", 0, fmt.Errorf("a compressed message")
	}
	end := f.read + 5 + int64(binary.BigEndian.Uint32(header[1:]))
	f.read += 5
	for f.read < end {
		tag, err := binary.ReadUvarint(f)
		if err != nil {
			return "", "", "", 0, err
		}
		num, typ := protowire.DecodeTag(tag)
		size := 0
		switch typ {
		case protowire.VarintType:
			_, err = binary.ReadUvarint(f)
		case protowire.Fixed32Type:
			size = 4
		case protowire.Fixed64Type:
			size = 8
		case protowire.BytesType:
			var n uint64
			n, err = binary.ReadUvarint(f)
			size = int(n)
		default:
			err = fmt.Errorf("wire type %d", typ)
		}
		if err != nil {
			return "", "", "", 0, err
		}
		switch {
		case typ == protowire.BytesType && (num == 1 || num == 4 || num == 5): // version, type_url, nonce
			b := make([]byte, size)
			if _, err := io.ReadFull(f.r, b); err != nil {
				return "", "", "", 0, err
			}
			f.read += int64(size)
			switch num {
			case 1:
				version = string(b)
			case 4:
				typeURL = string(b)
			default:
				nonce = string(b)
			}
			continue
		case typ == protowire.BytesType && num == 2: // resources
			resources++
		}
		n, err := f.r.Discard(size)
		f.read += int64(n)
		if err != nil {
			return "", "", "", 0, err
		}
	}
	return typeURL, nonce, version, resources, nil
}

// serveProcess is a running `isobar serve`, its stderr (logs and the
// collector's trace) going to a file.
type serveProcess struct {
	cmd     *exec.Cmd
	xdsAddr string
	httpURL string
	log     string
	exited  chan struct{}
}

func startServeProcess(b *testing.B, bin, fixtures string) *serveProcess {
	b.Helper()
	ports := freePorts(b, 2)
	p := &serveProcess{xdsAddr: "127.0.0.1:" + strconv.Itoa(ports[0]), httpURL: "http://127.0.0.1:" + strconv.Itoa(ports[1]),
		log: filepath.Join(b.TempDir(), "serve.log"), exited: make(chan struct{})}
	stderr, err := os.Create(p.log)
	if err != nil {
		b.Fatal(err)
	}
	defer stderr.Close()
	p.cmd = exec.Command(bin, "serve", "--fixtures", fixtures, "--insecure",
		"--xds-address", "127.0.0.1", "--xds-port", strconv.Itoa(ports[0]),
		"--http-address", "127.0.0.1", "--http-port", strconv.Itoa(ports[1]))
	p.cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	p.cmd.Stderr = stderr
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	b.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// freePorts returns n distinct free ports of 127.0.0.1 (the tests'
// freePort takes a *testing.T).
func freePorts(b *testing.B, n int) []int {
	b.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// waitReady polls /readyz until it answers 200.
func (p *serveProcess) waitReady(b *testing.B, within time.Duration) {
	b.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(within)
	for {
		if resp, err := client.Get(p.httpURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			b.Fatalf("serve exited before it was ready:\n%s", p.logTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatalf("serve not ready after %v:\n%s", within, p.logTail())
		}
	}
}

// memory returns the server's resident set size and its peak, in bytes.
func (p *serveProcess) memory(b *testing.B) (rss, peak int64) {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	kB := func(field string) int64 {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, field+":"); ok {
				n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
				if err != nil {
					b.Fatalf("%s: %v", field, err)
				}
				return n << 10
			}
		}
		b.Fatalf("no %s in /proc/PID/status", field)
		return 0
	}
	return kB("VmRSS"), kB("VmHWM")
}

// gauge returns the value of an unlabelled gauge of /metrics.
func (p *serveProcess) gauge(b *testing.B, name string) float64 {
	b.Helper()
	resp, err := http.Get(p.httpURL + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	b.Fatalf("/metrics has no %s", name)
	return 0
}

// stop sends SIGTERM and waits for the server to exit.
func (p *serveProcess) stop(b *testing.B) {
	b.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		b.Fatalf("serve did not stop within 30s of SIGTERM:\n%s", p.logTail())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		b.Fatalf("serve exited with %d:\n%s", code, p.logTail())
	}
}

// peakHeap returns the largest Go heap the collector's trace shows.
func (p *serveProcess) peakHeap(b *testing.B) int64 {
	b.Helper()
	data, err := os.ReadFile(p.log)
	if err != nil {
		b.Fatal(err)
	}
	var peak int64
	for _, m := range gcTrace.FindAllSubmatch(data, -1) {
		for _, n := range m[1:] {
			v, _ := strconv.ParseInt(string(n), 10, 64)
			peak = max(peak, v<<20)
		}
	}
	return peak
}

// logTail returns the end of the server's stderr.
func (p *serveProcess) logTail() string {
	data, _ := os.ReadFile(p.log)
	return string(data[max(0, len(data)-4096):])
}
