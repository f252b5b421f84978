// Package diff computes the semantic difference between two states of a
// cluster's routing objects: which objects changed and how, which statuses
// and findings changed, which xDS resources changed (field by field), and —
// most useful in review — which requests get a different answer. It powers
// `isobar diff` and classifies a change as dangerous when it makes an object
// invalid or leaves a previously routed request unrouted.
package diff
