// Package live runs the control plane's main loop: it takes the objects a
// Source reports (a Kubernetes watcher, or a watched folder of YAML),
// batches changes adaptively, compiles them with the same Compile the CLI
// uses, hands the resources to the xDS server, and passes statuses to a
// status sink. Endpoint-only changes take a fast path that rebuilds just the
// affected ClusterLoadAssignments. With a Quarantine, HTTPProxies Envoy
// rejected are taken out until their spec changes.
package live
