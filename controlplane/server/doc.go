// Package server is Isobar's xDS server: ADS and the separate LDS, RDS,
// CDS, EDS and SDS services, state of the world and delta (incremental
// streams run by go-control-plane's handler, state-of-the-world ones by
// sotwStreams), all answered from one deltaCache per resource type. Every
// Envoy gets the same configuration; a resource is encoded once per version
// and those bytes are written to every stream, and only resources whose
// content changed are updated, so an endpoint change sends one
// ClusterLoadAssignment and a route change never resends clusters. The port
// opens only after the first complete resource set. NACKs are counted and
// logged with the objects behind what they rejected, never retried in a
// loop, and stand (Rejections) until a newer revision is accepted. With
// Options.VHDS, ingress_http's virtual hosts are served one by one over
// VHDS.
package server
