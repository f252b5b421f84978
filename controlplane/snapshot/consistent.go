package snapshot

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// Consistent reports the first dangling reference in res: a listener naming
// a missing route configuration or secret, a route, TCP proxy, JWT
// provider (its remote key set) or ext_authz filter naming a missing
// cluster, an EDS cluster without a ClusterLoadAssignment.
func Consistent(res *xds.Resources) error {
	return ConsistentWith(res, References)
}

// ConsistentWith is Consistent with the listeners' references given by
// refs (References, or a cache of it).
func ConsistentWith(res *xds.Resources, refs func(*listenerv3.Listener) (Refs, error)) error {
	var routes, clusters, secrets, claNames map[string]bool
	parallel.Do(
		func() { routes = names(res.Routes, (*routev3.RouteConfiguration).GetName) },
		func() { clusters = names(res.Clusters, (*clusterv3.Cluster).GetName) },
		func() { secrets = names(res.Secrets, (*tlsv3.Secret).GetName) },
		func() { claNames = names(res.Endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName) },
	)
	checks := consistencyChecks(res, refs, routes, clusters, secrets, claNames)
	errs := make([]error, len(checks))
	parallel.For(len(checks), 1, func(i int) { errs[i] = checks[i]() })
	for _, err := range errs { // the first in resource order, whatever the scheduling
		if err != nil {
			return err
		}
	}
	return nil
}

// consistencyCheck checks a part of a set and returns its first dangling
// reference.
type consistencyCheck func() error

// checkChunk is the number of virtual hosts or clusters one check covers.
const checkChunk = 512

// consistencyChecks cuts ConsistentWith's work into independent checks,
// listed in resource order: each listener, the virtual hosts of the route
// configurations by chunks (hostChunks), the clusters by chunks.
func consistencyChecks(res *xds.Resources, refs func(*listenerv3.Listener) (Refs, error),
	routes, clusters, secrets, claNames map[string]bool) []consistencyCheck {
	var checks []consistencyCheck
	for _, l := range res.Listeners {
		checks = append(checks, func() error {
			r, err := refs(l)
			if err == nil {
				err = checkRefs(r, routes, clusters, secrets)
			}
			if err != nil {
				return fmt.Errorf("listener %q: %w", l.GetName(), err)
			}
			return nil
		})
	}
	for _, chunk := range hostChunks(res.Routes) {
		checks = append(checks, func() error {
			for _, p := range chunk {
				if err := checkRouteClusters(p.rc, p.vhs, clusters); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for lo := 0; lo < len(res.Clusters); lo += checkChunk {
		chunk := res.Clusters[lo:min(lo+checkChunk, len(res.Clusters))]
		checks = append(checks, func() error {
			for _, c := range chunk {
				if name, ok := edsName(c); ok && !claNames[name] {
					return fmt.Errorf("cluster %q: ClusterLoadAssignment %q does not exist", c.GetName(), name)
				}
			}
			return nil
		})
	}
	return checks
}

// hostPiece is some of the virtual hosts of route configuration rc.
type hostPiece struct {
	rc  string
	vhs []*routev3.VirtualHost
}

// hostChunks cuts the virtual hosts of rcs, in order, into chunks of
// checkChunk hosts (the last may have fewer), each of pieces of one or more
// route configurations: many small configurations (one per TLS host) make
// chunks as large as those of one large configuration.
func hostChunks(rcs []*routev3.RouteConfiguration) [][]hostPiece {
	var chunks [][]hostPiece
	var chunk []hostPiece
	room := checkChunk
	for _, rc := range rcs {
		for vhs := rc.GetVirtualHosts(); len(vhs) > 0; {
			k := min(room, len(vhs))
			chunk = append(chunk, hostPiece{rc.GetName(), vhs[:k]})
			vhs, room = vhs[k:], room-k
			if room == 0 {
				chunks, chunk, room = append(chunks, chunk), nil, checkChunk
			}
		}
	}
	if len(chunk) > 0 {
		chunks = append(chunks, chunk)
	}
	return chunks
}

// checkRouteClusters returns the first route of vhs (virtual hosts of route
// configuration rc) naming a cluster that does not exist. An action that
// one of the last few routes of the host had too (routes may share one) is
// not looked at again.
func checkRouteClusters(rc string, vhs []*routev3.VirtualHost, clusters map[string]bool) error {
	for _, vh := range vhs {
		var recent [4]*routev3.RouteAction
		for i, r := range xds.Thaw(vh).GetRoutes() {
			a := r.GetRoute()
			if a == nil || slices.Contains(recent[:], a) {
				continue
			}
			recent[i%len(recent)] = a
			missing := ""
			forRouteClusters(r, func(c string) {
				if missing == "" && !clusters[c] {
					missing = c
				}
			})
			if missing != "" {
				return fmt.Errorf("route configuration %q, virtual host %q, route %d: cluster %q does not exist", rc, vh.GetName(), i, missing)
			}
		}
	}
	return nil
}

// edsName returns the ClusterLoadAssignment an EDS cluster takes its
// endpoints from (its EDS service name, or its own name); ok is false for
// other clusters.
func edsName(c *clusterv3.Cluster) (name string, ok bool) {
	if c.GetType() != clusterv3.Cluster_EDS {
		return "", false
	}
	if name = c.GetEdsClusterConfig().GetServiceName(); name == "" {
		name = c.GetName()
	}
	return name, true
}

func names[T any](list []T, name func(T) string) map[string]bool {
	out := make(map[string]bool, len(list))
	for _, x := range list {
		out[name(x)] = true
	}
	return out
}

// routeClusters lists the clusters a route forwards or mirrors to.
func routeClusters(r *routev3.Route) []string {
	var out []string
	forRouteClusters(r, func(c string) { out = append(out, c) })
	return out
}

// forRouteClusters calls fn with each cluster a route forwards or mirrors
// to, in routeClusters' order.
func forRouteClusters(r *routev3.Route, fn func(string)) {
	a := r.GetRoute()
	if a == nil {
		return
	}
	if c := a.GetCluster(); c != "" {
		fn(c)
	}
	for _, w := range a.GetWeightedClusters().GetClusters() {
		fn(w.GetName())
	}
	for _, m := range a.GetRequestMirrorPolicies() {
		fn(m.GetCluster())
	}
}

// Refs are the names a listener refers to.
type Refs struct {
	Routes, Clusters, Secrets []string
}

// References reads the filters and TLS contexts of a listener's filter
// chains and returns the route configurations, clusters and secrets they
// name. Callers that see the same listener often can keep the answer by
// the listener's Version.
func References(l *listenerv3.Listener) (Refs, error) {
	var r Refs
	for _, fc := range l.GetFilterChains() {
		if err := chainRefs(fc, &r); err != nil {
			return Refs{}, err
		}
	}
	return r, nil
}

// The message names of the filters and transport sockets References reads.
var (
	hcmName      = messageName(&hcmv3.HttpConnectionManager{})
	tcpProxyName = messageName(&tcpproxyv3.TcpProxy{})
	tlsName      = messageName(&tlsv3.DownstreamTlsContext{})
	jwtName      = messageName(&jwtv3.JwtAuthentication{})
	extAuthzName = messageName(&extauthzv3.ExtAuthz{})
)

func messageName(m proto.Message) string {
	return string(m.ProtoReflect().Descriptor().FullName())
}

// anyIs is a.MessageIs for a message of the given full name.
func anyIs(a *anypb.Any, name string) bool {
	url := a.GetTypeUrl()
	return strings.HasSuffix(url, name) && (len(url) == len(name) || url[len(url)-len(name)-1] == '/')
}

// chainRefs appends what one filter chain refers to to r. The connection
// managers and TLS contexts (one per host) are read from their encodings
// rather than decoded: References needs a few names of each.
func chainRefs(fc *listenerv3.FilterChain, r *Refs) error {
	if ts := fc.GetTransportSocket(); ts != nil {
		tc := ts.GetTypedConfig()
		if !anyIs(tc, tlsName) {
			return tc.UnmarshalTo(&tlsv3.DownstreamTlsContext{}) // UnmarshalTo's error
		}
		if err := tlsSecretRefs(tc.GetValue(), r); err != nil {
			return err
		}
	}
	for _, f := range fc.GetFilters() {
		if err := filterRefs(f, r); err != nil {
			return err
		}
	}
	return nil
}

func filterRefs(f *listenerv3.Filter, r *Refs) error {
	tc := f.GetTypedConfig()
	switch {
	case tc == nil:
	case anyIs(tc, hcmName):
		return hcmRefs(tc.GetValue(), r)
	case anyIs(tc, tcpProxyName):
		var tp tcpproxyv3.TcpProxy
		if err := tc.UnmarshalTo(&tp); err != nil {
			return err
		}
		if n := tp.GetCluster(); n != "" {
			r.Clusters = append(r.Clusters, n)
		}
		for _, w := range tp.GetWeightedClusters().GetClusters() {
			if w.GetName() != "" {
				r.Clusters = append(r.Clusters, w.GetName())
			}
		}
	}
	return nil
}

// filterClusters appends to r.Clusters the clusters the HTTP filter of
// message name (value its encoding) calls: those jwt_authn fetches key
// sets from, in provider name order, and the authorization server of
// ext_authz. Only these two are decoded: the other filters are many.
func filterClusters(name string, value []byte, r *Refs) error {
	switch name {
	case jwtName:
		var jwt jwtv3.JwtAuthentication
		if err := proto.Unmarshal(value, &jwt); err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(jwt.GetProviders())) {
			if c := jwt.GetProviders()[name].GetRemoteJwks().GetHttpUri().GetCluster(); c != "" {
				r.Clusters = append(r.Clusters, c)
			}
		}
	case extAuthzName:
		var authz extauthzv3.ExtAuthz
		if err := proto.Unmarshal(value, &authz); err != nil {
			return err
		}
		if c := authz.GetGrpcService().GetEnvoyGrpc().GetClusterName(); c != "" {
			r.Clusters = append(r.Clusters, c)
		}
	}
	return nil
}

func checkRefs(r Refs, routes, clusters, secrets map[string]bool) error {
	for _, s := range r.Secrets {
		if !secrets[s] {
			return fmt.Errorf("secret %q does not exist", s)
		}
	}
	for _, n := range r.Routes {
		if !routes[n] {
			return fmt.Errorf("route configuration %q does not exist", n)
		}
	}
	for _, n := range r.Clusters {
		if !clusters[n] {
			return fmt.Errorf("cluster %q does not exist", n)
		}
	}
	return nil
}
