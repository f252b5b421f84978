// Package snapshot checks and versions a resource set before it is served:
// Consistent verifies that every name a resource refers to (route
// configurations, clusters, ClusterLoadAssignments, secrets) exists, and
// Versions gives each resource and each type a content hash, so the same
// resources always carry the same version and unchanged ones are never
// resent.
package snapshot
