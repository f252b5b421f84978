package objects

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	operatorv1alpha1 "github.com/isobar-dev/isobar/operator/api/v1alpha1"
)

func placement(p *operatorv1alpha1.PodPlacement, spec *corev1.PodSpec) {
	if p != nil {
		spec.NodeSelector, spec.Tolerations = p.NodeSelector, p.Tolerations
	}
}

// Deployment runs `isobar serve`: liveness GET /healthz on the metrics port,
// readiness a TCP check of the xDS port (the seed's architecture page).
func Deployment(c *operatorv1alpha1.Contour, img Images) *appsv1.Deployment {
	labels := map[string]string{"app": ControlPlane, OwnerNameLabel: c.Name}
	replicas := c.Spec.Replicas
	args := []string{"serve", "--xds-address=0.0.0.0", fmt.Sprintf("--xds-port=%d", XDSPort),
		"--http-address=0.0.0.0", fmt.Sprintf("--http-port=%d", MetricsPort),
		"--stats-address=0.0.0.0", fmt.Sprintf("--stats-port=%d", EnvoyReady),
		"--xds-ca-file=/certs/ca.crt", "--xds-cert-file=/certs/tls.crt", "--xds-key-file=/certs/tls.key",
		"--config-path=/config/isobar.yaml",
		"--leader-election-namespace=$(ISOBAR_NAMESPACE)", "--envoy-service-namespace=$(ISOBAR_NAMESPACE)",
		fmt.Sprintf("--envoy-service-http-port=%d", ContainerPort(c, "http")), fmt.Sprintf("--envoy-service-https-port=%d", ContainerPort(c, "https"))}
	if c.Spec.IngressClassName != nil {
		args = append(args, "--ingress-class="+*c.Spec.IngressClassName)
	}
	if c.Spec.EnableExternalNameService != nil && *c.Spec.EnableExternalNameService {
		args = append(args, "--enable-external-name")
	}
	if c.Spec.IncludeGrants != nil && *c.Spec.IncludeGrants {
		args = append(args, "--include-grants")
	}
	if c.Spec.VHDS != nil && *c.Spec.VHDS {
		args = append(args, "--vhds")
	}
	if c.Spec.ExcludeRejected != nil && *c.Spec.ExcludeRejected {
		args = append(args, "--exclude-rejected")
	}
	pod := corev1.PodSpec{
		ServiceAccountName: ControlPlane,
		Containers: []corev1.Container{{
			Name: "isobar", Image: img.Isobar, Args: args,
			Env:   []corev1.EnvVar{{Name: "ISOBAR_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}},
			Ports: []corev1.ContainerPort{{Name: "xds", ContainerPort: XDSPort}, {Name: "metrics", ContainerPort: MetricsPort}},
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(MetricsPort)}},
				PeriodSeconds: 10, FailureThreshold: 6},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(XDSPort)}},
				PeriodSeconds: 10},
			VolumeMounts:    []corev1.VolumeMount{{Name: "certs", MountPath: "/certs", ReadOnly: true}, {Name: "config", MountPath: "/config", ReadOnly: true}},
			SecurityContext: &corev1.SecurityContext{RunAsNonRoot: ptr(true), AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true)},
		}},
		Volumes: []corev1.Volume{
			{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: ServerCert}}},
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMap}}}},
		},
	}
	if c.Spec.NodePlacement != nil {
		placement(c.Spec.NodePlacement.Contour, &pod)
	}
	// serve reads its file once: a new file rolls the pods out.
	sum := sha256.Sum256([]byte(Config(c).Data["isobar.yaml"]))
	annotations := map[string]string{ConfigHashAnnotation: hex.EncodeToString(sum[:8])}
	return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: meta(c, ControlPlane, nil),
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations}, Spec: pod}}}
}

// ConfigHashAnnotation, on the control plane's pod template, is a digest
// of its configuration file (the Config ConfigMap): the pods are replaced
// when the file changes, since serve reads it at start.
const ConfigHashAnnotation = "isobar.dev/config-hash"

// DaemonSet runs Envoy on every node: an init container writes the
// bootstrap with `isobar bootstrap`, whose admin endpoint stays on the
// pod's loopback; readiness is GET /ready on the stats-health listener the
// control plane serves (EnvoyReady, --stats-port), the only admin paths
// reachable from outside the pod; the shutdown-manager sidecar drains Envoy before either container
// is signalled.
func DaemonSet(c *operatorv1alpha1.Contour, img Images) *appsv1.DaemonSet {
	labels := map[string]string{"app": Envoy, OwnerNameLabel: c.Name}
	httpPort, httpsPort := ContainerPort(c, "http"), ContainerPort(c, "https")
	pod := corev1.PodSpec{
		ServiceAccountName:            Envoy,
		TerminationGracePeriodSeconds: ptr(int64(300)),
		InitContainers: []corev1.Container{{
			Name: "envoy-initconfig", Image: img.Isobar,
			Args: []string{"bootstrap", "/config/envoy.json", "--xds-address=" + ControlPlane, fmt.Sprintf("--xds-port=%d", XDSPort),
				"--admin-address=127.0.0.1", fmt.Sprintf("--admin-port=%d", EnvoyAdmin), "--resources-dir=/config/resources",
				"--xds-ca-file=/certs/ca.crt", "--xds-cert-file=/certs/tls.crt", "--xds-key-file=/certs/tls.key"},
			VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/config"}, {Name: "certs", MountPath: "/certs", ReadOnly: true}},
		}},
		Containers: []corev1.Container{{
			Name: "envoy", Image: img.Envoy,
			Command: []string{"envoy"},
			Args: []string{"-c", "/config/envoy.json", "--service-cluster", "$(ISOBAR_NAMESPACE)", "--service-node", "$(ENVOY_POD_NAME)", "--log-level", "info",
				"--drain-time-s", "60"},
			Env: []corev1.EnvVar{
				{Name: "ISOBAR_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
				{Name: "ENVOY_POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			},
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: httpPort}, {Name: "https", ContainerPort: httpsPort}, {Name: "metrics", ContainerPort: EnvoyReady}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(EnvoyReady)}},
				PeriodSeconds: 4, InitialDelaySeconds: 3},
			Lifecycle:    drainHook(),
			VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/config", ReadOnly: true}, {Name: "certs", MountPath: "/certs", ReadOnly: true}},
		}, shutdownManager(img)},
		Volumes: []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: EnvoyCert}}},
		},
	}
	if c.Spec.NodePlacement != nil {
		placement(c.Spec.NodePlacement.Envoy, &pod)
	}
	return &appsv1.DaemonSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}, ObjectMeta: meta(c, Envoy, nil),
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromString("10%"))}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: pod}}}
}

// shutdownManager is the sidecar that drains Envoy when the pod stops
// (`isobar envoy shutdown-manager`): the envoyproxy/envoy image has no HTTP
// client to send Envoy's admin the POSTs a drain takes, and a sidecar
// without a hook of its own would be stopped at once.
func shutdownManager(img Images) corev1.Container {
	return corev1.Container{
		Name: "shutdown-manager", Image: img.Isobar,
		Args: []string{"envoy", "shutdown-manager", fmt.Sprintf("--port=%d", ShutdownPort),
			"--admin-address=127.0.0.1", fmt.Sprintf("--admin-port=%d", EnvoyAdmin), fmt.Sprintf("--stats-port=%d", EnvoyReady),
			"--drain-timeout=270s"},
		Ports: []corev1.ContainerPort{{Name: "shutdown", ContainerPort: ShutdownPort}},
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(ShutdownPort)}},
			PeriodSeconds: 10, InitialDelaySeconds: 3},
		Lifecycle: drainHook(),
	}
}

// drainHook is both containers' preStop: GET /shutdown on the shutdown
// manager, which answers when Envoy is drained, so that neither Envoy nor
// the manager is signalled before (the kubelet signals a container when
// its hook returns; the pod's grace period, 300 s, bounds it).
func drainHook() *corev1.Lifecycle {
	return &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{
		Path: "/shutdown", Port: intstr.FromInt32(ShutdownPort)}}}
}

func ptr[T any](v T) *T { return &v }
