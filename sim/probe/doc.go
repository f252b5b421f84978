// Package probe derives probe requests from an xDS configuration: one request
// per route match of every virtual host, built so that it reaches that route
// when nothing shadows it. `isobar diff` evaluates the probes of both states
// to find requests whose answer changes, and `isobar sim` uses them to check
// that a step leaves nothing that was routed unrouted.
package probe
