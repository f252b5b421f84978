// Package server is Isobar's xDS server: ADS and the separate LDS, RDS,
// CDS, EDS and SDS services, state of the world and delta (incremental
// streams run by go-control-plane's handler, state-of-the-world ones by
// sotwStreams), all answered from one deltaCache per resource type. Every
// Envoy gets the same configuration; a resource is encoded once per version
// and those bytes are written to every stream, and only resources whose
// content changed are updated, so an endpoint change sends one
// ClusterLoadAssignment and a route change never resends clusters. The port
// opens only after the first complete resource set. NACKs are counted and
// logged, never retried in a loop.
package server
