package objects

import (
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	operatorv1alpha1 "github.com/isobar-dev/isobar/operator/api/v1alpha1"
)

// Labels marking what a Contour owns (Contour's operator's names).
const (
	OwnerNameLabel      = "contour.operator.projectcontour.io/owning-contour-name"
	OwnerNamespaceLabel = "contour.operator.projectcontour.io/owning-contour-namespace"
)

// Names of the objects.
const (
	ControlPlane  = "contour"
	Envoy         = "envoy"
	ConfigMap     = "isobar"
	ServerCert    = "contourcert"
	EnvoyCert     = "envoycert"
	LeaderLease   = "isobar-leader"
	XDSPort       = 8001
	MetricsPort   = 8000
	EnvoyAdmin    = 9001
	EnvoyReady    = 8002
	ShutdownPort  = 8090
	DefaultIsobar = "ghcr.io/isobar-dev/isobar:latest"
	DefaultEnvoy  = "docker.io/envoyproxy/envoy:v1.36.2"
)

// Images are the container images to run.
type Images struct{ Isobar, Envoy string }

// Labels returns the owning labels of c.
func Labels(c *operatorv1alpha1.Contour) map[string]string {
	return map[string]string{OwnerNameLabel: c.Name, OwnerNamespaceLabel: c.Namespace, "app.kubernetes.io/managed-by": "isobar-operator"}
}

func meta(c *operatorv1alpha1.Contour, name string, extra map[string]string) metav1.ObjectMeta {
	l := Labels(c)
	for k, v := range extra {
		l[k] = v
	}
	return metav1.ObjectMeta{Name: name, Namespace: c.Spec.Namespace.Name, Labels: l}
}

// Namespace is the target namespace.
func Namespace(c *operatorv1alpha1.Contour) *corev1.Namespace {
	m := meta(c, c.Spec.Namespace.Name, nil)
	m.Namespace = ""
	return &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: m}
}

// ServiceAccounts are the accounts of the control plane and of Envoy.
func ServiceAccounts(c *operatorv1alpha1.Contour) []*corev1.ServiceAccount {
	var out []*corev1.ServiceAccount
	for _, n := range []string{ControlPlane, Envoy} {
		out = append(out, &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta(c, n, nil)})
	}
	return out
}

// ClusterRoleName is the name of the cluster-scoped RBAC objects.
func ClusterRoleName(c *operatorv1alpha1.Contour) string { return "isobar-" + c.Spec.Namespace.Name }

// ClusterRole grants only what `isobar serve` needs: read the objects it
// translates, write their status.
func ClusterRole(c *operatorv1alpha1.Contour) *rbacv1.ClusterRole {
	var m metav1.ObjectMeta
	if c != nil { // nil: only the rules, for the operator's own role
		m = meta(c, ClusterRoleName(c), nil)
		m.Namespace = ""
	}
	read := []string{"get", "list", "watch"}
	return &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"}, ObjectMeta: m,
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"services", "endpoints", "secrets", "namespaces"}, Verbs: read},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: read},
			{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses", "ingressclasses"}, Verbs: read},
			{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses/status"}, Verbs: []string{"update", "patch"}},
			{APIGroups: []string{"projectcontour.io"}, Resources: []string{"httpproxies", "tlscertificatedelegations", "extensionservices"}, Verbs: read},
			{APIGroups: []string{"projectcontour.io"}, Resources: []string{"httpproxies/status", "extensionservices/status"}, Verbs: []string{"update", "patch"}},
			{APIGroups: []string{"contour.heptio.com"}, Resources: []string{"ingressroutes", "tlscertificatedelegations"}, Verbs: read},
			{APIGroups: []string{"contour.heptio.com"}, Resources: []string{"ingressroutes/status"}, Verbs: []string{"update", "patch"}},
		}}
}

// ClusterRoleBinding binds the ClusterRole to the control plane.
func ClusterRoleBinding(c *operatorv1alpha1.Contour) *rbacv1.ClusterRoleBinding {
	m := meta(c, ClusterRoleName(c), nil)
	m.Namespace = ""
	return &rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"}, ObjectMeta: m,
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: ClusterRoleName(c)},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: ControlPlane, Namespace: c.Spec.Namespace.Name}}}
}

// Role lets the control plane hold the leader-election Lease and record
// the LeaderElection Events on it.
func Role(c *operatorv1alpha1.Contour) *rbacv1.Role {
	return &rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"}, ObjectMeta: meta(c, "isobar-leader-election", nil),
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create", "get", "update"}},
			{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		}}
}

// RoleBinding binds Role to the control plane.
func RoleBinding(c *operatorv1alpha1.Contour) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"}, ObjectMeta: meta(c, "isobar-leader-election", nil),
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "isobar-leader-election"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: ControlPlane, Namespace: c.Spec.Namespace.Name}}}
}

// Config is the ConfigMap holding the control plane's configuration, in
// the format of Contour's configuration file (`isobar serve --config-path`
// reads it; the ingress class has no key there and is a flag): spec.config,
// with the spec's own fields and the keys the operator manages over it.
// The file is YAML with sorted keys, so it only changes with the spec.
func Config(c *operatorv1alpha1.Contour) *corev1.ConfigMap {
	doc := map[string]any{}
	if raw := c.Spec.Config; raw != nil && len(raw.Raw) > 0 {
		// The API server keeps only objects here (the CRD's type); a value
		// that is not one leaves the operator's keys alone.
		_ = json.Unmarshal(raw.Raw, &doc)
	}
	delete(doc, "kubeconfig")
	delete(doc, "incluster")
	doc["envoy-service-namespace"], doc["envoy-service-name"] = c.Spec.Namespace.Name, Envoy
	if v := c.Spec.EnableExternalNameService; v != nil || doc["enableExternalNameService"] == nil {
		doc["enableExternalNameService"] = v != nil && *v
	}
	if fb := c.Spec.FallbackCertificate; fb != nil {
		tls, _ := doc["tls"].(map[string]any)
		if tls == nil {
			tls = map[string]any{}
		}
		tls["fallback-certificate"] = map[string]any{"name": fb.Name, "namespace": fb.Namespace}
		doc["tls"] = tls
	}
	file, err := yaml.Marshal(doc)
	if err != nil {
		panic(err) // cannot happen: decoded from JSON or built here
	}
	return &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: meta(c, ConfigMap, nil),
		Data: map[string]string{"isobar.yaml": string(file)}}
}

// ContainerPort returns the named Envoy container port (http or https).
func ContainerPort(c *operatorv1alpha1.Contour, name string) int32 {
	for _, p := range c.Spec.NetworkPublishing.Envoy.ContainerPorts {
		if p.Name == name {
			return p.PortNumber
		}
	}
	if name == "https" {
		return 8443
	}
	return 8080
}

// Services are the xDS Service of the control plane and the Envoy Service.
func Services(c *operatorv1alpha1.Contour) []*corev1.Service {
	xds := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: meta(c, ControlPlane, nil),
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: map[string]string{"app": ControlPlane, OwnerNameLabel: c.Name},
			Ports: []corev1.ServicePort{{Name: "xds", Port: XDSPort, TargetPort: intstr.FromInt32(XDSPort), Protocol: corev1.ProtocolTCP}}}}
	envoy := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: meta(c, Envoy, nil),
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": Envoy, OwnerNameLabel: c.Name},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: intstr.FromInt32(ContainerPort(c, "http")), Protocol: corev1.ProtocolTCP},
				{Name: "https", Port: 443, TargetPort: intstr.FromInt32(ContainerPort(c, "https")), Protocol: corev1.ProtocolTCP},
			}}}
	switch c.Spec.NetworkPublishing.Envoy.Type {
	case operatorv1alpha1.NodePortService:
		envoy.Spec.Type = corev1.ServiceTypeNodePort
		for _, np := range c.Spec.NetworkPublishing.Envoy.NodePorts {
			for i := range envoy.Spec.Ports {
				if envoy.Spec.Ports[i].Name == np.Name && np.PortNumber != nil {
					envoy.Spec.Ports[i].NodePort = *np.PortNumber
				}
			}
		}
	case operatorv1alpha1.ClusterIPService:
		envoy.Spec.Type = corev1.ServiceTypeClusterIP
	default:
		envoy.Spec.Type = corev1.ServiceTypeLoadBalancer
		envoy.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		if c.Spec.NetworkPublishing.Envoy.LoadBalancer.Scope == "Internal" {
			envoy.Annotations = map[string]string{"networking.gke.io/load-balancer-type": "Internal",
				"service.beta.kubernetes.io/azure-load-balancer-internal": "true", "service.beta.kubernetes.io/aws-load-balancer-internal": "true"}
		}
	}
	return []*corev1.Service{xds, envoy}
}

// Validate reports what makes a spec impossible to deploy: duplicate or
// clashing container ports, node ports on a non-NodePort Service.
func Validate(c *operatorv1alpha1.Contour) error {
	seen := map[int32]string{}
	names := map[string]bool{}
	for _, p := range c.Spec.NetworkPublishing.Envoy.ContainerPorts {
		if names[p.Name] {
			return fmt.Errorf("container port %q is given twice", p.Name)
		}
		names[p.Name] = true
		if other, ok := seen[p.PortNumber]; ok {
			return fmt.Errorf("container ports %q and %q both use %d", other, p.Name, p.PortNumber)
		}
		seen[p.PortNumber] = p.Name
		if p.PortNumber == EnvoyAdmin || p.PortNumber == EnvoyReady || p.PortNumber == ShutdownPort {
			return fmt.Errorf("container port %q uses %d, which Envoy's admin, readiness and shutdown-manager ports need", p.Name, p.PortNumber)
		}
	}
	if len(c.Spec.NetworkPublishing.Envoy.NodePorts) > 0 && c.Spec.NetworkPublishing.Envoy.Type != operatorv1alpha1.NodePortService {
		return fmt.Errorf("nodePorts are set but networkPublishing.envoy.type is %s, not NodePortService", c.Spec.NetworkPublishing.Envoy.Type)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
