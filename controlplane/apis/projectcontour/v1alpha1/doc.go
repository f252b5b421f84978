// Package v1alpha1 holds the projectcontour.io/v1alpha1 API types Isobar
// reads — ExtensionService — with the same group, version, kind and JSON
// field names as Contour's CRD, so existing manifests decode unchanged.
// CRDs are generated from these types (make generate).
//
// +kubebuilder:object:generate=true
// +groupName=projectcontour.io
package v1alpha1
