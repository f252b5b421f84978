// Package objects builds, as pure functions of a Contour, every object the
// operator keeps in the cluster: the namespace, RBAC, the xDS certificates,
// the control plane configuration, Deployment and Service, and the Envoy
// DaemonSet and Service. The reconciler only applies what these return.
package objects
