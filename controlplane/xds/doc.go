// Package xds holds Resources, the complete set of Envoy resources one build
// produces, and its config-dump encoding: Marshal writes the document that
// `isobar translate` prints and the goldens hold; Parse reads that document or
// an Envoy admin /config_dump back into Resources.
//
// FreezeVirtualHost and FreezeClusterLoadAssignment let a live server keep
// a resource it has encoded as little more than its encoding, in place;
// Thaw, Thawed and Equal read frozen messages as the messages they were.
//
// Resources are written as protojson writes them, by an encoder of the
// package's own (fastjson*.go) that is several times faster and hands
// anything unusual to protojson.
package xds
