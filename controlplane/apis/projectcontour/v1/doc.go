// Package v1 holds the projectcontour.io/v1 API types Isobar reads —
// HTTPProxy and TLSCertificateDelegation — with the same group, version,
// kinds and JSON field names as Contour's CRDs, so existing manifests decode
// unchanged. CRDs are generated from these types (make generate).
//
// +kubebuilder:object:generate=true
// +groupName=projectcontour.io
package v1
