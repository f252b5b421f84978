// Package drain takes an Envoy out of service before its pod stops, through
// Envoy's admin interface: it fails Envoy's health checks (its /ready turns
// 503, so the pod leaves its Service's endpoints), asks Envoy to drain its
// listeners gracefully (responses then close their connections, HTTP/2
// connections get a GOAWAY), and waits until the connections still open on
// Envoy's listeners are few enough, or a deadline passes. The pod's preStop
// hooks call it over HTTP (Manager) and return when it is done, so that
// Kubernetes sends Envoy its SIGTERM only then.
package drain

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Drainer drains one Envoy. Its zero value is not usable: set Admin.
type Drainer struct {
	// Admin is the base URL of Envoy's admin interface, such as
	// http://127.0.0.1:9001.
	Admin string
	// Delay is how long to wait after failing the health checks before the
	// first count of open connections, so that load balancers see the pod
	// leave before Envoy's listeners are counted out.
	Delay time.Duration
	// Interval is the time between two counts (default one second).
	Interval time.Duration
	// MinOpen is the number of open connections at or below which Envoy is
	// drained.
	MinOpen int
	// Timeout bounds a drain (0: only the caller's context does).
	Timeout time.Duration
	// Ignore names listener statistics prefixes not counted, such as
	// "0.0.0.0_8002" for the stats listener the probes use; the admin
	// interface's own listener is never counted.
	Ignore []string
	// Client does the requests (default: a client with a 5 s timeout).
	Client *http.Client

	once sync.Once
	done chan struct{}
	err  error
}

// Drain drains Envoy once: the first call starts the drain, every call
// waits for it to end (or for ctx) and returns how it ended.
func (d *Drainer) Drain(ctx context.Context) error {
	d.once.Do(func() {
		d.done = make(chan struct{})
		go func() {
			defer close(d.done)
			dctx, cancel := context.Background(), func() {}
			if d.Timeout > 0 {
				dctx, cancel = context.WithTimeout(dctx, d.Timeout)
			}
			defer cancel()
			d.err = d.drain(dctx)
		}()
	})
	select {
	case <-d.done:
		return d.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Drainer) drain(ctx context.Context) error {
	if err := d.post(ctx, "/healthcheck/fail"); err != nil {
		return err
	}
	if err := d.post(ctx, "/drain_listeners?graceful"); err != nil {
		return err
	}
	if err := sleep(ctx, d.Delay); err != nil {
		return fmt.Errorf("draining: %w", err)
	}
	interval := d.Interval
	if interval <= 0 {
		interval = time.Second
	}
	failures, last := 0, -1 // last: the latest count, -1 before any
	for {
		open, err := d.Open(ctx)
		switch {
		case err == nil && open <= d.MinOpen:
			return nil
		case err == nil:
			failures, last = 0, open
		case ctx.Err() == nil:
			// Envoy gone: nothing left to drain, but say so.
			if failures++; failures == 3 {
				return fmt.Errorf("counting open connections: %w", err)
			}
		}
		if serr := sleep(ctx, interval); serr != nil {
			if last >= 0 {
				return fmt.Errorf("%d connections still open: %w", last, serr)
			}
			return fmt.Errorf("draining: %w", serr)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Drainer) client() *http.Client {
	if d.Client != nil {
		return d.Client
	}
	return &http.Client{Timeout: 5 * time.Second}
}

// post sends an admin command, which Envoy takes by POST only.
func (d *Drainer) post(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Admin+path, nil)
	if err != nil {
		return err
	}
	resp, err := d.client().Do(req)
	if err != nil {
		return fmt.Errorf("envoy admin %s: %w", path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("envoy admin %s answered %s", path, resp.Status)
	}
	return nil
}

// Open returns the number of connections open on Envoy's listeners, but the
// admin interface's and those d ignores.
func (d *Drainer) Open(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.Admin+`/stats?filter=^listener\..*\.downstream_cx_active$`, nil)
	if err != nil {
		return 0, err
	}
	resp, err := d.client().Do(req)
	if err != nil {
		return 0, fmt.Errorf("envoy admin /stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("envoy admin /stats answered %s", resp.Status)
	}
	return d.count(resp.Body)
}

// count sums the listener.<name>.downstream_cx_active lines of Envoy's
// text statistics ("name: value").
func (d *Drainer) count(r io.Reader) (int, error) {
	total := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ": ")
		listener, found := strings.CutPrefix(name, "listener.")
		listener, isActive := strings.CutSuffix(listener, ".downstream_cx_active")
		if !ok || !found || !isActive || d.ignored(listener) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return 0, fmt.Errorf("envoy admin /stats: %s: %w", name, err)
		}
		total += n
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return total, nil
}

func (d *Drainer) ignored(listener string) bool {
	if listener == "admin" {
		return true
	}
	for _, p := range d.Ignore {
		if strings.HasPrefix(listener, p) {
			return true
		}
	}
	return false
}

// ErrNotDrained is wrapped by Manager's answer when a drain failed.
var ErrNotDrained = errors.New("envoy not drained")

// Manager serves a Drainer over HTTP for the pod's preStop hooks:
// GET /shutdown drains Envoy (once, whoever asks first) and answers 200
// when it is done, 500 with the reason otherwise; GET /healthz answers 200.
func Manager(d *Drainer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/shutdown", func(w http.ResponseWriter, r *http.Request) {
		if err := d.Drain(r.Context()); err != nil {
			http.Error(w, fmt.Errorf("%w: %w", ErrNotDrained, err).Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "drained\n")
	})
	return mux
}
