package translate

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/isobar-dev/isobar/controlplane/graph"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// Route metadata keys naming the source object, Contour's (#5534).
const (
	MetadataFilter    = "envoy.access_loggers.file"
	MetadataKind      = "io.projectcontour.kind"
	MetadataNamespace = "io.projectcontour.namespace"
	MetadataName      = "io.projectcontour.name"
)

// sourceKinds are the kinds of objects routes come from.
var sourceKinds = [...]string{status.KindHTTPProxy, status.KindIngress, status.KindIngressRoute}

// SourceName is graph.SourceName: the name of a route built from src,
// which RouteSource reads back.
func SourceName(src status.Ref) string { return graph.SourceName(src) }

// RouteSource returns the object route r was built from: read from its
// name (SourceName), or from its metadata (Contour's keys) when its name is
// not one; false when neither names an object.
func RouteSource(r *routev3.Route) (status.Ref, bool) {
	if kind, rest, ok := strings.Cut(r.GetName(), "/"); ok {
		if ns, name, ok := strings.Cut(rest, "/"); ok && name != "" && !strings.Contains(name, "/") {
			for _, k := range sourceKinds {
				if strings.EqualFold(k, kind) {
					return status.Ref{Kind: k, Namespace: ns, Name: name}, true
				}
			}
		}
	}
	md := r.GetMetadata().GetFilterMetadata()[MetadataFilter].GetFields()
	kind := md[MetadataKind].GetStringValue()
	if kind == "" {
		return status.Ref{}, false
	}
	return status.Ref{Kind: kind, Namespace: md[MetadataNamespace].GetStringValue(), Name: md[MetadataName].GetStringValue()}, true
}
