package main

import (
	"bytes"
	"context"
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
	"github.com/isobar-dev/isobar/controlplane/bootstrap"
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
// /proc/PID/status, is the server's alone. It reports the server's RSS a
// second after it is ready and before any client (MB-server-rss-idle)
// and, once every client has the full set, the time since the first dial,
// the server's CPU time over
// that span (s-server-cpu: the clients share its cores), its RSS, peak
// RSS (since it started) and Go heap (allocated, from /metrics), its
// peak Go heap (from the collector's trace), the part of its RSS that is
// the binary's pages (MB-server-rss-file), its goroutines and their
// stacks, and its live heap by part (MB-live-*: decoded objects, xDS
// messages, encodings and streams, statuses...; see budgetParts), read
// from a heap profile taken after two collections. Five seconds later it
// reads the RSS again (MB-server-rss-settled), with the stacks and the
// heap spans in use (MB-server-stacks-settled,
// MB-server-heap-inuse-settled).
//
// The full- runs subscribe to all five types (clusters, endpoints,
// listeners, routes and secrets: the whole configuration an Envoy gets).
// The sotw- runs connect state-of-the-world ADS clients instead, which ask
// for every ClusterLoadAssignment and RouteConfiguration by name and send
// all the names again with every ACK, as Envoy does with Contour's
// bootstrap.
//
// With ISOBAR_BENCH_HEAP_PROFILES=DIR, each run also saves the server's
// heap profile, once every client has the full set, as DIR/<run>.pb.gz;
// with ISOBAR_BENCH_CPU_PROFILES=DIR, its CPU profile of the first eight
// seconds of the clients' connection storm, as DIR/<run>.cpu.pb.gz.
func BenchmarkServeProcess(b *testing.B) {
	bin := buildBinary(b)
	fixtures := writeCorpus(b, b.TempDir(), "s10k", func(d []byte) []byte { return d })
	set := compileCorpus(b, filepath.Join(fixtures, "all.yaml"))
	edsRDS := []string{resourcev3.EndpointType, resourcev3.RouteType}
	for _, kind := range []string{"", "full-", "sotw-"} {
		for _, n := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s%dclients", kind, n), func(b *testing.B) {
				client := func(ctx context.Context, addr string, ready chan<- struct{}) error {
					return adsClient(ctx, addr, edsRDS, set.count(edsRDS...), ready)
				}
				switch kind {
				case "full-":
					client = func(ctx context.Context, addr string, ready chan<- struct{}) error {
						return adsClient(ctx, addr, allTypes, set.count(allTypes...), ready)
					}
				case "sotw-":
					client = func(ctx context.Context, addr string, ready chan<- struct{}) error {
						return sotwADSClient(ctx, addr, set.names, set.count(edsRDS...), ready)
					}
				}
				for i := 0; i < b.N; i++ {
					serveFanOut(b, bin, fixtures, n, client)
				}
			})
		}
	}
}

// allTypes are the five types an Envoy asks Isobar for.
var allTypes = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.SecretType}

// corpusSet is what serve, with its default flags, serves of a corpus: by
// type, how many resources a wildcard client receives, the size of their
// encodings, the size they take in delta responses and, for
// ClusterLoadAssignments and RouteConfigurations, their names encoded as a
// DiscoveryRequest's resource_names (one encoding that every
// state-of-the-world client sends).
type corpusSet struct {
	counts, sizes, wire map[string]int
	names               map[string][]byte
}

// count is how many resources of types a wildcard client receives.
func (c corpusSet) count(types ...string) int { return sumOf(c.counts, types) }

// size is the size of their encodings.
func (c corpusSet) size(types ...string) int { return sumOf(c.sizes, types) }

// wireSize is the size they take in delta responses, where each is a
// Resource with its name, its version and its encoding in an Any with its
// type URL: at S10k a ClusterLoadAssignment's 98 bytes become 216.
func (c corpusSet) wireSize(types ...string) int { return sumOf(c.wire, types) }

// deltaResourceSize is the size of a resource of type typ called name,
// whose encoding is size bytes, in a DeltaDiscoveryResponse: a Resource
// (name, a version of Isobar's 16 characters, the Any) in its repeated
// field.
func deltaResourceSize(typ, name string, size int) int {
	anySize := protowire.SizeTag(1) + protowire.SizeBytes(len(typ)) + protowire.SizeTag(2) + protowire.SizeBytes(size)
	res := protowire.SizeTag(3) + protowire.SizeBytes(len(name)) + protowire.SizeTag(1) + protowire.SizeBytes(16) +
		protowire.SizeTag(2) + protowire.SizeBytes(anySize)
	return protowire.SizeTag(2) + protowire.SizeBytes(res)
}

func sumOf(by map[string]int, types []string) int {
	n := 0
	for _, t := range types {
		n += by[t]
	}
	return n
}

// compileCorpus compiles file in-process, as serve does with its default
// flags (and counts the stats listener it serves beside).
func compileCorpus(b testing.TB, file string) corpusSet {
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
	set := corpusSet{counts: map[string]int{}, sizes: map[string]int{}, wire: map[string]int{}, names: map[string][]byte{}}
	var eds, rds []string
	add := func(t, name string, m proto.Message) {
		set.counts[t]++
		n := proto.Size(m)
		set.sizes[t] += n
		set.wire[t] += deltaResourceSize(t, name, n)
	}
	for _, r := range res.Resources.Clusters {
		add(resourcev3.ClusterType, r.GetName(), r)
	}
	for _, r := range res.Resources.Endpoints {
		add(resourcev3.EndpointType, r.GetClusterName(), r)
		eds = append(eds, r.GetClusterName())
	}
	for _, r := range res.Resources.Listeners {
		add(resourcev3.ListenerType, r.GetName(), r)
	}
	stats := bootstrap.StatsListenerAt("0.0.0.0", 8002) // serve's default --stats-port
	add(resourcev3.ListenerType, stats.GetName(), stats)
	for _, r := range res.Resources.Routes {
		add(resourcev3.RouteType, r.GetName(), r)
		rds = append(rds, r.GetName())
	}
	for _, r := range res.Resources.Secrets {
		add(resourcev3.SecretType, r.GetName(), r)
	}
	for typ, list := range map[string][]string{resourcev3.EndpointType: eds, resourcev3.RouteType: rds} {
		if set.names[typ], err = proto.Marshal(&discoverygrpc.DiscoveryRequest{ResourceNames: list}); err != nil {
			b.Fatal(err)
		}
	}
	return set
}

// fakeEnvoy runs one client stream against addr, signalling ready once it
// has the full set.
type fakeEnvoy func(ctx context.Context, addr string, ready chan<- struct{}) error

// settleAfterFanOut is how long serveFanOut waits, once every client has
// the full set, before it reads the settled RSS: a few of serve's heap
// samples (handBackTick) and one full collection.
const settleAfterFanOut = 5 * time.Second

func serveFanOut(b *testing.B, bin, fixtures string, n int, client fakeEnvoy) {
	p := startServeProcess(b, bin, fixtures)
	p.waitReady(b, 3*time.Minute)
	time.Sleep(time.Second) // serve hands the first build's garbage back once the port opens
	idle, _ := p.memory(b)
	cpu0 := p.gauge(b, "process_cpu_seconds_total")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // closes the clients' connections
	ready, failed := make(chan struct{}, n), make(chan error, n)
	if dir := os.Getenv("ISOBAR_BENCH_CPU_PROFILES"); dir != "" {
		// The server's CPU profile of the storm's first eight seconds.
		go func() {
			resp, err := http.Get(p.debugURL + "/debug/pprof/profile?seconds=8")
			if err != nil {
				return
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			_ = os.WriteFile(filepath.Join(dir, strings.ReplaceAll(b.Name(), "/", "_")+".cpu.pb.gz"), data, 0o644)
		}()
	}
	start := time.Now()
	for range n {
		go func() {
			if err := client(ctx, p.xdsAddr, ready); err != nil && ctx.Err() == nil {
				failed <- err
			}
		}()
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
	cpu := p.gauge(b, "process_cpu_seconds_total") - cpu0
	mem := p.statusFields(b, "VmRSS", "VmHWM", "RssFile")
	rss, hwm, fileRSS := mem[0], mem[1], mem[2]
	heap := p.gauge(b, "go_memstats_heap_alloc_bytes")
	stacks, goroutines := p.gauge(b, "go_memstats_stack_inuse_bytes"), p.gauge(b, "go_goroutines")
	// What stays resident once the connection storm is over and serve has
	// handed its garbage back (quietHandBack), the clients still connected.
	time.Sleep(settleAfterFanOut)
	settled := p.statusFields(b, "VmRSS")[0]
	settledStacks, settledInUse := p.gauge(b, "go_memstats_stack_inuse_bytes"), p.gauge(b, "go_memstats_heap_inuse_bytes")
	handBacks := p.optionalGauge(b, "isobar_heap_handbacks_total") // absent from older builds (ISOBAR_BENCH_BIN)
	profile := p.heapProfile(b)
	if dir := os.Getenv("ISOBAR_BENCH_HEAP_PROFILES"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(b.Name(), "/", "_")+".pb.gz"), profile, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	budget, err := liveByPart(profile)
	if err != nil {
		b.Fatalf("the server's heap profile: %v", err)
	}
	scraped := p.rssUnderScrapes(b, 6, 5*time.Second)
	p.stop(b)
	b.ReportMetric(connected.Seconds(), "s-all-connected")
	// The server's own CPU time until then: the clients share its cores
	// here, so this is what the fan-out costs the server alone.
	b.ReportMetric(cpu, "s-server-cpu")
	b.ReportMetric(float64(idle)/(1<<20), "MB-server-rss-idle")
	b.ReportMetric(float64(rss)/(1<<20), "MB-server-rss")
	b.ReportMetric(float64(settled)/(1<<20), "MB-server-rss-settled")
	b.ReportMetric(float64(scraped)/(1<<20), "MB-server-rss-scraped-max")
	b.ReportMetric(handBacks, "server-handbacks")
	b.ReportMetric(float64(hwm)/(1<<20), "MB-server-peak-rss")
	b.ReportMetric(heap/(1<<20), "MB-server-heap")
	b.ReportMetric(float64(fileRSS)/(1<<20), "MB-server-rss-file")
	b.ReportMetric(stacks/(1<<20), "MB-server-stacks")
	b.ReportMetric(settledStacks/(1<<20), "MB-server-stacks-settled")
	b.ReportMetric(settledInUse/(1<<20), "MB-server-heap-inuse-settled")
	for _, part := range budget.parts() {
		b.ReportMetric(float64(budget[part])/(1<<20), metricName(part))
	}
	b.ReportMetric(goroutines, "server-goroutines")
	b.ReportMetric(float64(p.peakHeap(b))/(1<<20), "MB-server-peak-heap")
}

// serveProcess is a running `isobar serve`, its stderr (logs and the
// collector's trace) going to a file.
type serveProcess struct {
	cmd     *exec.Cmd
	xdsAddr string
	httpURL string
	// debugURL serves Go's profiles (/debug/pprof/).
	debugURL string
	log      string
	exited   chan struct{}
}

func startServeProcess(b *testing.B, bin, fixtures string) *serveProcess {
	b.Helper()
	ports := freePorts(b, 3)
	p := &serveProcess{xdsAddr: "127.0.0.1:" + strconv.Itoa(ports[0]), httpURL: "http://127.0.0.1:" + strconv.Itoa(ports[1]),
		debugURL: "http://127.0.0.1:" + strconv.Itoa(ports[2]),
		log:      filepath.Join(b.TempDir(), "serve.log"), exited: make(chan struct{})}
	stderr, err := os.Create(p.log)
	if err != nil {
		b.Fatal(err)
	}
	defer stderr.Close()
	p.cmd = exec.Command(bin, "serve", "--fixtures", fixtures, "--insecure",
		"--xds-address", "127.0.0.1", "--xds-port", strconv.Itoa(ports[0]),
		"--http-address", "127.0.0.1", "--http-port", strconv.Itoa(ports[1]),
		"--debug-http-address", "127.0.0.1", "--debug-http-port", strconv.Itoa(ports[2]))
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

// heapProfile returns the server's heap profile. It asks twice with a
// collection each time and keeps the second: a profile counts what the
// collection before the last one left, so what the last one freed still
// shows in the first.
func (p *serveProcess) heapProfile(b *testing.B) []byte {
	b.Helper()
	var data []byte
	for range 2 {
		resp, err := http.Get(p.debugURL + "/debug/pprof/heap?gc=1")
		if err != nil {
			b.Fatal(err)
		}
		data, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("heap profile: %v, HTTP %d", err, resp.StatusCode)
		}
	}
	return data
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
	f := p.statusFields(b, "VmRSS", "VmHWM")
	return f[0], f[1]
}

// statusFields returns size fields of the server's /proc/PID/status (as
// VmRSS or RssFile), in bytes, in the order asked, from one read.
func (p *serveProcess) statusFields(b *testing.B, fields ...string) []int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int64, len(fields))
	for i, field := range fields {
		v, ok := "", false
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok = strings.CutPrefix(line, field+":"); ok {
				break
			}
		}
		if !ok {
			b.Fatalf("no %s in /proc/PID/status", field)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			b.Fatalf("%s: %v", field, err)
		}
		out[i] = n << 10
	}
	return out
}

// optionalGauge is gauge, 0 when /metrics has no such sample.
func (p *serveProcess) optionalGauge(b *testing.B, name string) float64 {
	b.Helper()
	samples, _, err := scrapeMetrics(p.httpURL)
	if err != nil {
		b.Fatal(err)
	}
	return samples[name]
}

// gauge returns the value of an unlabelled gauge (or counter) of /metrics.
func (p *serveProcess) gauge(b *testing.B, name string) float64 {
	b.Helper()
	samples, _, err := scrapeMetrics(p.httpURL)
	if err != nil {
		b.Fatal(err)
	}
	v, ok := samples[name]
	if !ok {
		b.Fatalf("/metrics has no %s", name)
	}
	return v
}

// rssUnderScrapes scrapes /metrics n times, every interval, as Prometheus
// does (faster), the clients still connected, and returns the highest RSS
// read after a scrape: where an idle server's memory goes between its
// collections and hand-backs (quietHandBack).
func (p *serveProcess) rssUnderScrapes(b *testing.B, n int, interval time.Duration) int64 {
	b.Helper()
	var most int64
	for range n {
		if _, _, err := scrapeMetrics(p.httpURL); err != nil {
			b.Fatal(err)
		}
		time.Sleep(interval)
		most = max(most, p.statusFields(b, "VmRSS")[0])
	}
	return most
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
