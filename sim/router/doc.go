// Package router answers "where does this request go?" the way Envoy would,
// from an xDS configuration alone: the listener by port, the filter chain
// by SNI, the misdirected request check of a wildcard TLS host's
// connection manager (Isobar's Lua script: 421 when the Host is not the
// SNI), the HTTP connection manager's route configuration, the virtual
// host by :authority, the first matching route (path, headers, query), the
// RBAC IP filter of the route or virtual host (when the request has a
// client address), and the route's action — the full weighted split of
// clusters (with, for each, the Set-Cookie rewriting its LuaPerRoute
// describes: there is no response to apply it to), a redirect, or a direct
// response — with the header changes of the route configuration, virtual
// host, route and weighted cluster (headers.go). Every step is recorded in
// a trace that names the object behind the chosen route and why the routes
// before it were rejected.
//
// It works on go-control-plane protos (xds.Resources), whether they came
// from Isobar's translate or from an Envoy config dump.
package router
