// Package v1alpha1 holds the operator.projectcontour.io/v1alpha1 Contour
// type that `isobar operator` reconciles, with the same group, version,
// kind, defaults and printer columns as Contour's operator, so its sample
// (`spec: {}`) works unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=operator.projectcontour.io
package v1alpha1
