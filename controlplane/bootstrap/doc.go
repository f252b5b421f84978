// Package bootstrap builds Envoy's bootstrap configuration for an Isobar
// control plane: an admin endpoint, one static cluster for the xDS server
// (HTTP/2, keepalives), and every dynamic resource type over one ADS
// stream, with optional TLS to the xDS server from files or from SDS files
// that Envoy watches, so certificates rotate without a restart.
package bootstrap
