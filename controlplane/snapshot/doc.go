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
// keeps the references counted and checks only what a change touches, a
// RefCache walks only the new virtual hosts and filter chains of a big
// resource, and an Encoder encodes and hashes only those, leaving the
// encoding in pieces shared with the resource's earlier versions. Its
// versions are content hashes too, but a big resource's is built from its
// elements' digests (see Encoding), so a server must take all its versions
// from an Encoder, not mix them with Version's.
package snapshot
