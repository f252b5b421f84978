package v1

import corev1 "k8s.io/api/core/v1"

// The types in this file are HTTPProxy's policies: authorization, CORS,
// rate limits, JWT verification and the others Contour defines.

// AuthorizationServer configures external authorization.
// +kubebuilder:validation:XValidation:message="httpSettings can only be set when serviceType is 'http'",rule="!has(self.httpSettings) || self.serviceType == 'http'"
type AuthorizationServer struct {
	// +optional
	ExtensionServiceRef ExtensionServiceReference `json:"extensionRef,omitempty"`
	// ServiceType is the protocol of the server: Envoy's gRPC
	// authorization API (grpc) or plain HTTP requests (http).
	// +optional
	// +kubebuilder:validation:Enum=http;grpc
	// +kubebuilder:default=grpc
	ServiceType AuthorizationServiceType `json:"serviceType,omitempty"`
	// HTTPServerSettings tune the requests to an http server.
	// +optional
	HTTPServerSettings *HTTPAuthorizationServerSettings `json:"httpSettings,omitempty"`
	// +optional
	AuthPolicy *AuthorizationPolicy `json:"authPolicy,omitempty"`
	// +optional
	// +kubebuilder:validation:Pattern=`^(((\d*(\.\d*)?h)|(\d*(\.\d*)?m)|(\d*(\.\d*)?s)|(\d*(\.\d*)?ms)|(\d*(\.\d*)?us)|(\d*(\.\d*)?µs)|(\d*(\.\d*)?ns))+|infinity|infinite)$`
	ResponseTimeout string `json:"responseTimeout,omitempty"`
	// +optional
	FailOpen bool `json:"failOpen,omitempty"`
	// +optional
	WithRequestBody *AuthorizationServerBufferSettings `json:"withRequestBody,omitempty"`
}

// AuthorizationServiceType is the protocol of an authorization server.
type AuthorizationServiceType string

// The authorization server protocols.
const (
	AuthorizationGRPCService AuthorizationServiceType = "grpc"
	AuthorizationHTTPService AuthorizationServiceType = "http"
)

// HTTPAuthorizationServerSettings tune the requests Envoy sends to an HTTP
// authorization server.
type HTTPAuthorizationServerSettings struct {
	// PathPrefix is put before the request's path in the check's path.
	// +optional
	PathPrefix string `json:"pathPrefix,omitempty"`
	// AllowedAuthorizationHeaders are the client's request headers sent
	// to the server, besides Host, Method, Path, Content-Length and
	// Authorization.
	// +optional
	AllowedAuthorizationHeaders []HTTPAuthorizationServerAllowedHeaders `json:"allowedAuthorizationHeaders,omitempty"`
	// AllowedUpstreamHeaders are the server's response headers added to
	// the request sent upstream.
	// +optional
	AllowedUpstreamHeaders []HTTPAuthorizationServerAllowedHeaders `json:"allowedUpstreamHeaders,omitempty"`
}

// HTTPAuthorizationServerAllowedHeaders matches header names by exactly
// one of Exact, Prefix, Suffix or Contains.
// +kubebuilder:validation:XValidation:message="only one of prefix, suffix, exact, and contains should be set in the allowedHeader",rule="(has(self.exact) ? 1 : 0) + (has(self.prefix) ? 1 : 0) + (has(self.suffix) ? 1 : 0) + (has(self.contains) ? 1 : 0) == 1"
type HTTPAuthorizationServerAllowedHeaders struct {
	// +optional
	Exact string `json:"exact,omitempty"`
	// +optional
	Prefix string `json:"prefix,omitempty"`
	// +optional
	Suffix string `json:"suffix,omitempty"`
	// +optional
	Contains string `json:"contains,omitempty"`
	// IgnoreCase matches names in any case.
	// +optional
	IgnoreCase bool `json:"ignoreCase,omitempty"`
}

// ExtensionServiceReference names an ExtensionService.
type ExtensionServiceReference struct {
	// +optional
	// +kubebuilder:validation:MinLength=1
	APIVersion string `json:"apiVersion,omitempty"`
	// +optional
	// +kubebuilder:validation:MinLength=1
	Namespace string `json:"namespace,omitempty"`
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name,omitempty"`
}

// AuthorizationPolicy tunes authorization per route.
type AuthorizationPolicy struct {
	// +optional
	Disabled bool `json:"disabled,omitempty"`
	// +optional
	Context map[string]string `json:"context,omitempty"`
}

// AuthorizationServerBufferSettings buffers request bodies for authorization.
type AuthorizationServerBufferSettings struct {
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=1024
	MaxRequestBytes uint32 `json:"maxRequestBytes,omitempty"`
	// +optional
	AllowPartialMessage bool `json:"allowPartialMessage,omitempty"`
	// +optional
	PackAsBytes bool `json:"packAsBytes,omitempty"`
}

// CORSHeaderValue is a header name or method in a CORS policy.
// +kubebuilder:validation:Pattern="^[a-zA-Z0-9!#$%&'*+.^_`|~-]+$"
type CORSHeaderValue string

// CORSPolicy configures cross-origin resource sharing.
type CORSPolicy struct {
	// +optional
	AllowCredentials bool `json:"allowCredentials,omitempty"`
	// +optional
	AllowPrivateNetwork bool `json:"allowPrivateNetwork,omitempty"`
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinItems=1
	AllowOrigin []string `json:"allowOrigin"`
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinItems=1
	AllowMethods []CORSHeaderValue `json:"allowMethods"`
	// +optional
	// +kubebuilder:validation:MinItems=1
	AllowHeaders []CORSHeaderValue `json:"allowHeaders,omitempty"`
	// +optional
	// +kubebuilder:validation:MinItems=1
	ExposeHeaders []CORSHeaderValue `json:"exposeHeaders,omitempty"`
	// +optional
	// +kubebuilder:validation:Pattern=`^(((\d*(\.\d*)?h)|(\d*(\.\d*)?m)|(\d*(\.\d*)?s)|(\d*(\.\d*)?ms)|(\d*(\.\d*)?us)|(\d*(\.\d*)?µs)|(\d*(\.\d*)?ns))+|0)$`
	MaxAge string `json:"maxAge,omitempty"`
}

// RateLimitPolicy limits request rates.
type RateLimitPolicy struct {
	// +optional
	Local *LocalRateLimitPolicy `json:"local,omitempty"`
	// +optional
	Global *GlobalRateLimitPolicy `json:"global,omitempty"`
}

// LocalRateLimitPolicy is a per-Envoy token bucket.
type LocalRateLimitPolicy struct {
	// +kubebuilder:validation:Minimum=1
	Requests uint32 `json:"requests"`
	// +kubebuilder:validation:Enum=second;minute;hour
	Unit string `json:"unit"`
	// +optional
	Burst uint32 `json:"burst,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=400
	// +kubebuilder:validation:Maximum=599
	ResponseStatusCode uint32 `json:"responseStatusCode,omitempty"`
	// +optional
	ResponseHeadersToAdd []HeaderValue `json:"responseHeadersToAdd,omitempty"`
}

// GlobalRateLimitPolicy sends descriptors to a rate-limit service.
type GlobalRateLimitPolicy struct {
	// +optional
	Disabled bool `json:"disabled,omitempty"`
	// +optional
	// +kubebuilder:validation:MinItems=1
	Descriptors []RateLimitDescriptor `json:"descriptors,omitempty"`
}

// RateLimitDescriptor is a list of entries.
type RateLimitDescriptor struct {
	// +kubebuilder:validation:MinItems=1
	Entries []RateLimitDescriptorEntry `json:"entries"`
}

// RateLimitDescriptorEntry is one descriptor entry.
type RateLimitDescriptorEntry struct {
	// +optional
	GenericKey *GenericKeyDescriptor `json:"genericKey,omitempty"`
	// +optional
	RequestHeader *RequestHeaderDescriptor `json:"requestHeader,omitempty"`
	// +optional
	RequestHeaderValueMatch *RequestHeaderValueMatchDescriptor `json:"requestHeaderValueMatch,omitempty"`
	// +optional
	RemoteAddress *RemoteAddressDescriptor `json:"remoteAddress,omitempty"`
}

// GenericKeyDescriptor is a fixed key/value.
type GenericKeyDescriptor struct {
	// +optional
	Key string `json:"key,omitempty"`
	// +kubebuilder:validation:MinLength=1
	Value string `json:"value"`
}

// RequestHeaderDescriptor takes a header's value.
type RequestHeaderDescriptor struct {
	// +kubebuilder:validation:MinLength=1
	HeaderName string `json:"headerName"`
	// +kubebuilder:validation:MinLength=1
	DescriptorKey string `json:"descriptorKey"`
}

// RequestHeaderValueMatchDescriptor matches headers.
type RequestHeaderValueMatchDescriptor struct {
	// +optional
	// +kubebuilder:validation:MinItems=1
	Headers []HeaderMatchCondition `json:"headers,omitempty"`
	// ExpectMatch: true (the default) when the headers must match.
	// +optional
	// +kubebuilder:default=true
	ExpectMatch *bool `json:"expectMatch,omitempty"`
	// +kubebuilder:validation:MinLength=1
	Value string `json:"value"`
}

// RemoteAddressDescriptor takes the client address.
type RemoteAddressDescriptor struct{}

// JWTProvider verifies JSON Web Tokens with the keys of RemoteJWKS or
// LocalJWKS (exactly one).
// +kubebuilder:validation:XValidation:message="exactly one of remoteJWKS or localJWKS must be set",rule="(has(self.remoteJWKS) && !has(self.localJWKS)) || (!has(self.remoteJWKS) && has(self.localJWKS))"
type JWTProvider struct {
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +optional
	Default bool `json:"default,omitempty"`
	// +optional
	Issuer string `json:"issuer,omitempty"`
	// +optional
	Audiences []string `json:"audiences,omitempty"`
	// +optional
	RemoteJWKS RemoteJWKS `json:"remoteJWKS,omitzero"`
	// +optional
	LocalJWKS LocalJWKS `json:"localJWKS,omitzero"`
	// +optional
	ForwardJWT bool `json:"forwardJWT,omitempty"`
}

// LocalJWKS reads the key set (JWKS, JSON) from a key of an Opaque
// Secret of the HTTPProxy's namespace.
type LocalJWKS struct {
	// +kubebuilder:validation:MinLength=1
	SecretName string `json:"secretName"`
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// RemoteJWKS fetches keys over HTTP.
type RemoteJWKS struct {
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	URI string `json:"uri"`
	// +optional
	// +kubebuilder:validation:Pattern=`^(((\d*(\.\d*)?h)|(\d*(\.\d*)?m)|(\d*(\.\d*)?s)|(\d*(\.\d*)?ms)|(\d*(\.\d*)?us)|(\d*(\.\d*)?µs)|(\d*(\.\d*)?ns))+)$`
	Timeout string `json:"timeout,omitempty"`
	// +optional
	// +kubebuilder:validation:Pattern=`^(((\d*(\.\d*)?h)|(\d*(\.\d*)?m)|(\d*(\.\d*)?s)|(\d*(\.\d*)?ms)|(\d*(\.\d*)?us)|(\d*(\.\d*)?µs)|(\d*(\.\d*)?ns))+)$`
	CacheDuration *string `json:"cacheDuration,omitempty"`
	// +optional
	// +kubebuilder:validation:Enum=auto;v4;v6
	DNSLookupFamily string `json:"dnsLookupFamily,omitempty"`
	// +optional
	UpstreamValidation *UpstreamValidation `json:"validation,omitempty"`
}

// JWTVerificationPolicy tunes JWT verification per route.
type JWTVerificationPolicy struct {
	// +optional
	Require string `json:"require,omitempty"`
	// +optional
	Disabled bool `json:"disabled,omitempty"`
}

// IPFilterPolicy allows or denies a CIDR.
type IPFilterPolicy struct {
	// Source is Peer or Remote.
	// +kubebuilder:validation:Enum=Peer;Remote
	Source string `json:"source"`
	CIDR   string `json:"cidr"`
}

// HTTPProxyStatus is what Isobar (like Contour) reports.
type HTTPProxyStatus struct {
	// CurrentStatus is valid, invalid or orphaned.
	// +optional
	CurrentStatus string `json:"currentStatus,omitempty"`
	// +optional
	Description string `json:"description,omitempty"`
	// LoadBalancer is the Envoy Service's address.
	// +optional
	LoadBalancer corev1.LoadBalancerStatus `json:"loadBalancer,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []DetailedCondition `json:"conditions,omitempty"`
}
