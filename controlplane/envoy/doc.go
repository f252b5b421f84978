// Package envoy holds small constructors of go-control-plane protos from
// primitive values: listeners, filter chains, connection managers, TLS
// contexts, clusters, load assignments and secrets. It knows nothing of the
// graph; translate decides what to build and calls these.
package envoy
