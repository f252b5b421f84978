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
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Source reports objects and their changes.
type Source interface {
	// Changed is signalled (coalesced) when objects change.
	Changed() <-chan struct{}
	// Take returns the current objects, which must not change afterwards,
	// and what changed since the last Take.
	Take() source.Change
}

// XDS receives resources.
type XDS interface {
	// SetResources replaces the full resource set. Resources that did not
	// change are the same pointers as in the previous call.
	SetResources(ctx context.Context, res *xds.Resources) error
	// UpdateEndpoints replaces some ClusterLoadAssignments.
	UpdateEndpoints(ctx context.Context, changed []*endpointv3.ClusterLoadAssignment) error
}

// Build describes one completed build, for metrics and logs.
type Build struct {
	// Full is set for a full compile; Proxies counts the changed
	// HTTPProxies (an incremental compile unless Full).
	Full     bool
	Proxies  int
	Duration time.Duration
	// Endpoints is the number of ClusterLoadAssignments sent on the fast path.
	Endpoints int
	Err       error
	// Result is the latest result once the build succeeded (nil when it
	// failed): an endpoint build changes its findings only, and keeps the
	// statuses of the last compile.
	Result *controlplane.Result
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

	// Clock, when set, is the time full compiles check certificates
	// against (Options.Now); the loop compiles again, from the last index,
	// when a certificate in it starts or stops being valid.
	Clock func() time.Time
	// Quarantine, when set, names the HTTPProxies Envoy rejected: the loop
	// takes them out of the configuration (graph.Options.Excluded, a full
	// compile) until their spec changes.
	Quarantine Quarantine

	compiler *controlplane.Compiler
	q        quarantine
	// last is the latest index compiled; recheck fires when a certificate
	// of it crosses a validity boundary (nil when none will).
	last    *source.Index
	recheck *time.Timer
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
	l.compiler = controlplane.NewCompiler(l.compileOptions())
	first := l.Source.Take()
	first.Full = true
	b := l.apply(ctx, first)
	l.report(b)
	if b.Err != nil {
		return fmt.Errorf("first build: %w", b.Err)
	}
	lastBuild := time.Now()
	defer l.stopRecheck()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.recheckC():
			// A certificate started or stopped being valid: the same
			// objects, compiled again at the new time.
			l.report(l.apply(ctx, source.Change{Index: l.last, Full: true}))
			continue
		case <-l.quarantineC():
			if l.q.exclude(l.Quarantine.Rejected(), l.last) {
				l.report(l.apply(ctx, source.Change{Index: l.last, Full: true}))
			}
			continue
		case <-l.Source.Changed():
		}
		if time.Since(lastBuild) < l.Idle {
			l.collect(ctx)
		}
		ch := l.Source.Take()
		l.q.release(ch.Index)
		l.report(l.apply(ctx, ch))
		lastBuild = time.Now()
	}
}

// report hands b to OnBuild, when set.
func (l *Loop) report(b Build) {
	if l.OnBuild != nil {
		l.OnBuild(b)
	}
}

// apply compiles one change the cheapest right way: a full compile, the
// hosts of the changed HTTPProxies, or the endpoints of changed Services.
func (l *Loop) apply(ctx context.Context, ch source.Change) Build {
	start := time.Now()
	if l.q.dirty { // the excluded HTTPProxies changed: a compiler for the new set
		l.compiler, l.q.dirty, ch.Full = controlplane.NewCompiler(l.compileOptions()), false, true
	}
	var b Build
	switch {
	case ch.Full || l.compiler.Last() == nil:
		b = Build{Full: true, Err: l.full(ctx, ch.Index)}
	case len(ch.Proxies) > 0:
		l.q.noteChanged(ch.Proxies)
		fulls := l.compiler.FullCompiles()
		b = Build{Proxies: len(ch.Proxies), Err: l.proxies(ctx, ch)}
		b.Full = l.compiler.FullCompiles() != fulls // the compiler had to fall back
	default:
		n, err := l.endpoints(ctx, ch.Index, ch.Services)
		b = Build{Endpoints: n, Err: err}
	}
	b.Duration = time.Since(start)
	if b.Err == nil {
		b.Result = l.compiler.Last()
	}
	l.last = ch.Index
	return b
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
	var res *controlplane.Result
	var err error
	if l.Clock == nil {
		res, err = l.compiler.Compile(idx)
	} else {
		now := l.Clock()
		res, err = l.compiler.CompileAt(idx, now)
		l.scheduleRecheck(idx, now)
	}
	if err != nil {
		return err
	}
	return l.send(ctx, idx, res)
}

// scheduleRecheck arms the recheck timer for the next time a certificate
// of idx starts or stops being valid after now.
func (l *Loop) scheduleRecheck(idx *source.Index, now time.Time) {
	l.stopRecheck()
	l.last = idx
	if next := graph.NextCertificateTime(idx, now); !next.IsZero() {
		l.recheck = time.NewTimer(next.Sub(now))
	}
}

func (l *Loop) stopRecheck() {
	if l.recheck != nil {
		l.recheck.Stop()
		l.recheck = nil
	}
}

// compileOptions are Options with the excluded HTTPProxies.
func (l *Loop) compileOptions() controlplane.Options {
	o := l.Options
	o.Excluded = l.q.reasons()
	return o
}

// quarantineC is the Quarantine's channel; nil (never ready) without one.
func (l *Loop) quarantineC() <-chan struct{} {
	if l.Quarantine == nil {
		return nil
	}
	return l.Quarantine.Changed()
}

// recheckC is the recheck timer's channel; nil (never ready) when unarmed.
func (l *Loop) recheckC() <-chan time.Time {
	if l.recheck == nil {
		return nil
	}
	return l.recheck.C
}

// proxies recompiles the hosts the changed HTTPProxies reach (the compiler
// falls back to a full compile when it must), with the endpoints of the
// changed Services, and sends the result.
func (l *Loop) proxies(ctx context.Context, ch source.Change) error {
	res, err := l.compiler.Update(ch.Index, ch.Proxies)
	if err != nil {
		return err
	}
	if len(ch.Services) > 0 {
		if _, err := l.compiler.Endpoints(ch.Index, ch.Services); err != nil {
			return err
		}
		res = l.compiler.Last()
	}
	return l.send(ctx, ch.Index, res)
}

func (l *Loop) send(ctx context.Context, idx *source.Index, res *controlplane.Result) error {
	if err := l.XDS.SetResources(ctx, res.Resources); err != nil {
		return err
	}
	if l.OnResult != nil {
		l.OnResult(idx, res)
	}
	return nil
}

// endpoints rebuilds the ClusterLoadAssignments of the changed Services;
// the graph is untouched.
func (l *Loop) endpoints(ctx context.Context, idx *source.Index, services []types.NamespacedName) (int, error) {
	changed, err := l.compiler.Endpoints(idx, services)
	if err != nil || len(changed) == 0 {
		return 0, err
	}
	return len(changed), l.XDS.UpdateEndpoints(ctx, changed)
}
