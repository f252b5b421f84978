package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// HTTPProxy is Contour's ingress object: a root (with a virtualhost) owns a
// host name; children are included by roots and add routes under the
// conditions of their include.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,path=httpproxies,shortName=proxy;proxies,singular=httpproxy
// +kubebuilder:printcolumn:name="FQDN",type="string",JSONPath=".spec.virtualhost.fqdn",description="Fully qualified domain name"
// +kubebuilder:printcolumn:name="TLS Secret",type="string",JSONPath=".spec.virtualhost.tls.secretName",description="Secret with TLS credentials"
// +kubebuilder:printcolumn:name="Status",type="string",JSONPath=".status.currentStatus",description="The current status of the HTTPProxy"
// +kubebuilder:printcolumn:name="Status Description",type="string",JSONPath=".status.description",description="Description of the current status"
type HTTPProxy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`

	Spec HTTPProxySpec `json:"spec"`
	// Status is what the controller says of the HTTPProxy; the API server
	// starts it as Contour's CRD does, NotReconciled until a controller
	// writes it (an HTTPProxy outside the watched namespaces keeps it).
	// +optional
	// +kubebuilder:default={currentStatus: "NotReconciled", description:"Waiting for controller"}
	Status HTTPProxyStatus `json:"status,omitempty"`
}

// HTTPProxyList is a list of HTTPProxies.
//
// +kubebuilder:object:root=true
type HTTPProxyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []HTTPProxy `json:"items"`
}

// HTTPProxySpec is what an HTTPProxy asks for.
type HTTPProxySpec struct {
	// VirtualHost makes this HTTPProxy a root that owns a host name.
	// +optional
	VirtualHost *VirtualHost `json:"virtualhost,omitempty"`
	// Routes are the HTTP routes of this HTTPProxy.
	// +optional
	Routes []Route `json:"routes,omitempty"`
	// Includes delegate paths (and header/query conditions) to other HTTPProxies.
	// +optional
	Includes []Include `json:"includes,omitempty"`
	// TCPProxy forwards the TLS connection of the virtual host to Services.
	// +optional
	TCPProxy *TCPProxy `json:"tcpproxy,omitempty"`
	// IngressClassName selects the ingress controller that serves this object.
	// +optional
	IngressClassName string `json:"ingressClassName,omitempty"`
}

// VirtualHost is the host a root HTTPProxy owns and what applies to all of it.
type VirtualHost struct {
	// Fqdn is the host name, in lower case, e.g. www.example.com or
	// *.example.com.
	// +kubebuilder:validation:Pattern="^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
	// +kubebuilder:validation:MinLength=1
	Fqdn string `json:"fqdn"`
	// TLS serves the host over HTTPS.
	// +optional
	TLS *TLS `json:"tls,omitempty"`
	// Authorization configures an external authorization server.
	// +optional
	Authorization *AuthorizationServer `json:"authorization,omitempty"`
	// CORSPolicy configures cross-origin requests.
	// +optional
	CORSPolicy *CORSPolicy `json:"corsPolicy,omitempty"`
	// RateLimitPolicy limits request rates for the whole host.
	// +optional
	RateLimitPolicy *RateLimitPolicy `json:"rateLimitPolicy,omitempty"`
	// JWTProviders verify JSON Web Tokens.
	// +optional
	JWTProviders []JWTProvider `json:"jwtProviders,omitempty"`
	// IPAllowFilterPolicy lets only these addresses in.
	// +optional
	IPAllowFilterPolicy []IPFilterPolicy `json:"ipAllowPolicy,omitempty"`
	// IPDenyFilterPolicy keeps these addresses out.
	// +optional
	IPDenyFilterPolicy []IPFilterPolicy `json:"ipDenyPolicy,omitempty"`
}

// TLS configures HTTPS for a virtual host.
type TLS struct {
	// SecretName is "name" or "namespace/name" (the latter needs a
	// TLSCertificateDelegation).
	// +optional
	SecretName string `json:"secretName,omitempty"`
	// MinimumProtocolVersion is "1.2" (the default) or "1.3"; any other
	// value is ignored (with a warning) and the default is used.
	// +optional
	MinimumProtocolVersion string `json:"minimumProtocolVersion,omitempty"`
	// MaximumProtocolVersion is "1.2" or "1.3" (the default); any other
	// value is ignored (with a warning) and the default is used.
	// +optional
	MaximumProtocolVersion string `json:"maximumProtocolVersion,omitempty"`
	// Passthrough forwards the encrypted stream to the tcpproxy Services.
	// +optional
	Passthrough bool `json:"passthrough,omitempty"`
	// ClientValidation requires client certificates.
	// +optional
	ClientValidation *DownstreamValidation `json:"clientValidation,omitempty"`
	// EnableFallbackCertificate serves clients that send no SNI.
	// +optional
	EnableFallbackCertificate bool `json:"enableFallbackCertificate,omitempty"`
}

// DownstreamValidation configures client certificate checks.
type DownstreamValidation struct {
	// CACertificate is the Secret (ca.crt) client certificates must chain to.
	// +optional
	// +kubebuilder:validation:MinLength=1
	CACertificate string `json:"caSecret,omitempty"`
	// SkipClientCertValidation accepts any client certificate.
	// +optional
	SkipClientCertValidation bool `json:"skipClientCertValidation,omitempty"`
	// ForwardClientCertificate adds x-forwarded-client-cert details.
	// +optional
	ForwardClientCertificate *ClientCertificateDetails `json:"forwardClientCertificate,omitempty"`
	// CertificateRevocationList is a Secret (crl.pem) with CRLs.
	// +optional
	// +kubebuilder:validation:MinLength=1
	CertificateRevocationList string `json:"crlSecret,omitempty"`
	// OnlyVerifyLeafCertCrl checks the CRL of the leaf only.
	// +optional
	OnlyVerifyLeafCertCrl bool `json:"crlOnlyVerifyLeafCert,omitempty"`
	// OptionalClientCertificate lets clients without a certificate in.
	// +optional
	OptionalClientCertificate bool `json:"optionalClientCertificate,omitempty"`
}

// ClientCertificateDetails selects what is forwarded about client certificates.
type ClientCertificateDetails struct {
	Subject bool `json:"subject,omitempty"`
	Cert    bool `json:"cert,omitempty"`
	Chain   bool `json:"chain,omitempty"`
	DNS     bool `json:"dns,omitempty"`
	URI     bool `json:"uri,omitempty"`
}

// Include delegates part of a host to another HTTPProxy.
type Include struct {
	// Name of the included HTTPProxy.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Namespace of the included HTTPProxy; defaults to this one's.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Conditions the included routes are placed under (prefix, header,
	// queryParameter).
	// +optional
	Conditions []MatchCondition `json:"conditions,omitempty"`
}

// MatchCondition is one condition: a path (prefix, exact or regex), a
// header or a query parameter.
type MatchCondition struct {
	// +optional
	Prefix string `json:"prefix,omitempty"`
	// +optional
	Exact string `json:"exact,omitempty"`
	// +optional
	Regex string `json:"regex,omitempty"`
	// +optional
	Header *HeaderMatchCondition `json:"header,omitempty"`
	// +optional
	QueryParameter *QueryParameterMatchCondition `json:"queryParameter,omitempty"`
}

// HeaderMatchCondition matches a request header.
type HeaderMatchCondition struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	Present bool `json:"present,omitempty"`
	// +optional
	NotPresent bool `json:"notpresent,omitempty"`
	// +optional
	Contains string `json:"contains,omitempty"`
	// +optional
	NotContains string `json:"notcontains,omitempty"`
	// +optional
	IgnoreCase bool `json:"ignoreCase,omitempty"`
	// +optional
	Exact string `json:"exact,omitempty"`
	// +optional
	NotExact string `json:"notexact,omitempty"`
	// +optional
	Regex string `json:"regex,omitempty"`
	// +optional
	TreatMissingAsEmpty bool `json:"treatMissingAsEmpty,omitempty"`
}

// QueryParameterMatchCondition matches a query parameter.
type QueryParameterMatchCondition struct {
	Name string `json:"name"`
	// +optional
	Exact string `json:"exact,omitempty"`
	// +optional
	Prefix string `json:"prefix,omitempty"`
	// +optional
	Suffix string `json:"suffix,omitempty"`
	// +optional
	Regex string `json:"regex,omitempty"`
	// +optional
	Contains string `json:"contains,omitempty"`
	// +optional
	IgnoreCase bool `json:"ignoreCase,omitempty"`
	// +optional
	Present bool `json:"present,omitempty"`
}
