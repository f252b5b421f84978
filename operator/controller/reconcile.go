package controller

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	operatorv1alpha1 "github.com/isobar-dev/isobar/operator/api/v1alpha1"
	"github.com/isobar-dev/isobar/operator/objects"
)

// Finalizer is Contour's operator's finalizer name.
const Finalizer = "contour.operator.projectcontour.io/finalizer"

// Reasons of the Available condition.
const (
	ReasonAvailable   = "ContourAvailable"
	ReasonUnavailable = "ContourUnavailable"
)

const fieldOwner = client.FieldOwner("isobar-operator")

// Reconciler reconciles Contour objects.
type Reconciler struct {
	Client client.Client
	Images objects.Images
	// Now is the clock for certificate rotation (default time.Now).
	Now func() time.Time
}

// SetupWithManager registers the reconciler and its watches.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	owner := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		l := o.GetLabels()
		if l[objects.OwnerNameLabel] == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: l[objects.OwnerNamespaceLabel], Name: l[objects.OwnerNameLabel]}}}
	})
	b := ctrl.NewControllerManagedBy(mgr).For(&operatorv1alpha1.Contour{}).Named("contour")
	for _, o := range []client.Object{&appsv1.Deployment{}, &appsv1.DaemonSet{}, &corev1.Service{}, &corev1.Secret{}, &corev1.ConfigMap{}, &corev1.ServiceAccount{}} {
		b = b.Watches(o, owner)
	}
	return b.Complete(r)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile brings one Contour's objects and status up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var c operatorv1alpha1.Contour
	if err := r.Client.Get(ctx, req.NamespacedName, &c); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !c.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, &c)
	}
	if controllerutil.AddFinalizer(&c, Finalizer) {
		if err := r.Client.Update(ctx, &c); err != nil {
			return ctrl.Result{}, err
		}
	}
	if msg, err := r.validate(ctx, &c); err != nil {
		return ctrl.Result{}, err
	} else if msg != "" {
		return ctrl.Result{}, r.setStatus(ctx, &c, metav1.ConditionFalse, ReasonUnavailable, msg, 0, 0)
	}
	if err := r.ensure(ctx, &c); err != nil {
		return ctrl.Result{}, err
	}
	return r.observe(ctx, &c)
}

// validate returns why the spec cannot be deployed, or "".
func (r *Reconciler) validate(ctx context.Context, c *operatorv1alpha1.Contour) (string, error) {
	if err := objects.Validate(c); err != nil {
		return "invalid spec: " + err.Error(), nil
	}
	var all operatorv1alpha1.ContourList
	if err := r.Client.List(ctx, &all); err != nil {
		return "", err
	}
	for _, o := range all.Items {
		if o.UID == c.UID || o.Spec.Namespace.Name != c.Spec.Namespace.Name || !o.DeletionTimestamp.IsZero() {
			continue
		}
		older := o.CreationTimestamp.Before(&c.CreationTimestamp) ||
			(o.CreationTimestamp.Equal(&c.CreationTimestamp) && o.Namespace+"/"+o.Name < c.Namespace+"/"+c.Name)
		if older {
			return fmt.Sprintf("namespace %q is already managed by Contour %s/%s; only one Contour may target a namespace",
				c.Spec.Namespace.Name, o.Namespace, o.Name), nil
		}
	}
	return "", nil
}

// ensure applies every desired object.
func (r *Reconciler) ensure(ctx context.Context, c *operatorv1alpha1.Contour) error {
	desired := []client.Object{objects.Namespace(c)}
	for _, sa := range objects.ServiceAccounts(c) {
		desired = append(desired, sa)
	}
	desired = append(desired, objects.ClusterRole(c), objects.ClusterRoleBinding(c), objects.Role(c), objects.RoleBinding(c), objects.Config(c))
	for _, s := range objects.Services(c) {
		desired = append(desired, s)
	}
	desired = append(desired, objects.Deployment(c, r.Images), objects.DaemonSet(c, r.Images))
	for _, o := range desired {
		if err := r.Client.Patch(ctx, o, client.Apply, fieldOwner, client.ForceOwnership); err != nil {
			return fmt.Errorf("apply %T %s: %w", o, o.GetName(), err)
		}
	}
	return r.ensureCerts(ctx, c)
}

// ensureCerts (re)creates the mTLS Secrets when missing or near expiry.
func (r *Reconciler) ensureCerts(ctx context.Context, c *operatorv1alpha1.Contour) error {
	rotate := false
	for _, name := range []string{objects.ServerCert, objects.EnvoyCert} {
		var s corev1.Secret
		err := r.Client.Get(ctx, types.NamespacedName{Namespace: c.Spec.Namespace.Name, Name: name}, &s)
		switch {
		case apierrors.IsNotFound(err):
			rotate = true
		case err != nil:
			return err
		case objects.NeedsRotation(&s, r.now()) || s.Labels[objects.OwnerNameLabel] != c.Name:
			rotate = true
		}
	}
	if !rotate {
		return nil
	}
	secrets, err := objects.CertSecrets(c, r.now())
	if err != nil {
		return err
	}
	for _, s := range secrets {
		if err := r.Client.Patch(ctx, s, client.Apply, fieldOwner, client.ForceOwnership); err != nil {
			return err
		}
	}
	return nil
}

// observe sets Available from the Deployment and DaemonSet.
func (r *Reconciler) observe(ctx context.Context, c *operatorv1alpha1.Contour) (ctrl.Result, error) {
	ns := c.Spec.Namespace.Name
	var d appsv1.Deployment
	var ds appsv1.DaemonSet
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: objects.ControlPlane}, &d); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: objects.Envoy}, &ds); err != nil {
		return ctrl.Result{}, err
	}
	deployOK := false
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentAvailable && cond.Status == corev1.ConditionTrue {
			deployOK = true
		}
	}
	var missing []string
	if !deployOK {
		missing = append(missing, "the control plane Deployment does not have minimum availability")
	}
	if ds.Status.NumberAvailable == 0 {
		missing = append(missing, "the Envoy DaemonSet has no available pod")
	}
	status, reason, msg := metav1.ConditionTrue, ReasonAvailable, "Contour has minimum availability."
	if len(missing) > 0 {
		status, reason, msg = metav1.ConditionFalse, ReasonUnavailable, joinMessages(missing)
	}
	return ctrl.Result{}, r.setStatus(ctx, c, status, reason, msg, d.Status.AvailableReplicas, ds.Status.NumberAvailable)
}

func joinMessages(ms []string) string {
	out := ms[0]
	for _, m := range ms[1:] {
		out += "; " + m
	}
	return out + "."
}

func (r *Reconciler) setStatus(ctx context.Context, c *operatorv1alpha1.Contour, s metav1.ConditionStatus, reason, msg string, contours, envoys int32) error {
	next := c.DeepCopy()
	next.Status.AvailableContours, next.Status.AvailableEnvoys, next.Status.ObservedGeneration = contours, envoys, c.Generation
	meta.SetStatusCondition(&next.Status.Conditions, metav1.Condition{Type: "Available", Status: s, Reason: reason, Message: msg, ObservedGeneration: c.Generation})
	if equalStatus(c.Status, next.Status) {
		return nil
	}
	return r.Client.Status().Update(ctx, next)
}

func equalStatus(a, b operatorv1alpha1.ContourStatus) bool {
	if a.AvailableContours != b.AvailableContours || a.AvailableEnvoys != b.AvailableEnvoys || a.ObservedGeneration != b.ObservedGeneration || len(a.Conditions) != len(b.Conditions) {
		return false
	}
	for i := range a.Conditions {
		x, y := a.Conditions[i], b.Conditions[i]
		if x.Type != y.Type || x.Status != y.Status || x.Reason != y.Reason || x.Message != y.Message || x.ObservedGeneration != y.ObservedGeneration {
			return false
		}
	}
	return true
}

// finalize deletes what the Contour made (the namespace only with
// removeOnDeletion) and drops the finalizer.
func (r *Reconciler) finalize(ctx context.Context, c *operatorv1alpha1.Contour) error {
	if !controllerutil.ContainsFinalizer(c, Finalizer) {
		return nil
	}
	ns := c.Spec.Namespace.Name
	del := []client.Object{
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: objects.Envoy}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: objects.ControlPlane}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: objects.Envoy}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: objects.ControlPlane}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: objects.ServerCert}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: objects.EnvoyCert}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: objects.ConfigMap}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "isobar-leader-election"}},
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "isobar-leader-election"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: objects.ControlPlane}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: objects.Envoy}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: objects.ClusterRoleName(c)}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: objects.ClusterRoleName(c)}},
	}
	if c.Spec.Namespace.RemoveOnDeletion {
		del = append(del, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	for _, o := range del {
		if err := r.Client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	controllerutil.RemoveFinalizer(c, Finalizer)
	return r.Client.Update(ctx, c)
}
