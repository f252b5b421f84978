// Package snapshot checks and versions a resource set before it is served:
// Consistent verifies that every name a resource refers to (route
// configurations, clusters, ClusterLoadAssignments, secrets) exists, and
// Versions gives each resource and each type a content hash, so the same
// resources always carry the same version and unchanged ones are never
// resent.
//
// For a server that takes one set after another, in which unchanged
// resources are the same messages as before, the same work costs what
// changed: Diff finds the new messages by comparing pointers, a Tracker
// keeps the references counted and checks only what a change touches, and
// an Encoder (with ListenerRefs for the listeners' references) reuses the
// bytes of the virtual hosts and filter chains a big resource kept.
package snapshot
