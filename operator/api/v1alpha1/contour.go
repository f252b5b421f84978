package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Contour asks for an Isobar control plane (Deployment) and an Envoy fleet
// (DaemonSet) in a namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,path=contours,singular=contour
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=".status.conditions[?(@.type==\"Available\")].status"
// +kubebuilder:printcolumn:name="Reason",type="string",JSONPath=".status.conditions[?(@.type==\"Available\")].reason"
type Contour struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +kubebuilder:default={replicas: 2, namespace: {name: projectcontour, removeOnDeletion: false}}
	Spec   ContourSpec   `json:"spec,omitempty"`
	Status ContourStatus `json:"status,omitempty"`
}

// ContourList is a list of Contours.
//
// +kubebuilder:object:root=true
type ContourList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Contour `json:"items"`
}

// ContourSpec describes the control plane and Envoy fleet.
type ContourSpec struct {
	// Replicas of the control plane Deployment.
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// Namespace the control plane and Envoy run in.
	// +kubebuilder:default={name: projectcontour, removeOnDeletion: false}
	// +optional
	Namespace NamespaceSpec `json:"namespace,omitempty"`
	// NetworkPublishing says how Envoy is exposed.
	// +kubebuilder:default={envoy: {type: LoadBalancerService, containerPorts: {{name: http, portNumber: 8080}, {name: https, portNumber: 8443}}}}
	// +optional
	NetworkPublishing NetworkPublishing `json:"networkPublishing,omitempty"`
	// IngressClassName is the only ingress class the control plane serves.
	// +optional
	IngressClassName *string `json:"ingressClassName,omitempty"`
	// NodePlacement constrains where the pods run.
	// +optional
	NodePlacement *NodePlacement `json:"nodePlacement,omitempty"`
	// EnableExternalNameService allows ExternalName Services as upstreams.
	// +optional
	EnableExternalNameService *bool `json:"enableExternalNameService,omitempty"`
	// IncludeGrants makes HTTPProxy includes and IngressRoute delegations
	// across namespaces need the included namespace's consent: the
	// annotation isobar.dev/include-from on its Namespace lists the
	// including namespace, or "*" (an Isobar extension; `serve --include-grants`).
	// +optional
	IncludeGrants *bool `json:"includeGrants,omitempty"`
	// VHDS sends the insecure listener's virtual hosts one by one over
	// Envoy's Virtual Host Discovery Service, so that a change to one
	// insecure host sends that host to every Envoy instead of the route
	// configuration holding all of them (an Isobar extension; `serve --vhds`).
	// +optional
	VHDS *bool `json:"vhds,omitempty"`
	// ExcludeRejected takes an HTTPProxy Envoy rejected out of the
	// configuration until its spec changes (an Isobar extension;
	// `serve --exclude-rejected`).
	// +optional
	ExcludeRejected *bool `json:"excludeRejected,omitempty"`
	// FallbackCertificate, when set, is the TLS Secret served to clients
	// that send no server name, for the HTTPProxies that set
	// tls.enableFallbackCertificate (Contour's tls.fallback-certificate).
	// +optional
	FallbackCertificate *SecretReference `json:"fallbackCertificate,omitempty"`
	// Config is more of Contour's configuration file (contour.yaml), as
	// a mapping: compression, tracing, globalExtAuth, timeouts, tls, ...
	// It goes to the control plane's file, where the fields above and the
	// keys the operator manages (envoy-service-*, kubeconfig, incluster)
	// win; the control plane refuses a file with a key Contour does not
	// know or a bad value, and reports the keys it ignores in its log.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	Config *runtime.RawExtension `json:"config,omitempty"`
}

// SecretReference names a Secret.
type SecretReference struct {
	// Name is the Secret's name.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Namespace is the Secret's namespace.
	// +kubebuilder:validation:MinLength=1
	Namespace string `json:"namespace"`
}

// NamespaceSpec is the namespace of the deployment.
type NamespaceSpec struct {
	// +kubebuilder:default=projectcontour
	// +optional
	Name string `json:"name,omitempty"`
	// RemoveOnDeletion deletes the namespace when the Contour is deleted.
	// +kubebuilder:default=false
	// +optional
	RemoveOnDeletion bool `json:"removeOnDeletion,omitempty"`
}

// NetworkPublishing describes how Envoy is exposed.
type NetworkPublishing struct {
	// +optional
	Envoy EnvoyNetworkPublishing `json:"envoy,omitempty"`
}

// PublishingType is how the Envoy Service is exposed.
// +kubebuilder:validation:Enum=LoadBalancerService;NodePortService;ClusterIPService
type PublishingType string

// Publishing types.
const (
	LoadBalancerService PublishingType = "LoadBalancerService"
	NodePortService     PublishingType = "NodePortService"
	ClusterIPService    PublishingType = "ClusterIPService"
)

// EnvoyNetworkPublishing describes the Envoy Service.
type EnvoyNetworkPublishing struct {
	// +kubebuilder:default=LoadBalancerService
	// +optional
	Type PublishingType `json:"type,omitempty"`
	// +optional
	LoadBalancer LoadBalancerStrategy `json:"loadBalancer,omitempty"`
	// NodePorts for NodePortService (http, https).
	// +optional
	NodePorts []NodePort `json:"nodePorts,omitempty"`
	// ContainerPorts of Envoy's listeners (http, https).
	// +kubebuilder:default={{name: http, portNumber: 8080}, {name: https, portNumber: 8443}}
	// +optional
	ContainerPorts []ContainerPort `json:"containerPorts,omitempty"`
}

// LoadBalancerStrategy tunes a LoadBalancer Service.
type LoadBalancerStrategy struct {
	// +kubebuilder:validation:Enum=External;Internal
	// +optional
	Scope string `json:"scope,omitempty"`
	// +optional
	ProviderParameters ProviderLoadBalancerParameters `json:"providerParameters,omitempty"`
}

// ProviderLoadBalancerParameters are cloud specifics.
type ProviderLoadBalancerParameters struct {
	// +kubebuilder:validation:Enum=AWS;Azure;GCP
	// +optional
	Type string `json:"type,omitempty"`
}

// NodePort is a node port for a named Service port.
type NodePort struct {
	// +kubebuilder:validation:Enum=http;https
	Name string `json:"name"`
	// +kubebuilder:validation:Minimum=30000
	// +kubebuilder:validation:Maximum=32767
	// +optional
	PortNumber *int32 `json:"portNumber,omitempty"`
}

// ContainerPort is a named Envoy container port.
type ContainerPort struct {
	// +kubebuilder:validation:Enum=http;https
	Name string `json:"name"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	PortNumber int32 `json:"portNumber"`
}

// NodePlacement constrains the control plane and Envoy pods.
type NodePlacement struct {
	// +optional
	Contour *PodPlacement `json:"contour,omitempty"`
	// +optional
	Envoy *PodPlacement `json:"envoy,omitempty"`
}

// PodPlacement is a node selector and tolerations.
type PodPlacement struct {
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
}

// ContourStatus is what the operator observes.
type ContourStatus struct {
	// AvailableContours is the number of available control plane pods.
	// +optional
	AvailableContours int32 `json:"availableContours"`
	// AvailableEnvoys is the number of available Envoy pods.
	// +optional
	AvailableEnvoys int32 `json:"availableEnvoys"`
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions hold Available (ContourAvailable / ContourUnavailable).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
