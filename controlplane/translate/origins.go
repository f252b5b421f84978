package translate

import (
	"slices"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/controlplane/xds"
)

// Origins returns, sorted, the Kubernetes objects the resource of type
// typeURL called name in res was built from, as far as its name and
// content tell: the sources of a route configuration's routes (their
// names or provenance metadata, see RouteSource), of a VHDS virtual host's (named
// "<route configuration>/<host>"), or of the route configurations a
// listener's filter chains use; the Service (or ExtensionService) of a
// cluster or an assignment; the Secret of a secret. When mention (Envoy's
// error message) names some of a route configuration's virtual hosts or
// of a listener's server names, only those are read. Nothing is returned
// for a resource res lacks or one built from no object.
func Origins(res *xds.Resources, typeURL, name, mention string) []status.Ref {
	var out []status.Ref
	switch typeURL {
	case resourcev3.RouteType:
		out = routeOrigins(res.RouteConfiguration(name), mention)
	case resourcev3.VirtualHostType:
		rc, host, _ := strings.Cut(name, "/")
		if vh := hostNamed(res.RouteConfiguration(rc), host); vh != nil {
			out = hostOrigins(nil, vh)
		}
	case resourcev3.ListenerType:
		out = listenerOrigins(res, res.Listener(name), mention)
	case resourcev3.ClusterType:
		if c := res.Cluster(name); c != nil && c.GetEdsClusterConfig() != nil {
			out = serviceOrigin(c.GetEdsClusterConfig().GetServiceName())
		}
	case resourcev3.EndpointType:
		if res.ClusterLoadAssignment(name) != nil {
			out = serviceOrigin(name)
		}
	case resourcev3.SecretType:
		parts := strings.Split(name, "/")
		if len(parts) == 3 && !shortened(parts[0]) && !shortened(parts[1]) && secretHeld(res, name) {
			out = []status.Ref{{Kind: status.KindSecret, Namespace: parts[0], Name: parts[1]}}
		}
	}
	slices.SortFunc(out, status.Ref.Compare)
	return slices.Compact(out)
}

// routeOrigins returns the sources of rc's routes, of the virtual hosts
// mention names when it names any.
func routeOrigins(rc *routev3.RouteConfiguration, mention string) []status.Ref {
	hosts := rc.GetVirtualHosts()
	var named []*routev3.VirtualHost
	for _, vh := range hosts {
		if Mentions(mention, vh.GetName()) {
			named = append(named, vh)
		}
	}
	if len(named) > 0 {
		hosts = named
	}
	var out []status.Ref
	for _, vh := range hosts {
		out = hostOrigins(out, vh)
	}
	return out
}

// hostOrigins appends the sources of vh's routes to out.
func hostOrigins(out []status.Ref, vh *routev3.VirtualHost) []status.Ref {
	for _, r := range xds.Thaw(vh).GetRoutes() {
		if src, ok := RouteSource(r); ok {
			out = append(out, src)
		}
	}
	return out
}

// hostNamed returns rc's virtual host called name, or nil.
func hostNamed(rc *routev3.RouteConfiguration, name string) *routev3.VirtualHost {
	for _, vh := range rc.GetVirtualHosts() {
		if vh.GetName() == name {
			return vh
		}
	}
	return nil
}

// listenerOrigins returns the sources of the route configurations l's
// filter chains use: ingress_http for the HTTP listener, https/<server
// name> for the others' chains (those mention names, when it names any).
func listenerOrigins(res *xds.Resources, l *listenerv3.Listener, mention string) []status.Ref {
	if l == nil {
		return nil
	}
	if l.GetName() == HTTPListener {
		return routeOrigins(res.RouteConfiguration(HTTPRoutes), mention)
	}
	var all, named []string
	for _, fc := range l.GetFilterChains() {
		for _, sni := range fc.GetFilterChainMatch().GetServerNames() {
			all = append(all, sni)
			if Mentions(mention, sni) {
				named = append(named, sni)
			}
		}
	}
	if len(named) > 0 {
		all = named
	}
	var out []status.Ref
	for _, sni := range all {
		out = append(out, routeOrigins(res.RouteConfiguration(HTTPSRoutesPrefix+sni), "")...)
	}
	return out
}

// serviceOrigin returns the Service (or ExtensionService) an EDS name
// "namespace/service/port" (with "/health/<port>" for a cluster checking
// another port, see ClusterEDSName; or "extension/namespace/name") is
// built from.
func serviceOrigin(eds string) []status.Ref {
	parts := strings.Split(eds, "/")
	switch {
	case len(parts) == 3 && parts[0] == "extension":
		return []status.Ref{{Kind: status.KindExtensionService, Namespace: parts[1], Name: parts[2]}}
	case len(parts) == 3 || len(parts) == 5 && parts[3] == "health":
		return []status.Ref{{Kind: status.KindService, Namespace: parts[0], Name: parts[1]}}
	}
	return nil
}

// shortened reports whether part of a secret's name may have been cut by
// hashname (a namespace or name over its share of maxNameLength ends in
// "-" and six hex digits of the full name's hash): its object is then
// unknown.
func shortened(part string) bool {
	n := len(part)
	if n != maxNameLength/3 || part[n-7] != '-' {
		return false
	}
	for _, c := range part[n-6:] {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// secretHeld reports whether res has the secret called name.
func secretHeld(res *xds.Resources, name string) bool {
	for _, s := range res.Secrets {
		if s.GetName() == name {
			return true
		}
	}
	return false
}

// Mentions reports whether text names name: holds it with no name
// character (letter, digit, '.', '-', '_', '/', '*') right before or after,
// so that ingress_http is not found in ingress_https, nor shop.example.com
// in myshop.example.com.
func Mentions(text, name string) bool {
	if name == "" {
		return false
	}
	for from := 0; ; {
		i := strings.Index(text[from:], name)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(name)
		if (start == 0 || !nameByte(text[start-1])) && (end == len(text) || !nameByte(text[end])) {
			return true
		}
		from = start + 1
	}
}

// nameByte reports whether b can be part of a resource or host name.
func nameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("._-/*", b) >= 0
}
