package controller

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/isobar-dev/isobar/internal/goldentest"
	operatorv1alpha1 "github.com/isobar-dev/isobar/operator/api/v1alpha1"
	"github.com/isobar-dev/isobar/operator/objects"
)

var (
	k8s    client.Client
	cfg    *rest.Config
	images = objects.Images{Isobar: "isobar:test", Envoy: "envoy:test"}
)

// TestMain runs one envtest API server and the operator for every test.
func TestMain(m *testing.M) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		os.Stderr.WriteString("KUBEBUILDER_ASSETS is not set: run `make test`, or export KUBEBUILDER_ASSETS=$(make -s envtest-assets)\n")
		os.Exit(1)
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{goldentest.Path("deploy/operator/crds")}, ErrorIfCRDPathMissing: true}
	var err error
	if cfg, err = env.Start(); err != nil {
		panic(err)
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(operatorv1alpha1.AddToScheme(scheme))
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		panic(err)
	}
	if err := (&Reconciler{Client: mgr.GetClient(), Images: images}).SetupWithManager(mgr); err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = mgr.Start(ctx) }()
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		panic(err)
	}
	code := m.Run()
	cancel()
	_ = env.Stop()
	os.Exit(code)
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func available(t *testing.T, key types.NamespacedName) *metav1.Condition {
	t.Helper()
	var c operatorv1alpha1.Contour
	if err := k8s.Get(context.Background(), key, &c); err != nil {
		return nil
	}
	return meta.FindStatusCondition(c.Status.Conditions, "Available")
}

// TestSeedSample applies the seed's Contour (spec: {}) and follows it to
// READY True / ContourAvailable, then repairs drift and deletes it.
func TestSeedSample(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile(goldentest.Path("fixtures/seeds/operator-contour-sample/contour.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c operatorv1alpha1.Contour
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatal(err)
	}
	c.Namespace = "default"
	if err := k8s.Create(ctx, &c); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(&c)
	// The API server fills the defaults.
	if err := k8s.Get(ctx, key, &c); err != nil {
		t.Fatal(err)
	}
	if c.Spec.Namespace.Name != "projectcontour" || c.Spec.Namespace.RemoveOnDeletion || c.Spec.Replicas != 2 {
		t.Fatalf("defaults not applied: %+v", c.Spec)
	}
	var d appsv1.Deployment
	eventually(t, "the Deployment", func() bool {
		return k8s.Get(ctx, types.NamespacedName{Namespace: "projectcontour", Name: "contour"}, &d) == nil
	})
	if *d.Spec.Replicas != 2 || d.Spec.Template.Spec.Containers[0].LivenessProbe.HTTPGet.Path != "/healthz" ||
		d.Spec.Template.Spec.Containers[0].ReadinessProbe.TCPSocket.Port.IntValue() != 8001 || d.Spec.Template.Spec.Containers[0].Args[0] != "serve" {
		t.Errorf("Deployment: %+v", d.Spec.Template.Spec.Containers[0])
	}
	var ds appsv1.DaemonSet
	eventually(t, "the DaemonSet", func() bool {
		return k8s.Get(ctx, types.NamespacedName{Namespace: "projectcontour", Name: "envoy"}, &ds) == nil
	})
	init := ds.Spec.Template.Spec.InitContainers[0]
	if init.Args[0] != "bootstrap" || init.Args[1] != "/config/envoy.json" || ds.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Path != "/ready" {
		t.Errorf("DaemonSet: init %v, readiness %v", init.Args, ds.Spec.Template.Spec.Containers[0].ReadinessProbe)
	}
	for _, o := range []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "projectcontour", Name: "envoy"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "projectcontour", Name: "contour"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "projectcontour", Name: "contourcert"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "projectcontour", Name: "envoycert"}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "projectcontour", Name: "isobar"}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "isobar-projectcontour"}},
	} {
		eventually(t, o.GetName(), func() bool { return k8s.Get(ctx, client.ObjectKeyFromObject(o), o) == nil })
	}
	eventually(t, "Available False", func() bool {
		a := available(t, key)
		return a != nil && a.Status == metav1.ConditionFalse && a.Reason == ReasonUnavailable
	})
	// What the kubelet and the controllers would report.
	d.Status = appsv1.DeploymentStatus{Replicas: 2, AvailableReplicas: 2, ReadyReplicas: 2,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"}}}
	if err := k8s.Status().Update(ctx, &d); err != nil {
		t.Fatal(err)
	}
	ds.Status = appsv1.DaemonSetStatus{NumberAvailable: 3, DesiredNumberScheduled: 3, NumberReady: 3}
	if err := k8s.Status().Update(ctx, &ds); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Available True", func() bool {
		a := available(t, key)
		return a != nil && a.Status == metav1.ConditionTrue && a.Reason == ReasonAvailable
	})
	// `kubectl get contour` columns, through the API's table output.
	cs := kubernetes.NewForConfigOrDie(cfg)
	raw, err := cs.RESTClient().Get().AbsPath("/apis/operator.projectcontour.io/v1alpha1/namespaces/default/contours/contour-sample").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, cd := range table.ColumnDefinitions {
		cols = append(cols, cd.Name)
	}
	if len(table.Rows) != 1 || len(cols) < 3 || cols[0] != "Name" || cols[1] != "Ready" || cols[2] != "Reason" ||
		table.Rows[0].Cells[0] != "contour-sample" || table.Rows[0].Cells[1] != "True" || table.Rows[0].Cells[2] != "ContourAvailable" {
		t.Errorf("kubectl get contour: columns %v rows %v", cols, table.Rows)
	}
	// Drift: a deleted Deployment comes back; an edited Service is reverted.
	if err := k8s.Delete(ctx, &d); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Deployment recreated", func() bool {
		var again appsv1.Deployment
		return k8s.Get(ctx, client.ObjectKeyFromObject(&d), &again) == nil && again.UID != d.UID
	})
	var svc corev1.Service
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error { // the operator may be applying it meanwhile
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: "projectcontour", Name: "envoy"}, &svc); err != nil {
			return err
		}
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			t.Fatalf("envoy Service type %s", svc.Spec.Type)
		}
		svc.Spec.Type = corev1.ServiceTypeNodePort
		return k8s.Update(ctx, &svc)
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Service type reverted", func() bool {
		var again corev1.Service
		return k8s.Get(ctx, client.ObjectKeyFromObject(&svc), &again) == nil && again.Spec.Type == corev1.ServiceTypeLoadBalancer
	})
	// Deletion without removeOnDeletion keeps the namespace.
	if err := k8s.Delete(ctx, &c); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Contour gone", func() bool { return apierrors.IsNotFound(k8s.Get(ctx, key, &c)) })
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: "projectcontour", Name: "envoy"}, &ds); !apierrors.IsNotFound(err) {
		t.Errorf("the DaemonSet was not removed: %v", err)
	}
	var ns corev1.Namespace
	if err := k8s.Get(ctx, types.NamespacedName{Name: "projectcontour"}, &ns); err != nil || !ns.DeletionTimestamp.IsZero() {
		t.Errorf("the namespace must stay: %v %v", err, ns.DeletionTimestamp)
	}
}

// TestConflictsAndInvalidSpec: a second Contour for a namespace and a spec
// with clashing ports are refused with a condition that says why.
func TestConflictsAndInvalidSpec(t *testing.T) {
	ctx := context.Background()
	first := &operatorv1alpha1.Contour{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "first"},
		Spec: operatorv1alpha1.ContourSpec{Namespace: operatorv1alpha1.NamespaceSpec{Name: "shared", RemoveOnDeletion: true}}}
	if err := k8s.Create(ctx, first); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first Contour's Deployment", func() bool {
		var d appsv1.Deployment
		return k8s.Get(ctx, types.NamespacedName{Namespace: "shared", Name: "contour"}, &d) == nil
	})
	second := &operatorv1alpha1.Contour{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "second"},
		Spec: operatorv1alpha1.ContourSpec{Namespace: operatorv1alpha1.NamespaceSpec{Name: "shared"}}}
	if err := k8s.Create(ctx, second); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second Contour refused", func() bool {
		a := available(t, client.ObjectKeyFromObject(second))
		return a != nil && a.Status == metav1.ConditionFalse && a.Message == `namespace "shared" is already managed by Contour default/first; only one Contour may target a namespace`
	})
	bad := &operatorv1alpha1.Contour{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bad"},
		Spec: operatorv1alpha1.ContourSpec{Namespace: operatorv1alpha1.NamespaceSpec{Name: "bad-ns"},
			NetworkPublishing: operatorv1alpha1.NetworkPublishing{Envoy: operatorv1alpha1.EnvoyNetworkPublishing{
				Type:           operatorv1alpha1.LoadBalancerService,
				ContainerPorts: []operatorv1alpha1.ContainerPort{{Name: "http", PortNumber: 8080}, {Name: "https", PortNumber: 8080}}}}}}
	if err := k8s.Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the invalid spec refused", func() bool {
		a := available(t, client.ObjectKeyFromObject(bad))
		return a != nil && a.Status == metav1.ConditionFalse && a.Message == `invalid spec: container ports "http" and "https" both use 8080`
	})
	// removeOnDeletion: the namespace goes with the Contour.
	if err := k8s.Delete(ctx, first); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the namespace deleted", func() bool {
		var ns corev1.Namespace
		err := k8s.Get(ctx, types.NamespacedName{Name: "shared"}, &ns)
		return apierrors.IsNotFound(err) || !ns.DeletionTimestamp.IsZero()
	})
}

// TestSpecConfig: spec.config reaches the control plane's file through the
// API server (nested mappings kept), under the keys the operator manages.
func TestSpecConfig(t *testing.T) {
	ctx := context.Background()
	c := &operatorv1alpha1.Contour{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "configured"},
		Spec: operatorv1alpha1.ContourSpec{Namespace: operatorv1alpha1.NamespaceSpec{Name: "configured"},
			Config: &runtime.RawExtension{Raw: []byte(`{"compression":{"algorithm":"zstd"},"envoy-service-namespace":"elsewhere",` +
				`"tracing":{"extensionService":"obs/otel","customTags":[{"tagName":"team","literal":"pay"}]}}`)}}}
	if err := k8s.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	eventually(t, "the ConfigMap", func() bool {
		return k8s.Get(ctx, types.NamespacedName{Namespace: "configured", Name: "isobar"}, &cm) == nil
	})
	want := "compression:\n  algorithm: zstd\nenableExternalNameService: false\nenvoy-service-name: envoy\nenvoy-service-namespace: configured\n" +
		"tracing:\n  customTags:\n  - literal: pay\n    tagName: team\n  extensionService: obs/otel\n"
	if got := cm.Data["isobar.yaml"]; got != want {
		t.Errorf("isobar.yaml:\n%s\nwant:\n%s", got, want)
	}
	// A new file rolls the control plane out: its pod template changes.
	var d appsv1.Deployment
	key := types.NamespacedName{Namespace: "configured", Name: "contour"}
	eventually(t, "the Deployment", func() bool { return k8s.Get(ctx, key, &d) == nil })
	before := d.Spec.Template.Annotations[objects.ConfigHashAnnotation]
	if before == "" {
		t.Fatalf("no %s on the pod template", objects.ConfigHashAnnotation)
	}
	// The operator writes the Contour's status meanwhile: retry on conflict.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(c), c); err != nil {
			return err
		}
		c.Spec.Config = &runtime.RawExtension{Raw: []byte(`{"compression":{"algorithm":"brotli"}}`)}
		return k8s.Update(ctx, c)
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pod template's new hash", func() bool {
		return k8s.Get(ctx, key, &d) == nil && d.Spec.Template.Annotations[objects.ConfigHashAnnotation] != before
	})
}
