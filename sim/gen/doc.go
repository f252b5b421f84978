// Package gen writes Isobar's synthetic benchmark corpora: a cluster of
// Namespaces, Services with endpoints, TLS Secrets, HTTPProxies (roots and
// included children) and Ingresses, as multi-document YAML. The same Options
// always give the same bytes, so a corpus is named by its options and never
// committed. It follows the shape of the shared reference generator
// (shared/bench/genfixtures) so that figures compare.
package gen
