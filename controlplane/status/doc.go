// Package status owns what the core says about each input object: the
// Contour-compatible status of every HTTPProxy, IngressRoute and Ingress
// (currentStatus, description, a Valid condition with typed error and warning
// sub-conditions) and the findings (a stable code, a severity, the objects
// involved and a message) that `isobar check` prints.
//
// A Report is filled by the graph processors in a fixed order and never logs.
// Its output is sorted, so the same input always gives the same statuses.
package status
