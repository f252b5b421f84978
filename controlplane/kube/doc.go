// Package kube is the Kubernetes side of the live control plane. Watcher
// keeps a source.Index in sync with a cluster through informers (with
// selections that keep unneeded Secrets out of memory) and says what kind
// of change happened, so endpoint-only changes can take the fast path.
// StatusWriter writes the core's statuses back to HTTPProxy, IngressRoute
// and Ingress objects, in parallel and skipping no-op writes.
//
// Nothing here logs; errors are returned or counted for the caller.
package kube
