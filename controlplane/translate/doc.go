// Package translate turns a routing graph into Envoy xDS resources with
// Contour's names: listeners ingress_http and ingress_https, route
// configurations ingress_http and https/<fqdn>, clusters
// namespace/service/port/<hash>, ClusterLoadAssignments and SDS secrets.
// Every list is sorted, every resource is validated, and the set is
// consistent (every referenced cluster, assignment and secret exists).
package translate
