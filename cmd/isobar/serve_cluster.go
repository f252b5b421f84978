package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/kube"
	"github.com/isobar-dev/isobar/controlplane/live"
	"github.com/isobar-dev/isobar/controlplane/server"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// serveCluster feeds the loop from the Kubernetes API and starts leader
// election and the status writer. It returns once the informers synced,
// with a function that waits until leader election has let the Lease go
// after ctx ends. The informers' changes and the status writes are counted
// in cm.
func serveCluster(ctx context.Context, f serveFlags, loop *live.Loop, log *slog.Logger, srv *server.Server, h *healthState,
	cm *contourMetrics) (wait func(), err error) {
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return nil, exitWith(exitBadInput, err)
	}
	f.contour.client(cfg)
	w, err := kube.NewWatcher(cfg, kube.Options{WatchNamespaces: f.watchNamespaces, DisableExtensionServices: f.contour.disableExtensionServices,
		RequireNamespaces: f.compile.includeGrants, OnEvent: cm.event})
	if err != nil {
		return nil, err
	}
	for _, k := range w.Skipped() {
		log.Warn("kind not served by the cluster; its CRD is not installed", "kind", k)
	}
	for _, k := range w.Forbidden() {
		log.Warn("kind not read: the account serve runs as may not list and watch it", "kind", k)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	h.setCheck(func(ctx context.Context) error {
		_, err := cs.Discovery().ServerVersion()
		return err
	})
	go func() {
		if err := w.Start(ctx); err != nil {
			log.Error("informers stopped", "error", err)
		}
	}()
	if !waitForSync(ctx, w, log) {
		return nil, ctx.Err()
	}
	loop.Source = w
	c, err := client.New(cfg, client.Options{Scheme: kube.NewScheme()})
	if err != nil {
		return nil, err
	}
	sw := &statusLoop{writer: &kube.StatusWriter{Client: c}, log: log, metrics: srv.Metrics(), contour: cm, envoyNS: f.envoyServiceNS, envoyName: f.envoyServiceName,
		statusAddress: f.statusAddress,
		kick:          make(chan struct{}, 1), refresh: w.Snapshot, statusChanged: w.StatusChanged(), rejected: srv.Rejected(), rejections: srv.Rejections}
	loop.OnResult = sw.offer
	if !f.leaderElection {
		go sw.run(ctx)
		return func() {}, nil
	}
	return electLeader(ctx, f, cs, log, sw)
}

// syncReport is how often a slow start says which kinds it waits for.
const syncReport = 10 * time.Second

// waitForSync waits until w's informers synced, or ctx ends, logging every
// syncReport the kinds still listing (a large cluster, or a kind the API
// server fails to list: its error is logged by the informer).
func waitForSync(ctx context.Context, w *kube.Watcher, log *slog.Logger) bool {
	log.Info("waiting for informers to sync")
	done := make(chan struct{})
	defer close(done)
	start := time.Now()
	go func() {
		tick := time.NewTicker(syncReport)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				log.Warn("still waiting for informers to sync", "kinds", w.Unsynced(), "waited", time.Since(start).Round(time.Second).String())
			}
		}
	}()
	return w.WaitForSync(ctx)
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	return rest.InClusterConfig()
}

// electLeader runs the status writer only while this replica holds the
// Lease; every replica keeps serving xDS. A replica that loses the Lease (an
// API server outage longer than the renew deadline) campaigns again until
// ctx ends. Its identity is the host name and a UUID, as Contour's, and
// each change of leader is a LeaderElection Event on the Lease. The
// function it returns waits (five seconds at most) until the Lease is let
// go after ctx ends, so the next replica takes over at once.
func electLeader(ctx context.Context, f serveFlags, cs *kubernetes.Clientset, log *slog.Logger, sw *statusLoop) (func(), error) {
	id, _ := os.Hostname()
	id += "_" + string(uuid.NewUUID())
	events := record.NewBroadcaster()
	events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events(f.leaseNamespace)})
	cfg := leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta: metav1ObjectMeta(f.leaseNamespace, f.leaseName),
			Client:    cs.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: id,
				EventRecorder: events.NewRecorder(clientgoscheme.Scheme, corev1.EventSource{Component: "isobar"})},
		},
		LeaseDuration: f.contour.leaseDuration, RenewDeadline: f.contour.renew, RetryPeriod: f.contour.retry,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				log.Info("became leader: writing statuses", "identity", id)
				sw.run(lctx)
			},
			OnStoppedLeading: func() { log.Info("stopped leading", "identity", id) },
		},
	}
	if _, err := leaderelection.NewLeaderElector(cfg); err != nil {
		events.Shutdown()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			le, err := leaderelection.NewLeaderElector(cfg)
			if err != nil {
				log.Error("leader election", "error", err)
				return
			}
			le.Run(ctx) // returns when the Lease is lost, or let go once ctx ends
		}
	}()
	return func() {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			log.Warn("leader election did not let the Lease go in time; the next leader waits for it to expire")
		}
		events.Shutdown() // flushes the Events already recorded
	}, nil
}

// statusLoop writes the latest statuses whenever a build offers new ones,
// on its own goroutine, so status writes never delay xDS delivery. Only the
// newest result matters: intermediate ones are skipped.
type statusLoop struct {
	writer             *kube.StatusWriter
	log                *slog.Logger
	metrics            *server.Metrics
	contour            *contourMetrics
	envoyNS, envoyName string
	// statusAddress, when set, is the list of addresses statuses carry
	// instead of the Envoy Service's (--ingress-status-address).
	statusAddress string
	// refresh returns the newest objects: statuses are compared with the
	// newest ones, never with those of the build they come from.
	refresh func() *source.Index
	// statusChanged signals an update of some object's status alone: our
	// own write coming back, or another writer's, which is put right.
	statusChanged <-chan struct{}
	// rejected signals a change of the server's standing rejections, which
	// rejections returns: the objects they name carry a warning.
	rejected   <-chan struct{}
	rejections func() []server.Rejection

	mu     sync.Mutex
	latest *pending
	kick   chan struct{}
	// failures counts the writes in a row that had failures (nextRetry).
	failures int
}

type pending struct {
	idx *source.Index
	res *controlplane.Result
}

// offer records the newest result; it never blocks.
func (s *statusLoop) offer(idx *source.Index, res *controlplane.Result) {
	s.mu.Lock()
	s.latest = &pending{idx, res}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// recheckDelay is how long the loop waits after an object's status
// changed before it compares every status again: the status updates of
// one write arrive together and cost one pass.
const recheckDelay = time.Second

func (s *statusLoop) run(ctx context.Context) {
	select { // write once on becoming leader
	case s.kick <- struct{}{}:
	default:
	}
	var recheck <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.statusChanged:
			if recheck == nil {
				recheck = time.After(recheckDelay)
			}
			continue
		case <-recheck:
			recheck = nil
		case <-s.kick:
		case <-s.rejected:
		}
		s.write(ctx)
	}
}

// write brings statuses to the newest result, compared with the newest
// objects; after conflicts or failures it tries again when nextRetry says.
func (s *statusLoop) write(ctx context.Context) {
	s.mu.Lock()
	p := s.latest
	s.mu.Unlock()
	if p == nil {
		return
	}
	current := s.refresh()
	r := s.writer.Write(ctx, current, p.idx, withRejections(p.res.Statuses, s.rejections()), s.loadBalancer(current))
	s.metrics.StatusWrites.WithLabelValues("written").Add(float64(r.Written))
	s.metrics.StatusWrites.WithLabelValues("skipped").Add(float64(r.Skipped))
	s.metrics.StatusWrites.WithLabelValues("conflict").Add(float64(r.Conflicts))
	s.metrics.StatusWrites.WithLabelValues("failed").Add(float64(r.Failed))
	if s.contour != nil {
		s.contour.statusUpdates(r)
	}
	for _, err := range r.Errors {
		s.log.Warn("status write failed", "error", err)
	}
	if delay, again := s.nextRetry(r); again {
		time.AfterFunc(delay, s.retry)
	}
}

// maxRetryDelay bounds the wait before writing again after failures.
const maxRetryDelay = 5 * time.Minute

// nextRetry says whether and when to write again after r: a second after
// conflicts (the informers catch up meanwhile); after failures (a status
// the account may not write, an API server that refuses) a delay doubling
// from a second with each write that fails again, up to maxRetryDelay, so
// a failure that lasts is neither a storm of requests nor of warnings. A
// write with no failure resets the delay. It runs on the loop's goroutine.
func (s *statusLoop) nextRetry(r kube.WriteResult) (time.Duration, bool) {
	if r.Failed == 0 {
		s.failures = 0
		return time.Second, r.Conflicts > 0
	}
	delay := min(time.Second<<min(s.failures, 16), maxRetryDelay)
	s.failures++
	return delay, true
}

// retry asks for another write of the newest result: a result offered
// since the failed write is never replaced by an older one.
func (s *statusLoop) retry() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// withRejections returns statuses with the warning of each rejection on
// the objects it names (statuses itself when none stands).
func withRejections(statuses []status.Object, rejected []server.Rejection) []status.Object {
	warn := map[status.Ref][]status.SubCondition{}
	for _, r := range rejected {
		for _, o := range r.Objects {
			warn[o] = append(warn[o], r.Warning())
		}
	}
	return status.WithWarnings(statuses, warn)
}

// loadBalancer is the address statuses carry: --ingress-status-address's,
// when set, else the Envoy Service's load balancer. No address (the Service
// is missing or has none yet) leaves the statuses' addresses as they are
// (kube.StatusWriter).
func (s *statusLoop) loadBalancer(idx *source.Index) corev1.LoadBalancerStatus {
	if s.statusAddress != "" {
		return statusAddresses(s.statusAddress)
	}
	if svc, ok := idx.Services[source.Key(s.envoyNS, s.envoyName)]; ok {
		return svc.LoadBalancer
	}
	return corev1.LoadBalancerStatus{}
}

// statusAddresses reads --ingress-status-address as Contour does: a
// comma-separated list whose items, trimmed of white space, are each an IP
// address (ip) or else a host name (hostname); empty items are skipped.
func statusAddresses(value string) corev1.LoadBalancerStatus {
	var out corev1.LoadBalancerStatus
	for _, item := range strings.Split(value, ",") {
		switch item = strings.TrimSpace(item); {
		case item == "":
		case net.ParseIP(item) != nil:
			out.Ingress = append(out.Ingress, corev1.LoadBalancerIngress{IP: item})
		default:
			out.Ingress = append(out.Ingress, corev1.LoadBalancerIngress{Hostname: item})
		}
	}
	return out
}

func metav1ObjectMeta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name}
}
