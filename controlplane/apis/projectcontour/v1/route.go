package v1

// Route is one HTTP route: conditions and exactly one action (services, a
// redirect or a direct response).
type Route struct {
	// +optional
	Conditions []MatchCondition `json:"conditions,omitempty"`
	// +optional
	Services []Service `json:"services,omitempty"`
	// +optional
	EnableWebsockets bool `json:"enableWebsockets,omitempty"`
	// PermitInsecure serves this route over HTTP on a TLS host.
	// +optional
	PermitInsecure bool `json:"permitInsecure,omitempty"`
	// +optional
	AuthPolicy *AuthorizationPolicy `json:"authPolicy,omitempty"`
	// +optional
	TimeoutPolicy *TimeoutPolicy `json:"timeoutPolicy,omitempty"`
	// +optional
	RetryPolicy *RetryPolicy `json:"retryPolicy,omitempty"`
	// +optional
	HealthCheckPolicy *HTTPHealthCheckPolicy `json:"healthCheckPolicy,omitempty"`
	// +optional
	LoadBalancerPolicy *LoadBalancerPolicy `json:"loadBalancerPolicy,omitempty"`
	// +optional
	PathRewritePolicy *PathRewritePolicy `json:"pathRewritePolicy,omitempty"`
	// +optional
	RequestHeadersPolicy *HeadersPolicy `json:"requestHeadersPolicy,omitempty"`
	// +optional
	ResponseHeadersPolicy *HeadersPolicy `json:"responseHeadersPolicy,omitempty"`
	// +optional
	CookieRewritePolicies []CookieRewritePolicy `json:"cookieRewritePolicies,omitempty"`
	// +optional
	RateLimitPolicy *RateLimitPolicy `json:"rateLimitPolicy,omitempty"`
	// +optional
	RequestRedirectPolicy *HTTPRequestRedirectPolicy `json:"requestRedirectPolicy,omitempty"`
	// +optional
	DirectResponsePolicy *HTTPDirectResponsePolicy `json:"directResponsePolicy,omitempty"`
	// +optional
	InternalRedirectPolicy *HTTPInternalRedirectPolicy `json:"internalRedirectPolicy,omitempty"`
	// +optional
	JWTVerificationPolicy *JWTVerificationPolicy `json:"jwtVerificationPolicy,omitempty"`
	// +optional
	IPAllowFilterPolicy []IPFilterPolicy `json:"ipAllowPolicy,omitempty"`
	// +optional
	IPDenyFilterPolicy []IPFilterPolicy `json:"ipDenyPolicy,omitempty"`
}

// Service is an upstream Kubernetes Service port.
type Service struct {
	// Name of the Service.
	Name string `json:"name"`
	// Port of the Service.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65536
	// +kubebuilder:validation:ExclusiveMinimum=false
	// +kubebuilder:validation:ExclusiveMaximum=true
	Port int `json:"port"`
	// HealthPort is the port health checks go to.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	HealthPort int `json:"healthPort,omitempty"`
	// Protocol overrides the upstream protocol: h2, h2c or tls.
	// +optional
	// +kubebuilder:validation:Enum=h2;h2c;tls
	Protocol *string `json:"protocol,omitempty"`
	// Weight is the relative share of traffic.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Weight int64 `json:"weight,omitempty"`
	// UpstreamValidation verifies the upstream's certificate.
	// +optional
	UpstreamValidation *UpstreamValidation `json:"validation,omitempty"`
	// Mirror sends a copy of requests to this Service.
	// +optional
	Mirror bool `json:"mirror,omitempty"`
	// +optional
	RequestHeadersPolicy *HeadersPolicy `json:"requestHeadersPolicy,omitempty"`
	// +optional
	ResponseHeadersPolicy *HeadersPolicy `json:"responseHeadersPolicy,omitempty"`
	// +optional
	CookieRewritePolicies []CookieRewritePolicy `json:"cookieRewritePolicies,omitempty"`
	// +optional
	SlowStartPolicy *SlowStartPolicy `json:"slowStartPolicy,omitempty"`
}

// UpstreamValidation verifies a TLS upstream.
// +kubebuilder:validation:XValidation:message="subjectNames[0] must equal subjectName if set",rule="has(self.subjectNames) ? self.subjectNames[0] == self.subjectName : true"
type UpstreamValidation struct {
	// CACertificate is a Secret holding ca.crt ("name" or
	// "namespace/name", at most 63 + 1 + 253 characters).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	CACertificate string `json:"caSecret"`
	// SubjectName is the name the upstream certificate must carry.
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=250
	SubjectName string `json:"subjectName,omitempty"`
	// SubjectNames are names, any of which the certificate may carry; the
	// first is SubjectName.
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	SubjectNames []string `json:"subjectNames,omitempty"`
}

// TimeoutPolicy sets route timeouts: durations such as "30s", or "infinity".
type TimeoutPolicy struct {
	// +optional
	// +kubebuilder:validation:Pattern=`^(((\d*(\.\d*)?h)|(\d*(\.\d*)?m)|(\d*(\.\d*)?s)|(\d*(\.\d*)?ms)|(\d*(\.\d*)?us)|(\d*(\.\d*)?µs)|(\d*(\.\d*)?ns))+|infinity|infinite)$`
	Response string `json:"response,omitempty"`
	// +optional
	// +kubebuilder:validation:Pattern=`^(((\d*(\.\d*)?h)|(\d*(\.\d*)?m)|(\d*(\.\d*)?s)|(\d*(\.\d*)?ms)|(\d*(\.\d*)?us)|(\d*(\.\d*)?µs)|(\d*(\.\d*)?ns))+|infinity|infinite)$`
	Idle string `json:"idle,omitempty"`
	// +optional
	// +kubebuilder:validation:Pattern=`^(((\d*(\.\d*)?h)|(\d*(\.\d*)?m)|(\d*(\.\d*)?s)|(\d*(\.\d*)?ms)|(\d*(\.\d*)?us)|(\d*(\.\d*)?µs)|(\d*(\.\d*)?ns))+|infinity|infinite)$`
	IdleConnection string `json:"idleConnection,omitempty"`
}

// RetryOn is an Envoy retry condition.
// +kubebuilder:validation:Enum="5xx";gateway-error;reset;reset-before-request;connect-failure;envoy-ratelimited;retriable-4xx;refused-stream;retriable-status-codes;retriable-headers;http3-post-connect-failure;cancelled;deadline-exceeded;internal;resource-exhausted;unavailable
type RetryOn string

// RetryPolicy configures retries.
type RetryPolicy struct {
	// NumRetries is the number of retries; -1 disables retries.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=-1
	NumRetries int64 `json:"count,omitempty"`
	// +optional
	// +kubebuilder:validation:Pattern=`^(((\d*(\.\d*)?h)|(\d*(\.\d*)?m)|(\d*(\.\d*)?s)|(\d*(\.\d*)?ms)|(\d*(\.\d*)?us)|(\d*(\.\d*)?µs)|(\d*(\.\d*)?ns))+|infinity|infinite)$`
	PerTryTimeout string `json:"perTryTimeout,omitempty"`
	// +optional
	RetryOn []RetryOn `json:"retryOn,omitempty"`
	// +optional
	RetriableStatusCodes []uint32 `json:"retriableStatusCodes,omitempty"`
}

// HTTPHealthCheckPolicy is an active HTTP health check.
type HTTPHealthCheckPolicy struct {
	Path string `json:"path"`
	// +optional
	Host string `json:"host,omitempty"`
	// +optional
	IntervalSeconds int64 `json:"intervalSeconds,omitempty"`
	// +optional
	TimeoutSeconds int64 `json:"timeoutSeconds,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	UnhealthyThresholdCount int64 `json:"unhealthyThresholdCount,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=0
	HealthyThresholdCount int64 `json:"healthyThresholdCount,omitempty"`
	// +optional
	ExpectedStatuses []StatusRange `json:"expectedStatuses,omitempty"`
}

// StatusRange is [Start, End) of HTTP status codes.
type StatusRange struct {
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=599
	Start int64 `json:"start"`
	// +kubebuilder:validation:Minimum=101
	// +kubebuilder:validation:Maximum=600
	End int64 `json:"end"`
}

// TCPHealthCheckPolicy is an active TCP health check.
type TCPHealthCheckPolicy struct {
	// +optional
	IntervalSeconds int64 `json:"intervalSeconds,omitempty"`
	// +optional
	TimeoutSeconds int64 `json:"timeoutSeconds,omitempty"`
	// +optional
	UnhealthyThresholdCount uint32 `json:"unhealthyThresholdCount,omitempty"`
	// +optional
	HealthyThresholdCount uint32 `json:"healthyThresholdCount,omitempty"`
}

// LoadBalancerPolicy selects the load-balancing strategy.
type LoadBalancerPolicy struct {
	// Strategy is RoundRobin, WeightedLeastRequest, Random, Cookie or RequestHash.
	// +optional
	Strategy string `json:"strategy,omitempty"`
	// +optional
	RequestHashPolicies []RequestHashPolicy `json:"requestHashPolicies,omitempty"`
}

// RequestHashPolicy is one input of the RequestHash strategy.
type RequestHashPolicy struct {
	// +optional
	Terminal bool `json:"terminal,omitempty"`
	// +optional
	HeaderHashOptions *HeaderHashOptions `json:"headerHashOptions,omitempty"`
	// +optional
	QueryParameterHashOptions *QueryParameterHashOptions `json:"queryParameterHashOptions,omitempty"`
	// +optional
	HashSourceIP bool `json:"hashSourceIP,omitempty"`
}

// HeaderHashOptions hashes a header.
type HeaderHashOptions struct {
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	HeaderName string `json:"headerName"`
}

// QueryParameterHashOptions hashes a query parameter.
type QueryParameterHashOptions struct {
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	ParameterName string `json:"parameterName"`
}

// PathRewritePolicy rewrites the path sent upstream.
type PathRewritePolicy struct {
	// +optional
	ReplacePrefix []ReplacePrefix `json:"replacePrefix,omitempty"`
}

// ReplacePrefix replaces Prefix (or the route's prefix when empty) with
// Replacement.
type ReplacePrefix struct {
	// +optional
	// +kubebuilder:validation:MinLength=1
	Prefix string `json:"prefix,omitempty"`
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	Replacement string `json:"replacement"`
}

// HeadersPolicy sets and removes headers.
type HeadersPolicy struct {
	// +optional
	Set []HeaderValue `json:"set,omitempty"`
	// +optional
	Remove []string `json:"remove,omitempty"`
}

// HeaderValue is a header name and value.
type HeaderValue struct {
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	Value string `json:"value"`
}

// CookieRewritePolicy rewrites Set-Cookie attributes.
type CookieRewritePolicy struct {
	// Name is the cookie's name: no separator, space or control character.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:Pattern=`^[^()<>@,;:\\"\/[\]?={} \t\x7f\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f]+$`
	Name string `json:"name"`
	// +optional
	PathRewrite *CookiePathRewrite `json:"pathRewrite,omitempty"`
	// +optional
	DomainRewrite *CookieDomainRewrite `json:"domainRewrite,omitempty"`
	// Secure adds (true) or removes (false) the Secure attribute.
	// +optional
	Secure *bool `json:"secure,omitempty"`
	// +optional
	// +kubebuilder:validation:Enum=Strict;Lax;None
	SameSite *string `json:"sameSite,omitempty"`
}

// CookiePathRewrite sets a cookie's Path.
type CookiePathRewrite struct {
	// Value has no ';' and no control character.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:Pattern=`^[^;\x7f\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f]+$`
	Value string `json:"value"`
}

// CookieDomainRewrite sets a cookie's Domain.
type CookieDomainRewrite struct {
	// Value is a lower-case DNS name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Value string `json:"value"`
}

// HTTPRequestRedirectPolicy answers with a redirect.
type HTTPRequestRedirectPolicy struct {
	// +optional
	// +kubebuilder:validation:Enum=http;https
	Scheme *string `json:"scheme,omitempty"`
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Hostname *string `json:"hostname,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`
	// StatusCode is 301, 302 (the default), 303, 307 or 308.
	// +optional
	// +kubebuilder:default=302
	// +kubebuilder:validation:Enum=301;302;303;307;308
	// +kubebuilder:validation:Format=int32
	StatusCode *int `json:"statusCode,omitempty"`
	// +optional
	// +kubebuilder:validation:Pattern=`^\/.*$`
	Path *string `json:"path,omitempty"`
	// +optional
	// +kubebuilder:validation:Pattern=`^\/.*$`
	Prefix *string `json:"prefix,omitempty"`
}

// HTTPDirectResponsePolicy answers with a fixed response.
type HTTPDirectResponsePolicy struct {
	// +kubebuilder:validation:Minimum=200
	// +kubebuilder:validation:Maximum=599
	StatusCode int `json:"statusCode"`
	// +optional
	Body string `json:"body,omitempty"`
}

// RedirectResponseCode is an HTTP redirect status code: the code of a
// redirect, or one Envoy follows internally.
// +kubebuilder:validation:Enum=301;302;303;307;308
type RedirectResponseCode uint32

// HTTPInternalRedirectPolicy lets Envoy follow upstream redirects.
type HTTPInternalRedirectPolicy struct {
	// +optional
	MaxInternalRedirects uint32 `json:"maxInternalRedirects,omitempty"`
	// +optional
	RedirectResponseCodes []RedirectResponseCode `json:"redirectResponseCodes,omitempty"`
	// +optional
	// +kubebuilder:validation:Enum=Always;Never;SafeOnly
	// +kubebuilder:default=Never
	AllowCrossSchemeRedirect string `json:"allowCrossSchemeRedirect,omitempty"`
	// +optional
	DenyRepeatedRouteRedirect bool `json:"denyRepeatedRouteRedirect,omitempty"`
}

// SlowStartPolicy ramps traffic to new endpoints over a window (Envoy's
// slow start), with the RoundRobin and WeightedLeastRequest strategies.
type SlowStartPolicy struct {
	// Window is how long the ramp lasts, a Go duration ("30s").
	// +kubebuilder:validation:Pattern=`^(((\d*(\.\d*)?h)|(\d*(\.\d*)?m)|(\d*(\.\d*)?s)|(\d*(\.\d*)?ms)|(\d*(\.\d*)?us)|(\d*(\.\d*)?µs)|(\d*(\.\d*)?ns))+)$`
	Window string `json:"window"`
	// Aggression shapes the ramp: 1.0 (the default) is linear, larger
	// values ramp faster at first.
	// +optional
	// +kubebuilder:default=`1.0`
	// +kubebuilder:validation:Pattern=`^([0-9]+([.][0-9]+)?|[.][0-9]+)$`
	Aggression string `json:"aggression,omitempty"`
	// MinimumWeightPercent is the share of its weight a new endpoint starts
	// with; unset means 10.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	MinimumWeightPercent *uint32 `json:"minWeightPercent,omitempty"`
}

// TCPProxy forwards TLS connections.
type TCPProxy struct {
	// +optional
	LoadBalancerPolicy *LoadBalancerPolicy `json:"loadBalancerPolicy,omitempty"`
	// +optional
	Services []Service `json:"services,omitempty"`
	// Include delegates the TCP proxy to another HTTPProxy.
	// +optional
	Include *TCPProxyInclude `json:"include,omitempty"`
	// IncludesDeprecated is the older spelling of Include.
	// +optional
	IncludesDeprecated *TCPProxyInclude `json:"includes,omitempty"`
	// +optional
	HealthCheckPolicy *TCPHealthCheckPolicy `json:"healthCheckPolicy,omitempty"`
}

// TCPProxyInclude names an HTTPProxy holding a tcpproxy.
type TCPProxyInclude struct {
	Name string `json:"name"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
}
