package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IngressRoute is the heptio-era ingress object: a root (with a
// virtualhost) owns a host; routes either point at Services or delegate
// their prefix to another IngressRoute.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,path=ingressroutes,singular=ingressroute
// +kubebuilder:printcolumn:name="FQDN",type="string",JSONPath=".spec.virtualhost.fqdn",description="Fully qualified domain name"
// +kubebuilder:printcolumn:name="TLS Secret",type="string",JSONPath=".spec.virtualhost.tls.secretName",description="Secret with TLS credentials"
// +kubebuilder:printcolumn:name="First route",type="string",JSONPath=".spec.routes[0].match",description="First routes defined"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.currentStatus",description="The current status of the IngressRoute"
// +kubebuilder:printcolumn:name="Status Description",type="string",JSONPath=".status.description",description="Description of the current status"
type IngressRoute struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	Spec IngressRouteSpec `json:"spec"`
	// +optional
	Status Status `json:"status,omitempty"`
}

// IngressRouteList is a list of IngressRoutes.
//
// +kubebuilder:object:root=true
type IngressRouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []IngressRoute `json:"items"`
}

// IngressRouteSpec is what an IngressRoute asks for.
type IngressRouteSpec struct {
	// VirtualHost makes this IngressRoute a root.
	// +optional
	VirtualHost *VirtualHost `json:"virtualhost,omitempty"`
	// +optional
	Routes []Route `json:"routes,omitempty"`
	// +optional
	TCPProxy *TCPProxy `json:"tcpproxy,omitempty"`
}

// VirtualHost is the host a root owns.
type VirtualHost struct {
	Fqdn string `json:"fqdn"`
	// +optional
	TLS *TLS `json:"tls,omitempty"`
}

// TLS configures HTTPS for a virtual host.
type TLS struct {
	// SecretName is "name" or "namespace/name" (delegated).
	// +optional
	SecretName string `json:"secretName,omitempty"`
	// +optional
	MinimumProtocolVersion string `json:"minimumProtocolVersion,omitempty"`
	// +optional
	Passthrough bool `json:"passthrough,omitempty"`
}

// Route is a prefix match with Services or a delegation.
type Route struct {
	// Match is a path prefix.
	Match string `json:"match"`
	// +optional
	Services []Service `json:"services,omitempty"`
	// Delegate hands this prefix to another IngressRoute.
	// +optional
	Delegate *Delegate `json:"delegate,omitempty"`
	// +optional
	EnableWebsockets bool `json:"enableWebsockets,omitempty"`
	// +optional
	PermitInsecure bool `json:"permitInsecure,omitempty"`
	// PrefixRewrite replaces the matched prefix upstream.
	// +optional
	PrefixRewrite string `json:"prefixRewrite,omitempty"`
	// +optional
	TimeoutPolicy *TimeoutPolicy `json:"timeoutPolicy,omitempty"`
	// +optional
	RetryPolicy *RetryPolicy `json:"retryPolicy,omitempty"`
}

// TCPProxy forwards TLS connections.
type TCPProxy struct {
	// +optional
	Services []Service `json:"services,omitempty"`
	// +optional
	Delegate *Delegate `json:"delegate,omitempty"`
}

// Service is an upstream Service port.
type Service struct {
	Name string `json:"name"`
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int `json:"port"`
	// +optional
	Weight uint32 `json:"weight,omitempty"`
	// +optional
	HealthCheck *HealthCheck `json:"healthCheck,omitempty"`
	// Strategy is RoundRobin, WeightedLeastRequest, Random or Cookie.
	// +optional
	Strategy string `json:"strategy,omitempty"`
	// +optional
	UpstreamValidation *UpstreamValidation `json:"validation,omitempty"`
}

// UpstreamValidation verifies a TLS upstream.
type UpstreamValidation struct {
	CACertificate string `json:"caSecret"`
	SubjectName   string `json:"subjectName"`
}

// Delegate names another IngressRoute.
type Delegate struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// HealthCheck is an active HTTP health check.
type HealthCheck struct {
	Path string `json:"path"`
	// +optional
	Host string `json:"host,omitempty"`
	// +optional
	IntervalSeconds int64 `json:"intervalSeconds,omitempty"`
	// +optional
	TimeoutSeconds int64 `json:"timeoutSeconds,omitempty"`
	// +optional
	UnhealthyThresholdCount uint32 `json:"unhealthyThresholdCount,omitempty"`
	// +optional
	HealthyThresholdCount uint32 `json:"healthyThresholdCount,omitempty"`
}

// TimeoutPolicy sets the request timeout ("infinity" disables it).
type TimeoutPolicy struct {
	// +optional
	Request string `json:"request,omitempty"`
}

// RetryPolicy configures retries.
type RetryPolicy struct {
	// +optional
	NumRetries uint32 `json:"count,omitempty"`
	// +optional
	PerTryTimeout string `json:"perTryTimeout,omitempty"`
}

// Status is the status of an IngressRoute.
type Status struct {
	// +optional
	CurrentStatus string `json:"currentStatus,omitempty"`
	// +optional
	Description string `json:"description,omitempty"`
	// +optional
	LoadBalancer corev1.LoadBalancerStatus `json:"loadBalancer,omitempty"`
}
