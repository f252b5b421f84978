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
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/isobar-dev/isobar/controlplane"
	"github.com/isobar-dev/isobar/controlplane/kube"
	"github.com/isobar-dev/isobar/controlplane/live"
	"github.com/isobar-dev/isobar/controlplane/server"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// serveCluster feeds the loop from the Kubernetes API and starts leader
// election and the status writer. It returns once the informers synced.
// The informers' changes and the status writes are counted in cm.
func serveCluster(ctx context.Context, f serveFlags, loop *live.Loop, log *slog.Logger, srv *server.Server, h *healthState,
	cm *contourMetrics) error {
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return exitWith(exitBadInput, err)
	}
	f.contour.client(cfg)
	w, err := kube.NewWatcher(cfg, kube.Options{WatchNamespaces: f.watchNamespaces, DisableExtensionServices: f.contour.disableExtensionServices,
		OnEvent: cm.event})
	if err != nil {
		return err
	}
	for _, k := range w.Skipped() {
		log.Warn("kind not served by the cluster; its CRD is not installed", "kind", k)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	h.check = func(ctx context.Context) error {
		_, err := cs.Discovery().ServerVersion()
		return err
	}
	go func() {
		if err := w.Start(ctx); err != nil {
			log.Error("informers stopped", "error", err)
		}
	}()
	log.Info("waiting for informers to sync")
	if !w.WaitForSync(ctx) {
		return ctx.Err()
	}
	loop.Source = w
	c, err := client.New(cfg, client.Options{Scheme: kube.NewScheme()})
	if err != nil {
		return err
	}
	sw := &statusLoop{writer: &kube.StatusWriter{Client: c}, log: log, metrics: srv.Metrics(), contour: cm, envoyNS: f.envoyServiceNS, envoyName: f.envoyServiceName,
		statusAddress: f.statusAddress,
		kick:          make(chan struct{}, 1), refresh: w.Snapshot, rejected: srv.Rejected(), rejections: srv.Rejections}
	loop.OnResult = sw.offer
	if !f.leaderElection {
		go sw.run(ctx)
		return nil
	}
	return electLeader(ctx, f, cs, log, sw)
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
// ctx ends.
func electLeader(ctx context.Context, f serveFlags, cs *kubernetes.Clientset, log *slog.Logger, sw *statusLoop) error {
	id, _ := os.Hostname()
	id += "-" + time.Now().UTC().Format("150405.000000")
	cfg := leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1ObjectMeta(f.leaseNamespace, f.leaseName),
			Client:     cs.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: id},
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
		return err
	}
	go func() {
		for ctx.Err() == nil {
			le, err := leaderelection.NewLeaderElector(cfg)
			if err != nil {
				log.Error("leader election", "error", err)
				return
			}
			le.Run(ctx) // returns when the Lease is lost or ctx ends
		}
	}()
	return nil
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
	// refresh returns the newest objects, for retrying after a conflict.
	refresh func() *source.Index
	// rejected signals a change of the server's standing rejections, which
	// rejections returns: the objects they name carry a warning.
	rejected   <-chan struct{}
	rejections func() []server.Rejection

	mu     sync.Mutex
	latest *pending
	kick   chan struct{}
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

func (s *statusLoop) run(ctx context.Context) {
	select { // write once on becoming leader
	case s.kick <- struct{}{}:
	default:
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-s.rejected:
		}
		s.mu.Lock()
		p := s.latest
		s.mu.Unlock()
		if p == nil {
			continue
		}
		r := s.writer.Write(ctx, p.idx, withRejections(p.res.Statuses, s.rejections()), s.loadBalancer(p.idx))
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
		if r.Conflicts > 0 || r.Failed > 0 {
			time.AfterFunc(time.Second, func() { s.offer(s.refresh(), p.res) })
		}
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
		return svc.Status.LoadBalancer
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
