// Package controller is the operator's reconciler: for each Contour it
// validates the spec, adds a finalizer, applies (server-side) every object
// that package objects builds, keeps the xDS certificates fresh, and
// reports Available from the Deployment and the DaemonSet. Watches on the
// objects it owns (by label) repair drift within seconds; deleting the
// Contour removes what it made.
package controller
