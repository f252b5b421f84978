package envoy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	lua "github.com/yuin/gopher-lua"
	"google.golang.org/protobuf/types/known/structpb"
)

// This file runs CookieRewriteSource in gopher-lua (Lua 5.1, as Envoy's
// LuaJIT) against a small stand-in for Envoy's response handle. The
// stand-in's fidelity limits: its header map is an ordered list of
// lower-cased names and values with only get, getAtIndex (0-based),
// getNumValues, remove (every value of the name) and add (appended), as
// Envoy documents them; it knows no inline headers, no pairs() iteration
// and no other handle method (a script calling one fails here, as it
// would in Envoy). filterContext() returns an object whose get() converts
// the protobuf Struct to plain Lua tables, strings, booleans and numbers,
// as Envoy's metadata wrapper does. gopher-lua is not LuaJIT: the script
// keeps to Lua 5.1's standard string and table functions, which both have.

// header is one entry of the stand-in header map.
type header struct{ name, value string }

// runCookieRewrite runs envoy_on_response over setCookies (and one other
// header) with the filter context ctx (nil: no LuaPerRoute context) and
// returns the headers afterwards.
func runCookieRewrite(t *testing.T, ctx *structpb.Struct, setCookies ...string) []header {
	t.Helper()
	hs := []header{{"content-type", "text/plain"}}
	for _, c := range setCookies {
		hs = append(hs, header{"set-cookie", c})
	}
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(CookieRewriteSource); err != nil {
		t.Fatalf("loading the script: %v", err)
	}
	headers := L.NewTable()
	L.SetFuncs(headers, map[string]lua.LGFunction{
		"get": func(L *lua.LState) int {
			var vs []string
			for _, h := range hs {
				if h.name == strings.ToLower(L.CheckString(2)) {
					vs = append(vs, h.value)
				}
			}
			if vs == nil {
				return 0
			}
			L.Push(lua.LString(strings.Join(vs, ",")))
			return 1
		},
		"getNumValues": func(L *lua.LState) int {
			n := 0
			for _, h := range hs {
				if h.name == strings.ToLower(L.CheckString(2)) {
					n++
				}
			}
			L.Push(lua.LNumber(n))
			return 1
		},
		"getAtIndex": func(L *lua.LState) int {
			name, i := strings.ToLower(L.CheckString(2)), L.CheckInt(3)
			for _, h := range hs {
				if h.name == name {
					if i == 0 {
						L.Push(lua.LString(h.value))
						return 1
					}
					i--
				}
			}
			return 0
		},
		"remove": func(L *lua.LState) int {
			name := strings.ToLower(L.CheckString(2))
			kept := hs[:0]
			for _, h := range hs {
				if h.name != name {
					kept = append(kept, h)
				}
			}
			hs = kept
			return 0
		},
		"add": func(L *lua.LState) int {
			hs = append(hs, header{strings.ToLower(L.CheckString(2)), L.CheckString(3)})
			return 0
		},
	})
	context := L.NewTable()
	L.SetField(context, "get", L.NewFunction(func(L *lua.LState) int {
		v, ok := ctx.GetFields()[L.CheckString(2)]
		if !ok {
			return 0
		}
		L.Push(luaValue(L, v))
		return 1
	}))
	handle := L.NewTable()
	L.SetField(handle, "headers", L.NewFunction(func(L *lua.LState) int { L.Push(headers); return 1 }))
	L.SetField(handle, "filterContext", L.NewFunction(func(L *lua.LState) int { L.Push(context); return 1 }))
	if err := L.CallByParam(lua.P{Fn: L.GetGlobal("envoy_on_response"), Protect: true}, handle); err != nil {
		t.Fatalf("envoy_on_response: %v", err)
	}
	return hs
}

// luaValue converts a protobuf Value as Envoy does for filter contexts.
func luaValue(L *lua.LState, v *structpb.Value) lua.LValue {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return lua.LString(k.StringValue)
	case *structpb.Value_BoolValue:
		return lua.LBool(k.BoolValue)
	case *structpb.Value_NumberValue:
		return lua.LNumber(k.NumberValue)
	case *structpb.Value_StructValue:
		t := L.NewTable()
		for name, f := range k.StructValue.GetFields() {
			t.RawSetString(name, luaValue(L, f))
		}
		return t
	case *structpb.Value_ListValue:
		t := L.NewTable()
		for _, e := range k.ListValue.GetValues() {
			t.Append(luaValue(L, e))
		}
		return t
	}
	return lua.LNil
}

// rules builds a filter context as translate writes it: cookie name ->
// attributes.
func rules(t *testing.T, r map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(map[string]any{"cookie_rewrite_rules": r})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCookieRewriteScript(t *testing.T) {
	t.Parallel()
	all := map[string]any{"Path": "/app", "Domain": "example.com", "Secure": true, "SameSite": "Strict"}
	for name, tc := range map[string]struct {
		rules map[string]any
		in    []string
		want  []string
	}{
		"every attribute replaced in place, others kept": {rules: map[string]any{"sid": all},
			in:   []string{"sid=abc; path=/; Max-Age=60; DOMAIN=old.example; HttpOnly; samesite=lax"},
			want: []string{"sid=abc; Path=/app; Max-Age=60; Domain=example.com; HttpOnly; SameSite=Strict; Secure"}},
		"missing attributes are added in a fixed order": {rules: map[string]any{"sid": all},
			in:   []string{"sid=abc"},
			want: []string{"sid=abc; Path=/app; Domain=example.com; Secure; SameSite=Strict"}},
		"Secure false removes it, whatever its case": {rules: map[string]any{"sid": map[string]any{"Secure": false}},
			in:   []string{"sid=abc; secure; Path=/; SECURE"},
			want: []string{"sid=abc; Path=/"}},
		"Secure false on a cookie without it changes nothing": {rules: map[string]any{"sid": map[string]any{"Secure": false}},
			in:   []string{"sid=abc; HttpOnly"},
			want: []string{"sid=abc; HttpOnly"}},
		"Secure true is not doubled": {rules: map[string]any{"sid": map[string]any{"Secure": true}},
			in:   []string{"sid=abc; Secure; HttpOnly"},
			want: []string{"sid=abc; Secure; HttpOnly"}},
		"SameSite None": {rules: map[string]any{"sid": map[string]any{"SameSite": "None"}},
			in:   []string{"sid=abc; SameSite=Strict; Secure"},
			want: []string{"sid=abc; SameSite=None; Secure"}},
		"a repeated attribute is replaced once": {rules: map[string]any{"sid": map[string]any{"Path": "/app"}},
			in:   []string{"sid=abc; Path=/a; Path=/b"},
			want: []string{"sid=abc; Path=/app"}},
		"a quoted value and an Expires with a comma are kept": {rules: map[string]any{"sid": map[string]any{"Domain": "example.com"}},
			in:   []string{`sid="a=b"; Expires=Wed, 21 Oct 2026 07:28:00 GMT`},
			want: []string{`sid="a=b"; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Domain=example.com`}},
		"several cookies: only those with rules change, order kept": {
			rules: map[string]any{"a": map[string]any{"Path": "/a"}, "c": map[string]any{"SameSite": "Lax"}},
			in:    []string{"a=1; Path=/", "b=2; Path=/", "c=3", "A=4; Path=/"},
			want:  []string{"a=1; Path=/a", "b=2; Path=/", "c=3; SameSite=Lax", "A=4; Path=/"}},
		"a cookie without rules is untouched, byte for byte": {rules: map[string]any{"sid": all},
			in:   []string{" other=1;path=/ ;  secure"},
			want: []string{" other=1;path=/ ;  secure"}},
		"spaces around the name and attributes are normalised on a rewritten cookie": {rules: map[string]any{"sid": map[string]any{"Path": "/x"}},
			in:   []string{" sid=abc ;  Path = / ;HttpOnly "},
			want: []string{"sid=abc; Path=/x; HttpOnly"}},
		"a value that is not name=value is untouched": {rules: map[string]any{"sid": all},
			in:   []string{"garbage", "sid"},
			want: []string{"garbage", "sid"}},
		"an attribute value is never read as Lua": {rules: map[string]any{"sid": map[string]any{"Path": `" .. (function() return "x" end)() .. "`}},
			in:   []string{"sid=1"},
			want: []string{`sid=1; Path=" .. (function() return "x" end)() .. "`}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := runCookieRewrite(t, rules(t, tc.rules), tc.in...)
			want := []header{{"content-type", "text/plain"}}
			for _, c := range tc.want {
				want = append(want, header{"set-cookie", c})
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(header{})); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCookieRewriteScriptWithoutRules: no context, an empty one or no
// Set-Cookie header leave the headers as they were.
func TestCookieRewriteScriptWithoutRules(t *testing.T) {
	t.Parallel()
	want := []header{{"content-type", "text/plain"}, {"set-cookie", "sid=1; secure"}}
	for name, ctx := range map[string]*structpb.Struct{
		"no context": nil, "an empty context": {}, "no rules": rules(t, map[string]any{}),
	} {
		if diff := cmp.Diff(want, runCookieRewrite(t, ctx, "sid=1; secure"), cmp.AllowUnexported(header{})); diff != "" {
			t.Errorf("%s: headers (-want +got):\n%s", name, diff)
		}
	}
	if diff := cmp.Diff([]header{{"content-type", "text/plain"}}, runCookieRewrite(t, rules(t, map[string]any{"sid": map[string]any{"Secure": true}})),
		cmp.AllowUnexported(header{})); diff != "" {
		t.Errorf("no Set-Cookie: headers (-want +got):\n%s", diff)
	}
}

// TestCompactLua: comment lines, blank lines and indentation go; code and
// a "--" inside a string stay.
func TestCompactLua(t *testing.T) {
	t.Parallel()
	in := "-- header\n\nlocal a = \"--x\"\n  if a then -- trailing\n    return a\n  end\n"
	if got, want := compactLua(in), "local a = \"--x\"\nif a then -- trailing\nreturn a\nend\n"; got != want {
		t.Errorf("compactLua = %q, want %q", got, want)
	}
	if strings.Contains(CookieRewriteSource, "\n--") || strings.Contains(CookieRewriteSource, "\n ") {
		t.Errorf("the shipped script keeps comments or indentation:\n%s", CookieRewriteSource)
	}
}

// SetCookiesAfterRewrite runs the script as runCookieRewrite does and
// returns the Set-Cookie values afterwards, for the end-to-end test of
// package envoy_test (which translates a graph first).
func SetCookiesAfterRewrite(t *testing.T, ctx *structpb.Struct, setCookies ...string) []string {
	var out []string
	for _, h := range runCookieRewrite(t, ctx, setCookies...) {
		if h.name == "set-cookie" {
			out = append(out, h.value)
		}
	}
	return out
}
