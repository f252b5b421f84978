// Package v1beta1 holds the heptio-era contour.heptio.com/v1beta1 API types —
// IngressRoute and its TLSCertificateDelegation — with the JSON field names
// of Contour v1.5.1, the last release that read them, so old manifests keep
// working.
//
// +kubebuilder:object:generate=true
// +groupName=contour.heptio.com
package v1beta1
