package kube

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// WriteResult counts what one Write did.
type WriteResult struct {
	// Written, Skipped, Conflicts and Failed are the sums of Kinds'.
	Written, Skipped, Conflicts, Failed int
	// Kinds are the counts by object kind.
	Kinds map[string]*KindResult
	// Errors holds up to ten errors, for the caller to log.
	Errors []error
}

// KindResult counts one kind's objects by what Write did with them.
type KindResult struct {
	Written, Skipped, Conflicts, Failed int
}

// StatusWriter writes statuses to the API server. It never blocks xDS
// delivery: callers run Write in its own goroutine, and a newer call simply
// recomputes from the newest statuses.
type StatusWriter struct {
	Client client.Client
	// Workers is the number of parallel writers (default 8).
	Workers int
	// Now is the clock for lastTransitionTime (default time.Now).
	Now func() time.Time

	// patchForbidden is set once the API server refused a status patch:
	// Contour's ClusterRole grants update on the status subresources, not
	// patch, and writes then read the object and update its status.
	patchForbidden atomic.Bool
}

type job struct {
	obj     client.Object
	desired client.Object
	kind    string
}

// Write brings the status of every HTTPProxy, IngressRoute, Ingress and
// ExtensionService in
// current (the informer's newest view, which holds each object's present
// status) to what objs and lb say (an lb with no address leaves the
// addresses in place). Objects whose status already matches are skipped
// without a request. built, when not nil, is the view objs were computed
// from: an object whose spec changed since (its generation differs in
// current) is left for the build of its new spec, so a status never claims
// a generation it was not computed from.
func (w *StatusWriter) Write(ctx context.Context, current, built *source.Index, objs []status.Object, lb corev1.LoadBalancerStatus) WriteResult {
	jobs := w.jobs(current, built, objs, lb)
	res := WriteResult{Kinds: map[string]*KindResult{}}
	var mu sync.Mutex
	kind := func(k string) *KindResult { // under mu
		if res.Kinds[k] == nil {
			res.Kinds[k] = &KindResult{}
		}
		return res.Kinds[k]
	}
	for _, o := range objs {
		kind(string(o.Kind)).Skipped++
	}
	for _, j := range jobs {
		kind(j.kind).Skipped--
	}
	ch := make(chan job)
	var wg sync.WaitGroup
	workers := w.Workers
	if workers <= 0 {
		workers = 8
	}
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				err := w.write(ctx, j)
				mu.Lock()
				switch k := kind(j.kind); {
				case err == nil:
					k.Written++
				case apierrors.IsConflict(err):
					k.Conflicts++ // the informer brings the new version; the next Write retries
				case apierrors.IsNotFound(err):
				default:
					k.Failed++
					if len(res.Errors) < 10 {
						res.Errors = append(res.Errors, err)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
	for _, k := range res.Kinds {
		res.Written, res.Skipped, res.Conflicts, res.Failed = res.Written+k.Written, res.Skipped+k.Skipped, res.Conflicts+k.Conflicts, res.Failed+k.Failed
	}
	return res
}

// write changes the status of one object. A merge patch of the status
// alone, tied to the version read: the informer's copy lacks what its
// transforms drop (managedFields, kubectl's last-applied annotation), which
// an update of the whole object could otherwise erase. Where patch is
// forbidden, update reads the object first.
func (w *StatusWriter) write(ctx context.Context, j job) error {
	if !w.patchForbidden.Load() {
		err := w.Client.Status().Patch(ctx, j.desired, client.MergeFromWithOptions(j.obj, client.MergeFromWithOptimisticLock{}))
		if !apierrors.IsForbidden(err) {
			return err
		}
		w.patchForbidden.Store(true)
	}
	return w.update(ctx, j)
}

// update reads the object from the API server, gives it the desired status
// and updates its status subresource, tied to the version read. An object
// whose spec changed since the informer's copy is a conflict: the status
// was computed from the older spec.
func (w *StatusWriter) update(ctx context.Context, j job) error {
	fresh := j.obj.DeepCopyObject().(client.Object)
	if err := w.Client.Get(ctx, client.ObjectKeyFromObject(j.obj), fresh); err != nil {
		return err
	}
	if fresh.GetGeneration() != j.obj.GetGeneration() {
		return apierrors.NewConflict(schema.GroupResource{}, j.obj.GetName(), errors.New("the object changed since it was read"))
	}
	switch f := fresh.(type) {
	case *contourv1.HTTPProxy:
		f.Status = j.desired.(*contourv1.HTTPProxy).Status
	case *heptiov1beta1.IngressRoute:
		f.Status = j.desired.(*heptiov1beta1.IngressRoute).Status
	case *contourv1alpha1.ExtensionService:
		f.Status = j.desired.(*contourv1alpha1.ExtensionService).Status
	case *networkingv1.Ingress:
		f.Status = j.desired.(*networkingv1.Ingress).Status
	}
	return w.Client.Status().Update(ctx, fresh)
}

// jobs computes the objects whose status must change. An lb with no
// address (the Envoy Service is missing or has none yet) changes no
// object's load-balancer status: each keeps the address it has, as in
// Contour, which writes addresses only when it has some.
func (w *StatusWriter) jobs(current, built *source.Index, objs []status.Object, lb corev1.LoadBalancerStatus) []job {
	now := metav1.NewTime(w.now())
	var out []job
	for _, o := range objs {
		key := source.Key(o.Namespace, o.Name)
		switch o.Kind {
		case status.KindHTTPProxy:
			p, ok := current.HTTPProxies.Get(key)
			if !ok || outdated(built, o, p.Generation) {
				continue
			}
			st := proxyStatus(o, p.Status, p.Generation, lb, now)
			if !apiequality.Semantic.DeepEqual(p.Status, st) { // most statuses did not change: copy only the others
				d := p.DeepCopy()
				d.Status = st
				out = append(out, job{p, d, string(o.Kind)})
			}
		case status.KindIngressRoute:
			r, ok := current.IngressRoutes[key]
			if !ok || outdated(built, o, r.Generation) {
				continue
			}
			st := *r.Status.DeepCopy()
			st.CurrentStatus, st.Description, st.LoadBalancer = string(o.CurrentStatus), o.Description, lbOrKept(lb, r.Status.LoadBalancer)
			if !apiequality.Semantic.DeepEqual(r.Status, st) {
				d := r.DeepCopy()
				d.Status = st
				out = append(out, job{r, d, string(o.Kind)})
			}
		case status.KindExtensionService:
			e, ok := current.ExtensionServices[key]
			if !ok || outdated(built, o, e.Generation) {
				continue
			}
			st := contourv1alpha1.ExtensionServiceStatus{Conditions: detailedConditions(o, e.Status.Conditions, e.Generation, now)}
			if !apiequality.Semantic.DeepEqual(e.Status, st) {
				d := e.DeepCopy()
				d.Status = st
				out = append(out, job{e, d, string(o.Kind)})
			}
		case status.KindIngress:
			ing, ok := current.Ingresses[key]
			if !ok || len(lb.Ingress) == 0 { // an Ingress's status is its address alone
				continue
			}
			st := networkingv1.IngressStatus{LoadBalancer: ingressLB(lb)}
			if !apiequality.Semantic.DeepEqual(ing.Status, st) {
				d := ing.DeepCopy()
				d.Status = st
				out = append(out, job{ing, d, string(o.Kind)})
			}
		}
	}
	return out
}

// outdated reports whether the object o names had another generation in
// built than gen: its spec changed after the build o comes from.
func outdated(built *source.Index, o status.Object, gen int64) bool {
	if built == nil {
		return false
	}
	key := source.Key(o.Namespace, o.Name)
	var was metav1.Object
	switch o.Kind {
	case status.KindHTTPProxy:
		if p, ok := built.HTTPProxies.Get(key); ok {
			was = p
		}
	case status.KindIngressRoute:
		if r, ok := built.IngressRoutes[key]; ok {
			was = r
		}
	case status.KindExtensionService:
		if e, ok := built.ExtensionServices[key]; ok {
			was = e
		}
	}
	return was != nil && was.GetGeneration() != gen
}

func (w *StatusWriter) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// proxyStatus converts one status.Object to Contour's HTTPProxy status,
// keeping lastTransitionTime when the condition's status did not change.
func proxyStatus(o status.Object, prev contourv1.HTTPProxyStatus, gen int64, lb corev1.LoadBalancerStatus, now metav1.Time) contourv1.HTTPProxyStatus {
	out := contourv1.HTTPProxyStatus{
		CurrentStatus: string(o.CurrentStatus),
		Description:   o.Description,
		LoadBalancer:  lbOrKept(lb, prev.LoadBalancer),
		Conditions:    detailedConditions(o, prev.Conditions, gen, now),
	}
	return out
}

// detailedConditions converts the conditions of o to Contour's, keeping
// lastTransitionTime when a condition's status did not change since prev.
func detailedConditions(o status.Object, prev []contourv1.DetailedCondition, gen int64, now metav1.Time) []contourv1.DetailedCondition {
	var out []contourv1.DetailedCondition
	for _, c := range o.Conditions {
		dc := contourv1.DetailedCondition{Condition: metav1.Condition{
			Type: c.Type, Status: metav1.ConditionStatus(c.Status), Reason: c.Reason, Message: c.Message,
			ObservedGeneration: gen, LastTransitionTime: now,
		}}
		for _, pc := range prev {
			if pc.Type == c.Type && pc.Status == dc.Status {
				dc.LastTransitionTime = pc.LastTransitionTime
			}
		}
		for _, e := range c.Errors {
			dc.Errors = append(dc.Errors, contourv1.SubCondition{Type: string(e.Type), Status: metav1.ConditionStatus(e.Status), Reason: e.Reason, Message: e.Message})
		}
		for _, e := range c.Warnings {
			dc.Warnings = append(dc.Warnings, contourv1.SubCondition{Type: string(e.Type), Status: metav1.ConditionStatus(e.Status), Reason: e.Reason, Message: e.Message})
		}
		out = append(out, dc)
	}
	return out
}

// lbOrKept is the load-balancer status an object whose status holds prev
// gets: lb, or a copy of prev when lb has no address.
func lbOrKept(lb, prev corev1.LoadBalancerStatus) corev1.LoadBalancerStatus {
	if len(lb.Ingress) == 0 {
		return *prev.DeepCopy()
	}
	return lb
}

// ingressLB converts the Envoy Service's load-balancer status to Ingress's:
// each entry's IP, host name and ports (port, protocol and error), as
// Contour copies them.
func ingressLB(lb corev1.LoadBalancerStatus) networkingv1.IngressLoadBalancerStatus {
	var out networkingv1.IngressLoadBalancerStatus
	for _, i := range lb.Ingress {
		e := networkingv1.IngressLoadBalancerIngress{IP: i.IP, Hostname: i.Hostname}
		for _, p := range i.Ports {
			ps := networkingv1.IngressPortStatus{Port: p.Port, Protocol: p.Protocol}
			if p.Error != nil {
				msg := *p.Error
				ps.Error = &msg
			}
			e.Ports = append(e.Ports, ps)
		}
		out.Ingress = append(out.Ingress, e)
	}
	return out
}
