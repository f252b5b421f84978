package router

import (
	"strings"

	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/isobar-dev/isobar/controlplane/envoy"
)

// luaScripts is what the Lua filters of a connection manager run on every
// request (their default scripts): whether one is Isobar's misdirected
// request check (envoy.MisdirectedSource), and the names of the filters
// whose script the simulator does not know.
type luaScripts struct {
	checkServerName bool
	unknown         []string
}

// readLuaScripts finds the default scripts of hcm's Lua filters.
func readLuaScripts(hcm *hcmv3.HttpConnectionManager) luaScripts {
	var out luaScripts
	for _, f := range hcm.GetHttpFilters() {
		var lua luav3.Lua
		if tc := f.GetTypedConfig(); !tc.MessageIs(&lua) || tc.UnmarshalTo(&lua) != nil {
			continue
		}
		src := lua.GetDefaultSourceCode()
		switch {
		case src == nil:
			// Only routes naming one of its scripts run it.
		case src.GetInlineString() == envoy.MisdirectedSource:
			out.checkServerName = true
		default:
			out.unknown = append(out.unknown, f.GetName())
		}
	}
	return out
}

// misdirected runs the connection manager's Lua scripts before routing:
// Isobar's check answers 421 when the request's host (authority, as the
// connection manager normalised it), in lower case and without its port,
// is not the connection's TLS server name (sni, in lower case: Envoy
// lower-cases it). Isobar puts the check first, so it is evaluated before
// anything else of the connection manager. A script the simulator does not
// know is named in the trace and not evaluated. misdirected reports
// whether the request was answered.
func misdirected(s luaScripts, authority, sni string, res *Result) bool {
	for _, name := range s.unknown {
		res.tracef("Lua filter %s runs a script of its own on every request: not evaluated by the simulator", name)
	}
	if !s.checkServerName {
		return false
	}
	host, server := strings.ToLower(stripPort(authority)), strings.ToLower(sni)
	if host == server {
		res.tracef("misdirected request check: host %q is the TLS server name", host)
		return false
	}
	res.Status, res.Body = 421, envoy.MisdirectedBody
	res.tracef("misdirected request check: host %q is not the TLS server name %q: 421", host, server)
	return true
}
