// Package graph builds the routing graph: listeners hold virtual hosts, virtual
// hosts hold routes, routes point at clusters (Service ports) and secure
// virtual hosts at secrets. Build reads a source.Index and runs a fixed list
// of processors (host claims, HTTPProxy, IngressRoute, Ingress, then the
// analyses that produce findings), recording a status for every object.
//
// Build is pure: the same Index gives the same Graph and Report, whatever the
// order objects were inserted in. Conflicts are resolved by one rule: the
// oldest object (creationTimestamp, then namespace/name) keeps what it claimed.
package graph
