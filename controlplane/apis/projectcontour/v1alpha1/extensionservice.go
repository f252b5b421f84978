package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// ExtensionService is a gRPC server Envoy calls on the way (today: an
// external authorization server an HTTPProxy names in
// spec.virtualhost.authorization). It becomes one Envoy cluster named
// extension/<namespace>/<name>, balancing over Services of its own
// namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=extensionservice;extensionservices
type ExtensionService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ExtensionServiceSpec `json:"spec,omitempty"`
	// +optional
	Status ExtensionServiceStatus `json:"status,omitempty"`
}

// ExtensionServiceSpec says where the extension runs and how Envoy talks
// to it.
type ExtensionServiceSpec struct {
	// Services are Services of the ExtensionService's namespace, with
	// their share of the requests.
	// +kubebuilder:validation:MinItems=1
	Services []ExtensionServiceTarget `json:"services"`
	// UpstreamValidation, when set, verifies the server's certificate
	// (only with protocol h2).
	// +optional
	UpstreamValidation *contourv1.UpstreamValidation `json:"validation,omitempty"`
	// Protocol is h2 (gRPC over TLS, the default) or h2c (cleartext);
	// http/1.1, which Contour's CRD allows, cannot carry gRPC.
	// +optional
	// +kubebuilder:validation:Enum=http/1.1;h2;h2c
	Protocol *string `json:"protocol,omitempty"`
	// LoadBalancerPolicy picks an endpoint (Cookie and RequestHash are
	// not supported and ignored).
	// +optional
	LoadBalancerPolicy *contourv1.LoadBalancerPolicy `json:"loadBalancerPolicy,omitempty"`
	// TimeoutPolicy: response is the default time to wait for the
	// server's answer; idle is not supported.
	// +optional
	TimeoutPolicy *contourv1.TimeoutPolicy `json:"timeoutPolicy,omitempty"`
	// ProtocolVersion is the version of the extension's API; only v3.
	// +optional
	// +kubebuilder:validation:Enum=v3
	ProtocolVersion ExtensionProtocolVersion `json:"protocolVersion,omitempty"`
	// CircuitBreakerPolicy limits the connections and requests to the
	// extension.
	// +optional
	CircuitBreakerPolicy *CircuitBreakers `json:"circuitBreakerPolicy,omitempty"`
}

// ExtensionProtocolVersion is the version of an extension's API.
type ExtensionProtocolVersion string

// SupportProtocolVersion3 is the only extension API version.
const SupportProtocolVersion3 ExtensionProtocolVersion = "v3"

// ExtensionServiceTarget is one Service port of an ExtensionService.
type ExtensionServiceTarget struct {
	// Name is a Service in the ExtensionService's namespace.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Port is the Service's port.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int `json:"port"`
	// Weight is the Service's relative share of the requests.
	// +optional
	Weight uint32 `json:"weight,omitempty"`
}

// CircuitBreakers are Envoy's circuit-breaker thresholds; zero leaves
// Envoy's default.
type CircuitBreakers struct {
	// +optional
	MaxConnections uint32 `json:"maxConnections,omitempty"`
	// +optional
	MaxPendingRequests uint32 `json:"maxPendingRequests,omitempty"`
	// +optional
	MaxRequests uint32 `json:"maxRequests,omitempty"`
	// +optional
	MaxRetries uint32 `json:"maxRetries,omitempty"`
	// +optional
	PerHostMaxConnections uint32 `json:"perHostMaxConnections,omitempty"`
}

// ExtensionServiceStatus is the status Isobar computes: a Valid condition
// with error sub-conditions, as Contour's.
type ExtensionServiceStatus struct {
	// +optional
	Conditions []contourv1.DetailedCondition `json:"conditions,omitempty"`
}

// ExtensionServiceList is a list of ExtensionServices.
//
// +kubebuilder:object:root=true
type ExtensionServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExtensionService `json:"items"`
}
