package envoy

import (
	_ "embed" // the misdirected request check

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// MisdirectedBody is the body of a 421 Misdirected Request: what the
// catch-all virtual host of an https/<fqdn> route configuration answers,
// and MisdirectedSource too.
const MisdirectedBody = "misdirected request: the Host does not match the TLS server name\n"

// MisdirectedFilter is the name of the Lua filter holding
// MisdirectedSource. It is not LuaFilter: a route's LuaPerRoute (cookie
// rewriting) configures the filter of that name, and would replace the
// check on that route.
const MisdirectedFilter = "isobar.filters.http.misdirected"

// misdirectedFile is the commented script: misdirected.lua says what it
// does and which Envoy API it needs.
//
//go:embed misdirected.lua
var misdirectedFile string

// MisdirectedSource is the Lua source of the misdirected request check as
// connection managers carry it (misdirectedFile without its comments,
// blank lines and indentation): a request whose host, in lower case and
// without a port, is not the connection's TLS server name gets 421 with
// MisdirectedBody. The simulator recognises the filter by this source.
var MisdirectedSource = compactLua(misdirectedFile)

// misdirectedFilter is the HTTP filter running MisdirectedSource on every
// request (its errors counted under lua.misdirected). Shared, never
// modified.
var misdirectedFilter = httpFilter(MisdirectedFilter, &luav3.Lua{
	DefaultSourceCode: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: MisdirectedSource}},
	StatPrefix:        "misdirected",
})

// withMisdirected returns filters with misdirectedFilter first, where
// Contour puts its own check: before any filter that could answer the
// request itself.
func withMisdirected(filters []*hcmv3.HttpFilter) []*hcmv3.HttpFilter {
	return append(append(make([]*hcmv3.HttpFilter, 0, len(filters)+1), misdirectedFilter), filters...)
}
