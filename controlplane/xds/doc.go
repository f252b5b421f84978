// Package xds holds Resources, the complete set of Envoy resources one build
// produces, and its config-dump encoding: Marshal writes the document that
// `isobar translate` prints and the goldens hold; Parse reads that document or
// an Envoy admin /config_dump back into Resources.
package xds
