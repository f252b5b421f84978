// Package server is Isobar's xDS server: go-control-plane's gRPC services
// (ADS and the separate LDS, RDS, CDS, EDS and SDS services, state of the
// world and delta) over one LinearCache per resource type. Every Envoy gets
// the same configuration; a resource is stored once per version and shared
// by all streams, and only resources whose content changed are updated, so
// an endpoint change sends one ClusterLoadAssignment and a route change
// never resends clusters. The port opens only after the first complete
// resource set. NACKs are counted and logged, never retried in a loop.
package server
