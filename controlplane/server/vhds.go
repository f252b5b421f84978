package server

import (
	"errors"
	"slices"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/isobar-dev/isobar/controlplane/snapshot"
	"github.com/isobar-dev/isobar/controlplane/xds"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// VHDS has the server hand one route configuration's virtual hosts out one
// by one, through Envoy's Virtual Host Discovery Service, instead of in the
// route configuration: a change to one host then sends that host, not the
// whole configuration (ingress_http holds every insecure host: megabytes
// at ten thousand hosts, to every Envoy, for any change of any of them).
//
// The route configuration is sent without virtual hosts, with a vhds
// config source: incremental gRPC (VHDS is incremental only) to Cluster,
// the xDS server's cluster in Envoy's bootstrap, so that it works whatever
// variant the bootstrap's ADS uses. Each virtual host is a VirtualHost
// resource named "<route configuration>/<its name>" (Envoy's naming for
// VHDS, which it also uses to remove hosts), its name set to that too.
// Envoy subscribes to the route configuration's name (newer Envoys: a
// namespace, every resource named under it) or to everything (older ones);
// both get every host. What the server checks and versions stays the
// whole route configuration: only the caches see it split.
type VHDS struct {
	// RouteConfiguration is the configuration split (translate.HTTPRoutes,
	// ingress_http, when empty).
	RouteConfiguration string
	// Cluster is the name of the xDS server's cluster in Envoy's bootstrap
	// (bootstrap.XDSCluster, contour, when empty).
	Cluster string
}

// vhdsSplit remembers the last split, so that a set whose route
// configuration is the same message costs nothing and a new one costs its
// new virtual hosts.
type vhdsSplit struct {
	opts VHDS
	// src is the route configuration whose virtual hosts the caches hold,
	// and hosts those, sorted by name.
	src   *routev3.RouteConfiguration
	hosts []*routev3.VirtualHost
	// stub is what replaces stubSrc in the caches.
	stubSrc, stub *routev3.RouteConfiguration
}

// vhdsChange is what a new set changes of the virtual hosts, to hand to
// the VirtualHost cache, and the split to remember once it is handed over.
type vhdsChange struct {
	changed []encoded
	removed []string
	src     *routev3.RouteConfiguration
	hosts   []*routev3.VirtualHost
}

// stubFor returns the route configuration sent in place of rc: rc without
// its virtual hosts, with the vhds config source. The same message is
// returned for the same rc.
func (v *vhdsSplit) stubFor(rc *routev3.RouteConfiguration) *routev3.RouteConfiguration {
	if rc == v.stubSrc && v.stub != nil {
		return v.stub
	}
	stub := &routev3.RouteConfiguration{}
	dst := stub.ProtoReflect()
	hosts := rc.ProtoReflect().Descriptor().Fields().ByName("virtual_hosts")
	rc.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if fd != hosts {
			dst.Set(fd, val) // shares rc's messages: neither is ever modified
		}
		return true
	})
	stub.Vhds = &routev3.Vhds{ConfigSource: &corev3.ConfigSource{
		ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_ApiConfigSource{ApiConfigSource: &corev3.ApiConfigSource{
			ApiType:             corev3.ApiConfigSource_DELTA_GRPC,
			TransportApiVersion: corev3.ApiVersion_V3,
			GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: v.opts.Cluster}}}},
		}},
	}}
	v.stubSrc, v.stub = rc, stub
	return stub
}

// hostResource returns vh as the VirtualHost resource called name: a new
// message sharing vh's fields, with name for its name.
func hostResource(vh *routev3.VirtualHost, name string) *routev3.VirtualHost {
	out := &routev3.VirtualHost{}
	dst := out.ProtoReflect()
	vh.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		dst.Set(fd, val)
		return true
	})
	dst.SetUnknown(vh.ProtoReflect().GetUnknown()) // a frozen host's fields (xds.FreezeVirtualHost)
	out.Name = name
	return out
}

// resourceName is the VirtualHost resource name of vh.
func (v *vhdsSplit) resourceName(vh *routev3.VirtualHost) string {
	return v.opts.RouteConfiguration + "/" + vh.GetName()
}

// changes works out what next changes of the virtual hosts the caches
// hold (versions, by resource name): hosts whose message is new are
// encoded, and pushed when their content differs; hosts gone are removed.
// Both lists of hosts are sorted by name, so one merge pass over them
// finds what changed, comparing messages by pointer. When full, every
// host is encoded and every name the caches hold and next lacks removed.
func (v *vhdsSplit) changes(next *xds.Resources, versions heldVersions, full bool) (vhdsChange, error) {
	rc := next.RouteConfiguration(v.opts.RouteConfiguration)
	if rc == v.src && rc != nil && !full {
		return vhdsChange{src: v.src, hosts: v.hosts}, nil
	}
	out := vhdsChange{src: rc, hosts: rc.GetVirtualHosts()}
	if !slices.IsSortedFunc(out.hosts, byName) {
		out.hosts = slices.SortedFunc(slices.Values(out.hosts), byName)
	}
	old := v.hosts
	if full {
		old = nil
	}
	var todo []*routev3.VirtualHost
	i, j := 0, 0
	for i < len(old) || j < len(out.hosts) {
		switch {
		case i < len(old) && j < len(out.hosts) && old[i] == out.hosts[j]:
			i, j = i+1, j+1
		case j == len(out.hosts) || (i < len(old) && old[i].GetName() < out.hosts[j].GetName()):
			out.removed = append(out.removed, v.resourceName(old[i]))
			i++
		case i == len(old) || out.hosts[j].GetName() < old[i].GetName():
			todo = append(todo, out.hosts[j])
			j++
		default: // the same name, a new message
			todo = append(todo, out.hosts[j])
			i, j = i+1, j+1
		}
	}
	if full {
		out.removed = v.stale(out.hosts, versions)
	}
	encs := make([]encoded, len(todo))
	errs := make([]error, len(todo))
	parallel.For(len(todo), 64, func(i int) {
		name := v.resourceName(todo[i])
		res := hostResource(todo[i], name)
		b, version, err := snapshot.Encode(res)
		if err == nil && versions.version(name) != version {
			encs[i] = encoded{res, newWired(resourcev3.VirtualHostType, name, snapshot.Encoding{Head: b, Version: version})}
		}
		errs[i] = err
	})
	if err := errors.Join(errs...); err != nil {
		return vhdsChange{}, err
	}
	for _, e := range encs {
		if e.msg != nil {
			out.changed = append(out.changed, e)
		}
	}
	return out, nil
}

// byName orders virtual hosts by name.
func byName(a, b *routev3.VirtualHost) int { return strings.Compare(a.GetName(), b.GetName()) }

// stale returns, sorted, the names the caches hold (versions) that hosts
// (sorted) has no host for.
func (v *vhdsSplit) stale(hosts []*routev3.VirtualHost, versions heldVersions) []string {
	var out []string
	for _, name := range versions.names() {
		short, _ := strings.CutPrefix(name, v.opts.RouteConfiguration+"/")
		if _, found := slices.BinarySearchFunc(hosts, short, func(vh *routev3.VirtualHost, n string) int {
			return strings.Compare(vh.GetName(), n)
		}); !found {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// namespaceOf returns what precedes the last "/" of name, as Envoy
// subscribes to namespaces (a VHDS route configuration's virtual hosts are
// "<route configuration>/<host>"); "" when name has no "/".
func namespaceOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i > 0 {
		return name[:i]
	}
	return ""
}

// commit remembers a split once the caches have it.
func (v *vhdsSplit) commit(c vhdsChange) {
	v.src, v.hosts = c.src, c.hosts
}
