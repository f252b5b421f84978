package live

import (
	"context"
	"fmt"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"k8s.io/apimachinery/pkg/types"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/translate"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Source reports objects and their changes.
type Source interface {
	// Changed is signalled (coalesced) when objects change.
	Changed() <-chan struct{}
	// Take returns the current objects and what changed since the last
	// Take: full when anything but endpoints changed, and the Services
	// whose endpoints changed.
	Take() (idx *source.Index, full bool, services []types.NamespacedName)
}

// XDS receives resources.
type XDS interface {
	// SetResources replaces the full resource set.
	SetResources(ctx context.Context, res *xds.Resources) error
	// UpdateEndpoints replaces some ClusterLoadAssignments.
	UpdateEndpoints(ctx context.Context, changed []*endpointv3.ClusterLoadAssignment) error
}

// Build describes one completed build, for metrics and logs.
type Build struct {
	Full     bool
	Duration time.Duration
	// Endpoints is the number of ClusterLoadAssignments sent on the fast path.
	Endpoints int
	Err       error
}

// Loop is the main loop. Set the fields, then call Run.
type Loop struct {
	Source  Source
	XDS     XDS
	Options controlplane.Options
	// OnResult, when set, receives every full result (the status writer
	// hangs here). It must not block for long.
	OnResult func(idx *source.Index, res *controlplane.Result)
	// OnBuild, when set, is told about every build.
	OnBuild func(Build)
	// Window is how long to collect further changes when changes arrive in
	// quick succession (default 50ms); MaxDelay caps the wait (default 500ms).
	Window, MaxDelay time.Duration
	// Idle is how long without builds makes the next change apply at once
	// (default 1s).
	Idle time.Duration

	last *controlplane.Result
}

func (l *Loop) defaults() {
	if l.Window == 0 {
		l.Window = 50 * time.Millisecond
	}
	if l.MaxDelay == 0 {
		l.MaxDelay = 500 * time.Millisecond
	}
	if l.Idle == 0 {
		l.Idle = time.Second
	}
}

// Run performs the first full build (the caller has waited for the source
// to be synced), then applies changes until ctx ends.
func (l *Loop) Run(ctx context.Context) error {
	l.defaults()
	idx, _, _ := l.Source.Take()
	if err := l.full(ctx, idx); err != nil {
		return fmt.Errorf("first build: %w", err)
	}
	lastBuild := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.Source.Changed():
		}
		if time.Since(lastBuild) < l.Idle {
			l.collect(ctx)
		}
		idx, full, services := l.Source.Take()
		start := time.Now()
		var b Build
		if full || l.last == nil {
			b = Build{Full: true, Err: l.full(ctx, idx)}
		} else {
			n, err := l.endpoints(ctx, idx, services)
			b = Build{Endpoints: n, Err: err}
		}
		b.Duration = time.Since(start)
		lastBuild = time.Now()
		if l.OnBuild != nil {
			l.OnBuild(b)
		}
	}
}

// collect waits for a quiet Window after the latest change, at most MaxDelay.
func (l *Loop) collect(ctx context.Context) {
	deadline := time.NewTimer(l.MaxDelay)
	defer deadline.Stop()
	for {
		quiet := time.NewTimer(l.Window)
		select {
		case <-ctx.Done():
			quiet.Stop()
			return
		case <-deadline.C:
			quiet.Stop()
			return
		case <-quiet.C:
			return
		case <-l.Source.Changed():
			quiet.Stop()
		}
	}
}

// full compiles everything and sends it.
func (l *Loop) full(ctx context.Context, idx *source.Index) error {
	res, err := controlplane.Compile(idx, l.Options)
	if err != nil {
		return err
	}
	if err := l.XDS.SetResources(ctx, res.Resources); err != nil {
		return err
	}
	l.last = res
	if l.OnResult != nil {
		l.OnResult(idx, res)
	}
	return nil
}

// endpoints rebuilds the ClusterLoadAssignments of the changed Services that
// the last graph routes to; the graph itself is untouched.
func (l *Loop) endpoints(ctx context.Context, idx *source.Index, services []types.NamespacedName) (int, error) {
	want := map[types.NamespacedName]bool{}
	for _, s := range services {
		want[s] = true
	}
	var changed []*endpointv3.ClusterLoadAssignment
	seen := map[string]bool{}
	for _, c := range clusters(l.last.Graph) {
		key := types.NamespacedName{Namespace: c.Namespace, Name: c.Service}
		if !want[key] || c.ExternalName != "" {
			continue
		}
		cla := translate.ClusterLoadAssignment(idx, c.Namespace, c.Service, c.Port)
		if seen[cla.GetClusterName()] {
			continue
		}
		seen[cla.GetClusterName()] = true
		changed = append(changed, cla)
	}
	if len(changed) == 0 {
		return 0, nil
	}
	return len(changed), l.XDS.UpdateEndpoints(ctx, changed)
}

// clusters lists every cluster the graph routes to.
func clusters(g *graph.Graph) []*graph.Cluster {
	var out []*graph.Cluster
	add := func(vh *graph.VirtualHost) {
		for _, r := range vh.Routes {
			for _, b := range r.Backends {
				out = append(out, b.Cluster)
			}
			if r.Mirror != nil {
				out = append(out, r.Mirror.Cluster)
			}
		}
	}
	for _, vh := range g.VirtualHosts {
		add(vh)
	}
	for _, vh := range g.SecureVirtualHosts {
		add(&vh.VirtualHost)
		if vh.TCPProxy != nil {
			for _, b := range vh.TCPProxy.Backends {
				out = append(out, b.Cluster)
			}
		}
	}
	return out
}
