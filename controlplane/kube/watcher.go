package kube

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	heptiov1beta1 "github.com/isobar-dev/isobar/controlplane/apis/contour/v1beta1"
	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	contourv1alpha1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1alpha1"
	"github.com/isobar-dev/isobar/controlplane/source"
)

// Options select what the watcher reads.
type Options struct {
	// WatchNamespaces, when not empty, limits namespaced objects to these
	// namespaces.
	WatchNamespaces []string
	// DisableExtensionServices starts no informer for ExtensionServices
	// (Contour's --disable-feature=extensionservices): HTTPProxies that
	// name one find none.
	DisableExtensionServices bool
	// RequireNamespaces makes Namespaces a kind serve cannot start without
	// (the core reads their include grants).
	RequireNamespaces bool
	// OnEvent, when set, is called with each change an informer delivers:
	// op is "add", "update" or "delete", kind the object's kind (Contour's
	// contour_eventhandler_operation_total). It must not block.
	OnEvent func(op, kind string)
}

// secretFieldSelector keeps Secrets that can never be TLS material out of
// the informer (Helm releases are the usual memory hog, Contour #7660).
const secretFieldSelector = "type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token," +
	"type!=kubernetes.io/dockerconfigjson,type!=kubernetes.io/dockercfg,type!=bootstrap.kubernetes.io/token"

// Watcher mirrors the cluster's objects into a source.Index.
type Watcher struct {
	cache     cache.Cache
	skipped   []string
	forbidden []string

	mu   sync.Mutex
	idx  *source.Index
	full bool                          // an object other than HTTPProxies and endpoints changed since the last Take
	eps  map[types.NamespacedName]bool // Services whose endpoints changed since the last Take
	// proxies are the HTTPProxies changed since the last Take.
	proxies map[types.NamespacedName]bool
	notify  chan struct{}
	// statusNotify is signalled when only an object's status changed.
	statusNotify chan struct{}
	regs         []toolscache.ResourceEventHandlerRegistration
	kinds        []string // the kind of each of regs
}

// NewWatcher prepares informers for every kind the core reads that the
// cluster serves. Custom resources the cluster does not serve are skipped
// and listed by Skipped; optional kinds the account may not list and watch
// are skipped and listed by Forbidden, and a required one is an error
// naming the kind and the missing verbs.
func NewWatcher(cfg *rest.Config, opts Options) (*Watcher, error) {
	scheme := NewScheme()
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	mapper, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	secretSel, err := fields.ParseSelector(secretFieldSelector)
	if err != nil {
		return nil, err
	}
	copts := cache.Options{
		HTTPClient:       httpClient,
		Scheme:           scheme,
		Mapper:           mapper,
		DefaultTransform: stripManagedFields,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}:             {Field: secretSel, Transform: trimSecret},
			&corev1.Service{}:            {Transform: trimService},
			&discoveryv1.EndpointSlice{}: {Transform: trimEndpointSlice},
			&corev1.Endpoints{}:          {Transform: trimEndpoints},
		},
	}
	if len(opts.WatchNamespaces) > 0 {
		copts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range opts.WatchNamespaces {
			copts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	c, err := cache.New(cfg, copts)
	if err != nil {
		return nil, err
	}
	access, err := newAccessChecker(cfg, httpClient, opts.WatchNamespaces)
	if err != nil {
		return nil, err
	}
	w := &Watcher{cache: c, idx: source.NewIndex(), eps: map[types.NamespacedName]bool{}, proxies: map[types.NamespacedName]bool{},
		notify: make(chan struct{}, 1), statusNotify: make(chan struct{}, 1)}
	for _, obj := range watched() {
		if _, ext := obj.(*contourv1alpha1.ExtensionService); ext && opts.DisableExtensionServices {
			continue
		}
		gvk, err := apiutil.GVKForObject(obj, scheme)
		if err != nil {
			return nil, err
		}
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			if meta.IsNoMatchError(err) {
				w.skipped = append(w.skipped, gvk.String())
				continue
			}
			return nil, fmt.Errorf("discovering %s: %w", gvk, err)
		}
		if denied := access.denied(context.Background(), mapping); len(denied) > 0 {
			if required(obj, opts) {
				return nil, forbiddenError(gvk.String(), denied)
			}
			w.forbidden = append(w.forbidden, gvk.String()+" ("+strings.Join(denied, ", ")+")")
			continue
		}
		if err := w.watch(c, obj, gvk.Kind, opts.OnEvent); err != nil {
			return nil, fmt.Errorf("informer for %s: %w", gvk, err)
		}
	}
	return w, nil
}

// watch starts c's informer for obj's kind and indexes what it delivers,
// reporting each change to event when not nil.
func (w *Watcher) watch(c cache.Cache, obj client.Object, kind string, event func(op, kind string)) error {
	inf, err := c.GetInformer(context.Background(), obj)
	if err != nil {
		return err
	}
	if event == nil {
		event = func(string, string) {}
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) { event("add", kind); w.upsert(o) },
		UpdateFunc: func(old, o any) {
			event("update", kind)
			if statusOnly(old, o) {
				w.store(o) // keep the newest version without a rebuild
				return
			}
			if movedSlice(old, o) {
				w.remove(old) // the index groups slices by Service
			}
			w.upsert(o)
		},
		DeleteFunc: func(o any) { event("delete", kind); w.remove(o) },
	})
	if err != nil {
		return err
	}
	w.regs, w.kinds = append(w.regs, reg), append(w.kinds, kind)
	return nil
}

// Skipped lists the kinds the cluster does not serve (their CRDs are not
// installed); the caller logs them.
func (w *Watcher) Skipped() []string { return w.skipped }

// Forbidden lists the optional kinds the account serve runs as may not
// list and watch, each with what it may not do; their objects are not
// read, and the caller logs them. A required kind that is forbidden makes
// NewWatcher fail instead.
func (w *Watcher) Forbidden() []string { return w.forbidden }

// Start runs the informers until ctx ends. It blocks.
func (w *Watcher) Start(ctx context.Context) error { return w.cache.Start(ctx) }

// WaitForSync blocks until every informer has listed its objects and the
// watcher has indexed them, or ctx ends.
func (w *Watcher) WaitForSync(ctx context.Context) bool {
	if !w.cache.WaitForCacheSync(ctx) {
		return false
	}
	for _, r := range w.regs {
		if !toolscache.WaitForCacheSync(ctx.Done(), r.HasSynced) {
			return false
		}
	}
	return true
}

// Unsynced lists the kinds whose informers have not yet listed and indexed
// their objects, for the caller to say what a slow start waits for.
func (w *Watcher) Unsynced() []string {
	var out []string
	for i, r := range w.regs {
		if !r.HasSynced() {
			out = append(out, w.kinds[i])
		}
	}
	return out
}

// Changed is signalled (coalesced) whenever the index changes.
func (w *Watcher) Changed() <-chan struct{} { return w.notify }

// Take returns a snapshot of the index (copy on write: cheap) and what
// changed since the last Take.
func (w *Watcher) Take() source.Change {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := source.Change{Index: w.idx.Snapshot(), Full: w.full,
		Proxies: source.SortedKeys(w.proxies), Services: source.SortedKeys(w.eps)}
	w.full, w.proxies, w.eps = false, map[types.NamespacedName]bool{}, map[types.NamespacedName]bool{}
	return c
}

func (w *Watcher) upsert(o any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.idx.Upsert(o); err != nil {
		return
	}
	w.mark(o)
}

// store replaces an object without signalling a change to the
// configuration; it signals StatusChanged.
func (w *Watcher) store(o any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.idx.Upsert(o)
	select {
	case w.statusNotify <- struct{}{}:
	default:
	}
}

// StatusChanged is signalled (coalesced) whenever an update changed only
// an object's status: usually a status write coming back, sometimes
// another writer's, which the status writer then puts right.
func (w *Watcher) StatusChanged() <-chan struct{} { return w.statusNotify }

// Snapshot returns a snapshot of the current index without consuming
// changes.
func (w *Watcher) Snapshot() *source.Index {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.idx.Snapshot()
}

// statusOnly reports an update that changed nothing the core reads: the
// same generation (spec unchanged), labels and annotations — typically our
// own status write coming back.
func statusOnly(old, cur any) bool {
	a, ok1 := old.(metav1.Object)
	b, ok2 := cur.(metav1.Object)
	if !ok1 || !ok2 || a.GetGeneration() == 0 || a.GetGeneration() != b.GetGeneration() {
		return false
	}
	switch cur.(type) {
	case *contourv1.HTTPProxy, *heptiov1beta1.IngressRoute, *networkingv1.Ingress, *contourv1alpha1.ExtensionService:
	default:
		return false
	}
	return reflect.DeepEqual(a.GetLabels(), b.GetLabels()) && reflect.DeepEqual(a.GetAnnotations(), b.GetAnnotations())
}

// movedSlice reports an EndpointSlice update that moved the slice to
// another Service (its kubernetes.io/service-name label changed).
func movedSlice(old, cur any) bool {
	a, ok1 := old.(*source.EndpointSlice)
	b, ok2 := cur.(*source.EndpointSlice)
	return ok1 && ok2 && a.Service != b.Service
}

func (w *Watcher) remove(o any) {
	if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.idx.Delete(o); err != nil {
		return
	}
	w.mark(o)
}

// mark records what kind of change o is and signals Changed.
func (w *Watcher) mark(o any) {
	switch e := o.(type) {
	case *source.EndpointSlice:
		w.eps[types.NamespacedName{Namespace: e.Namespace, Name: e.Service}] = true
	case *corev1.Endpoints:
		w.eps[types.NamespacedName{Namespace: e.Namespace, Name: e.Name}] = true
	case *contourv1.HTTPProxy:
		w.proxies[types.NamespacedName{Namespace: e.Namespace, Name: e.Name}] = true
	default:
		w.full = true
	}
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// lastApplied is kubectl's annotation holding a whole copy of the object
// as it was applied: often the largest part of an object, never read.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// stripManagedFields drops managedFields and kubectl's last-applied
// annotation, which the core never reads.
func stripManagedFields(o any) (any, error) {
	if m, ok := o.(metav1Object); ok {
		m.SetManagedFields(nil)
		if a := m.GetAnnotations(); a != nil {
			if _, ok := a[lastApplied]; ok {
				delete(a, lastApplied)
				if len(a) == 0 {
					m.SetAnnotations(nil)
				}
			}
		}
	}
	return o, nil
}

// trimSecret keeps only the keys TLS uses and, of Opaque Secrets, the
// values that may be a JWT key set (an HTTPProxy's localJWKS names any
// key), so large unrelated Secrets cost little memory.
func trimSecret(o any) (any, error) {
	s, ok := o.(*corev1.Secret)
	if !ok {
		return o, nil
	}
	_, _ = stripManagedFields(s)
	keep := map[string][]byte{}
	for k, v := range s.Data {
		switch k {
		case corev1.TLSCertKey, corev1.TLSPrivateKeyKey, "ca.crt", "crl.pem":
			keep[k] = v
		default:
			if s.Type == corev1.SecretTypeOpaque && mayBeJWKS(v) {
				keep[k] = v
			}
		}
	}
	s.Data, s.StringData = keep, nil
	return s, nil
}

// maxJWKSBytes bounds the key sets trimSecret keeps.
const maxJWKSBytes = 1 << 20

// mayBeJWKS says whether v may be a JSON key set: an object naming "keys",
// of at most maxJWKSBytes (the core checks it when an HTTPProxy names it).
func mayBeJWKS(v []byte) bool {
	t := bytes.TrimSpace(v)
	return len(t) <= maxJWKSBytes && len(t) > 0 && t[0] == '{' && bytes.Contains(t, []byte(`"keys"`))
}
