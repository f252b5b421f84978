package envoy

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
)

// This file runs MisdirectedSource in gopher-lua (Lua 5.1, as Envoy's
// LuaJIT) against a stand-in for Envoy's request handle: headers() with
// get() of :authority only, streamInfo() with requestedServerName(), and
// respond(headers, body), which records the answer. A script calling any
// other method fails here, as it would in Envoy.

// MisdirectedAnswer runs MisdirectedSource's envoy_on_request for a
// request whose :authority is authority (absent when nil) on a connection
// whose TLS server name is sni (Envoy gives "" when there is none). It
// returns the status and body the script answered with, or 0 and "" when
// it let the request through.
func MisdirectedAnswer(t *testing.T, authority *string, sni string) (status string, body string) {
	t.Helper()
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(MisdirectedSource); err != nil {
		t.Fatalf("loading the script: %v", err)
	}
	headers := L.NewTable()
	L.SetField(headers, "get", L.NewFunction(func(L *lua.LState) int {
		if L.CheckString(2) != ":authority" {
			L.RaiseError("the stand-in knows :authority only, not %q", L.CheckString(2))
		}
		if authority == nil {
			return 0
		}
		L.Push(lua.LString(*authority))
		return 1
	}))
	info := L.NewTable()
	L.SetField(info, "requestedServerName", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LString(sni)); return 1 }))
	responded := false
	handle := L.NewTable()
	L.SetField(handle, "headers", L.NewFunction(func(L *lua.LState) int { L.Push(headers); return 1 }))
	L.SetField(handle, "streamInfo", L.NewFunction(func(L *lua.LState) int { L.Push(info); return 1 }))
	L.SetField(handle, "respond", L.NewFunction(func(L *lua.LState) int {
		if responded {
			L.RaiseError("respond called twice")
		}
		responded = true
		h := L.CheckTable(2)
		status, body = h.RawGetString(":status").String(), L.CheckString(3)
		if ct := h.RawGetString("content-type").String(); ct != "text/plain" {
			L.RaiseError("content-type %q, want text/plain", ct)
		}
		return 0
	}))
	if err := L.CallByParam(lua.P{Fn: L.GetGlobal("envoy_on_request"), Protect: true}, handle); err != nil {
		t.Fatalf("envoy_on_request: %v", err)
	}
	return status, body
}

func TestMisdirectedScript(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	for name, tc := range map[string]struct {
		authority *string
		sni       string
		answered  bool
	}{
		"the host is the server name":                           {authority: s("a.example.com"), sni: "a.example.com"},
		"another name under the same wildcard":                  {authority: s("b.example.com"), sni: "a.example.com", answered: true},
		"a name outside the wildcard":                           {authority: s("a.example.org"), sni: "a.example.com", answered: true},
		"the port is not part of the host":                      {authority: s("a.example.com:8443"), sni: "a.example.com"},
		"an empty port too":                                     {authority: s("a.example.com:"), sni: "a.example.com"},
		"case does not matter in the host":                      {authority: s("A.Example.COM:443"), sni: "a.example.com"},
		"nor in the server name":                                {authority: s("a.example.com"), sni: "A.EXAMPLE.com"},
		"a trailing dot is another name (unless stripped)":      {authority: s("a.example.com."), sni: "a.example.com", answered: true},
		"a longer name that ends the same":                      {authority: s("xa.example.com"), sni: "a.example.com", answered: true},
		"an IPv6 literal keeps its colons, loses its port":      {authority: s("[::1]:8443"), sni: "[::1]"},
		"an IPv6 literal without a port":                        {authority: s("[::1]"), sni: "[::1]"},
		"an IPv6 literal is not the server name":                {authority: s("[::1]:8443"), sni: "a.example.com", answered: true},
		"no server name: every host is misdirected":             {authority: s("a.example.com"), sni: "", answered: true},
		"no :authority (HTTP/1.0 without Host) is not the name": {authority: nil, sni: "a.example.com", answered: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			status, body := MisdirectedAnswer(t, tc.authority, tc.sni)
			want, wantBody := "", ""
			if tc.answered {
				want, wantBody = "421", "misdirected request: the Host does not match the TLS server name\n"
			}
			if status != want || body != wantBody {
				t.Errorf("answered %q %q, want %q %q", status, body, want, wantBody)
			}
		})
	}
	if MisdirectedBody != "misdirected request: the Host does not match the TLS server name\n" {
		t.Errorf("MisdirectedBody is %q", MisdirectedBody)
	}
}

// TestMisdirectedFilterFirst: with CheckServerName the check is the first
// HTTP filter, whatever the compression and the cookie rewrite script, and
// the other filters are those of the same host without it.
func TestMisdirectedFilterFirst(t *testing.T) {
	t.Parallel()
	a, err := anypb.New(&luav3.Lua{
		DefaultSourceCode: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: MisdirectedSource}},
		StatPrefix:        "misdirected",
	})
	if err != nil {
		t.Fatal(err)
	}
	check := &hcmv3.HttpFilter{Name: "isobar.filters.http.misdirected", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}
	filters := func(s *ConnectionSettings, h HostSettings) []*hcmv3.HttpFilter {
		var hcm hcmv3.HttpConnectionManager
		if err := HTTPConnectionManager("ingress_https", "https/*.a.com", nil, s, h).GetTypedConfig().UnmarshalTo(&hcm); err != nil {
			t.Fatal(err)
		}
		return hcm.GetHttpFilters()
	}
	for _, c := range []Compression{"", CompressionDisabled, CompressionBrotli} {
		s := NewConnectionSettings(Connections{Compression: c})
		for _, lua := range []bool{false, true} {
			got := filters(s, HostSettings{CookieRewrite: lua, CheckServerName: true})
			want := append([]*hcmv3.HttpFilter{check}, filters(s, HostSettings{CookieRewrite: lua})...)
			if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
				t.Errorf("compression %q, cookie rewrite %v (-want +got):\n%s", c, lua, d)
			}
		}
	}
}
