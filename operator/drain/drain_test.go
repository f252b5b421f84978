package drain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAdmin stands in for Envoy's admin interface (Envoy cannot run on these
// machines): it records the commands it gets and answers /stats with the
// next of counts each time (the last one repeated), as Envoy's text format.
type fakeAdmin struct {
	mu       sync.Mutex
	commands []string
	counts   []int
	statsGET int
	extra    string // more stats lines, not listener connections
}

func (f *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/healthcheck/fail", "/drain_listeners":
		if r.Method != http.MethodPost {
			http.Error(w, "This endpoint requires POST", http.StatusMethodNotAllowed)
			return
		}
		f.commands = append(f.commands, r.URL.RequestURI())
	case "/stats":
		if r.URL.Query().Get("filter") != `^listener\..*\.downstream_cx_active$` {
			http.Error(w, "unexpected filter", http.StatusBadRequest)
			return
		}
		n := f.counts[min(f.statsGET, len(f.counts)-1)]
		f.statsGET++
		// Envoy counts the admin's own connection, and probes hit the
		// stats listener: neither must count.
		fmt.Fprintf(w, "listener.0.0.0.0_8080.downstream_cx_active: %d\nlistener.0.0.0.0_8443.downstream_cx_active: %d\n", n/2, n-n/2)
		fmt.Fprintf(w, "listener.0.0.0.0_8002.downstream_cx_active: 7\nlistener.admin.downstream_cx_active: 1\n%s", f.extra)
	default:
		http.NotFound(w, r)
	}
}

func TestDrainWaitsForConnections(t *testing.T) {
	t.Parallel()
	f := &fakeAdmin{counts: []int{9, 4, 1, 0}, extra: "listener.0.0.0.0_8080.downstream_cx_total: 100\n"}
	s := httptest.NewServer(f)
	defer s.Close()
	d := &Drainer{Admin: s.URL, Interval: time.Millisecond, Ignore: []string{"0.0.0.0_8002"}}
	if err := d.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if want := []string{"/healthcheck/fail", "/drain_listeners?graceful"}; strings.Join(f.commands, " ") != strings.Join(want, " ") {
		t.Errorf("admin commands %v, want %v", f.commands, want)
	}
	if f.statsGET != 4 {
		t.Errorf("counted %d times, want 4 (until no connection is left)", f.statsGET)
	}
}

func TestDrainMinOpenAndTimeout(t *testing.T) {
	t.Parallel()
	f := &fakeAdmin{counts: []int{9, 3}}
	s := httptest.NewServer(f)
	defer s.Close()
	d := &Drainer{Admin: s.URL, Interval: time.Millisecond, MinOpen: 3, Ignore: []string{"0.0.0.0_8002"}}
	if err := d.Drain(context.Background()); err != nil {
		t.Fatalf("3 open with MinOpen 3: %v", err)
	}
	stuck := &fakeAdmin{counts: []int{5}}
	s2 := httptest.NewServer(stuck)
	defer s2.Close()
	d2 := &Drainer{Admin: s2.URL, Interval: time.Millisecond, Timeout: 50 * time.Millisecond, Ignore: []string{"0.0.0.0_8002"}}
	err := d2.Drain(context.Background())
	if err == nil || !strings.Contains(err.Error(), "5 connections still open") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a drain past its timeout answered %v", err)
	}
}

func TestDrainEnvoyGone(t *testing.T) {
	t.Parallel()
	s := httptest.NewServer(http.NotFoundHandler())
	s.Close()
	d := &Drainer{Admin: s.URL, Interval: time.Millisecond}
	if err := d.Drain(context.Background()); err == nil || !strings.Contains(err.Error(), "/healthcheck/fail") {
		t.Errorf("an unreachable admin answered %v", err)
	}
}

// TestManagerDrainsOnce: both preStop hooks (Envoy's and the manager's own)
// call /shutdown; Envoy is drained once and both wait for the end.
func TestManagerDrainsOnce(t *testing.T) {
	t.Parallel()
	f := &fakeAdmin{counts: []int{2, 2, 2, 0}}
	admin := httptest.NewServer(f)
	defer admin.Close()
	m := httptest.NewServer(Manager(&Drainer{Admin: admin.URL, Interval: 5 * time.Millisecond, Ignore: []string{"0.0.0.0_8002"}, Timeout: 10 * time.Second}))
	defer m.Close()
	var wg sync.WaitGroup
	answers := make([]string, 3)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(m.URL + "/shutdown")
			if err != nil {
				answers[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers[i] = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		}()
	}
	wg.Wait()
	for _, a := range answers {
		if a != "200 drained" {
			t.Errorf("a /shutdown caller got %q", a)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.commands) != 2 || f.statsGET != 4 {
		t.Errorf("admin got %v and %d counts: the drain ran more than once", f.commands, f.statsGET)
	}
	resp, err := http.Get(m.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %v %v", resp, err)
	}
}

func TestManagerReportsFailure(t *testing.T) {
	t.Parallel()
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	defer admin.Close()
	m := httptest.NewServer(Manager(&Drainer{Admin: admin.URL}))
	defer m.Close()
	resp, err := http.Get(m.URL + "/shutdown")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(b), "503") {
		t.Errorf("a failed drain answered %d %q", resp.StatusCode, b)
	}
}
