package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/isobar-dev/isobar/controlplane/xds"
)

// logBuffer collects log lines written from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// nacks returns the NACK lines logged so far, decoded.
func (b *logBuffer) nacks(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		var m map[string]any
		if len(line) > 0 && json.Unmarshal(line, &m) == nil && m["error"] != nil {
			out = append(out, m)
		}
	}
	return out
}

// withHostChanged returns res with the route configurations called names
// replaced by changed copies.
func withHostChanged(res *xds.Resources, names ...string) *xds.Resources {
	next := *res
	next.Routes = slices.Clone(res.Routes)
	for i, rc := range next.Routes {
		if slices.Contains(names, rc.GetName()) {
			c := proto.Clone(rc).(*routev3.RouteConfiguration)
			c.VirtualHosts[0].IncludeRequestAttemptCount = !c.VirtualHosts[0].IncludeRequestAttemptCount
			next.Routes[i] = c
		}
	}
	return &next
}

// TestNACKNamesObjects: a NACK is logged with the resources that changed
// in the rejected revision (only those Envoy's message names, when it
// names some) and the objects they were built from, and stands in
// Rejections (signalled on Rejected) until a newer revision is accepted.
func TestNACKNamesObjects(t *testing.T) {
	res := compiled(t, "fixtures/httpproxy-ext-authz")
	logs := &logBuffer{}
	s, conn := startWith(t, Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))}, res)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st := adsStream(ctx, t, conn, resourcev3.RouteType, "*")
	reply := func(nack string) {
		t.Helper()
		r, ok := st.in.next(t, 5*time.Second)
		if !ok {
			t.Fatal("no response")
		}
		req := &discoverygrpc.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}
		if nack != "" {
			req.ErrorDetail = &statuspb.Status{Message: nack}
		}
		if err := st.send(req); err != nil {
			t.Fatal(err)
		}
	}
	reply("")
	rejected := s.Rejected()
	for i, c := range []struct {
		changed            []string
		message            string
		resources, objects string
	}{
		{[]string{"https/shop.example.com"}, "Proto constraint validation failed", "https/shop.example.com", "HTTPProxy app/blog, HTTPProxy app/shop"},
		{[]string{"https/bank.example.com", "https/open.example.com"}, "https/open.example.com: bad route", "https/open.example.com", "HTTPProxy app/open"},
	} {
		next := withHostChanged(res, c.changed...) // after the first case, shop changes back too
		if err := s.SetResources(ctx, next); err != nil {
			t.Fatal(err)
		}
		reply(c.message)
		deadline := time.Now().Add(5 * time.Second)
		for len(logs.nacks(t)) <= i && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		lines := logs.nacks(t)
		if len(lines) <= i {
			t.Fatalf("NACK %d not logged", i)
		}
		if got := lines[i]; got["resources"] != c.resources || got["objects"] != c.objects {
			t.Errorf("NACK %d logged resources %q, objects %q; want %q, %q", i, got["resources"], got["objects"], c.resources, c.objects)
		}
		select {
		case <-rejected:
		case <-time.After(5 * time.Second):
			t.Fatalf("NACK %d: no signal on Rejected", i)
		}
		if got := rejectedGauge(t, s); got != strings.ReplaceAll(c.objects, ", ", "; ") {
			t.Errorf("NACK %d: isobar_xds_rejected_objects %q, want %q", i, got, c.objects)
		}
		rej := s.Rejections()
		if len(rej) != 1 || rej[0].Type != resourcev3.RouteType || rej[0].Message != c.message ||
			strings.Join(rej[0].Resources, ", ") != c.resources || strings.Join(refStrings(rej[0].Objects), ", ") != c.objects {
			t.Fatalf("NACK %d: standing rejections %+v", i, rej)
		}
	}
	// A newer revision accepted lifts the rejection.
	if err := s.SetResources(ctx, res); err != nil {
		t.Fatal(err)
	}
	reply("")
	select {
	case <-rejected:
	case <-time.After(5 * time.Second):
		t.Fatal("the ACK did not signal Rejected")
	}
	if rej := s.Rejections(); len(rej) != 0 || rejectedGauge(t, s) != "" {
		t.Fatalf("standing after a newer revision was accepted: %+v", rej)
	}
}

// rejectedGauge renders the samples of isobar_xds_rejected_objects as
// "Kind namespace/name" joined by "; " (all of type routes here).
func rejectedGauge(t *testing.T, s *Server) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(rejectedObjects{&s.rejections})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		for _, m := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["type"] != "routes" || m.GetGauge().GetValue() != 1 {
				t.Errorf("sample %v = %v", l, m.GetGauge().GetValue())
			}
			out = append(out, l["kind"]+" "+l["namespace"]+"/"+l["name"])
		}
	}
	return strings.Join(out, "; ")
}

// TestRejectionsKeepTheFirstOfARevision: a second NACK of the same
// revision (every Envoy may send one) is found by of, changes nothing and
// signals nothing; a newer revision replaces it; an older one is ignored.
func TestRejectionsKeepTheFirstOfARevision(t *testing.T) {
	rs := newRejections()
	ch := make(chan struct{}, 1)
	rs.listeners = append(rs.listeners, ch)
	signalled := func() bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	rs.add(Rejection{Type: resourcev3.RouteType, Revision: 5, Message: "first"})
	if !signalled() {
		t.Fatal("the first NACK did not signal")
	}
	if r, ok := rs.of(resourcev3.RouteType, 5); !ok || r.Message != "first" {
		t.Fatalf("of(routes, 5) = %+v, %v", r, ok)
	}
	if _, ok := rs.of(resourcev3.RouteType, 6); ok {
		t.Fatal("of(routes, 6) found revision 5")
	}
	rs.add(Rejection{Type: resourcev3.RouteType, Revision: 5, Message: "second"})
	rs.add(Rejection{Type: resourcev3.RouteType, Revision: 4, Message: "older"})
	if signalled() || rs.standing()[0].Message != "first" {
		t.Fatalf("a repeated or older NACK changed the rejection: %+v", rs.standing())
	}
	rs.add(Rejection{Type: resourcev3.RouteType, Revision: 6, Message: "newer"})
	if !signalled() || rs.standing()[0].Message != "newer" {
		t.Fatalf("a newer NACK did not replace the rejection: %+v", rs.standing())
	}
	rs.accepted(resourcev3.RouteType, 5)
	if len(rs.standing()) != 1 || signalled() {
		t.Fatal("an older revision accepted lifted a newer rejection")
	}
	rs.accepted(resourcev3.RouteType, 6)
	if len(rs.standing()) != 0 || !signalled() {
		t.Fatal("the revision accepted did not lift its rejection")
	}
}
