package router

import (
	"bytes"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The header mutations below are written by hand; the expected headers
// follow Envoy's documented order and append actions.

func hvo(name, value string, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: name, Value: value}, AppendAction: action}
}

const (
	appendOrAdd    = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
	addIfAbsent    = corev3.HeaderValueOption_ADD_IF_ABSENT
	overwriteOrAdd = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	overwriteOnly  = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS
)

// headersFixture is fixture's configuration with header mutations at every
// level: the route configuration, virtual host "exact", its /exact route,
// and the clusters of its /split route.
func headersFixture(t *testing.T, mostSpecificWins bool) *Router {
	t.Helper()
	res := fixture(t)
	rc := res.Routes[0]
	rc.MostSpecificHeaderMutationsWins = mostSpecificWins
	rc.RequestHeadersToAdd = []*corev3.HeaderValueOption{hvo("X-Level", "route configuration", overwriteOrAdd), hvo("x-start", "t=%START_TIME(%s)%", appendOrAdd)}
	rc.ResponseHeadersToRemove = []string{"Server"}
	vh := rc.VirtualHosts[0]
	vh.RequestHeadersToAdd = []*corev3.HeaderValueOption{hvo("x-level", "virtual host", overwriteOrAdd), hvo("x-vh", "1", overwriteOrAdd)}
	vh.RequestHeadersToRemove = []string{"x-debug"}
	for _, rt := range vh.Routes {
		switch rt.GetMatch().GetPath() + rt.GetMatch().GetPrefix() {
		case "/exact":
			rt.RequestHeadersToAdd = []*corev3.HeaderValueOption{hvo("x-level", "route", overwriteOrAdd), hvo("x-debug", "route", overwriteOrAdd)}
			rt.ResponseHeadersToAdd = []*corev3.HeaderValueOption{hvo("cache-control", "no-store", overwriteOrAdd), hvo("x-only-if-sent", "1", overwriteOnly)}
		case "/split":
			cs := rt.GetRoute().GetWeightedClusters().GetClusters()
			cs[0].RequestHeadersToAdd = []*corev3.HeaderValueOption{hvo("x-cluster", "a", overwriteOrAdd), hvo("x-level", "cluster", overwriteOrAdd)}
			cs[1].RequestHeadersToAdd = []*corev3.HeaderValueOption{hvo("x-cluster", "b", overwriteOrAdd)}
			cs[1].ResponseHeadersToAdd = []*corev3.HeaderValueOption{hvo("x-from", "b", overwriteOrAdd)}
		case "/old":
			rt.ResponseHeadersToAdd = []*corev3.HeaderValueOption{hvo("x-moved", "yes", overwriteOrAdd)}
		}
	}
	return New(res, Options{})
}

// TestHeaderLevels: route-level mutations go first and the route
// configuration's last, so the outer level's overwrite stays; with
// most_specific_header_mutations_wins the route's does. A header the
// virtual host removes and the route (applied before it) sets is removed;
// the route configuration's APPEND value is set on a request without it.
func TestHeaderLevels(t *testing.T) {
	t.Parallel()
	req := Request{URL: "http://foo.com/exact", Headers: map[string]string{"X-Debug": "1", "X-Keep": "k"}}
	for name, tc := range map[string]struct {
		mostSpecific bool
		want         []HeaderChange
	}{
		"outer level wins": {false, []HeaderChange{
			{Name: "x-level", Action: "set", Value: "route configuration"},
			{Name: "x-start", Action: "set", Value: "t=%START_TIME(%s)%"},
			{Name: "x-vh", Action: "set", Value: "1"},
			{Name: "x-debug", Action: "removed"},
		}},
		"most specific wins": {true, []HeaderChange{
			{Name: "x-debug", Action: "set", Value: "route"},
			{Name: "x-level", Action: "set", Value: "route"},
			{Name: "x-start", Action: "set", Value: "t=%START_TIME(%s)%"},
			{Name: "x-vh", Action: "set", Value: "1"},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := headersFixture(t, tc.mostSpecific).Evaluate(req)
			if d := cmp.Diff(tc.want, got.RequestHeaderChanges); d != "" {
				t.Errorf("request header changes (-want +got):\n%s", d)
			}
			wantResp := []HeaderChange{{Name: "cache-control", Action: "set", Value: "no-store"}, {Name: "server", Action: "removed"}}
			if d := cmp.Diff(wantResp, got.ResponseHeaderChanges); d != "" {
				t.Errorf("response header changes (-want +got):\n%s", d)
			}
		})
	}
}

// TestWeightedClusterHeaders: each cluster's mutations apply to the
// requests sent to it, before the route's (so the route configuration
// overwrites x-level); what every backend gets is told once on the result.
func TestWeightedClusterHeaders(t *testing.T) {
	t.Parallel()
	got := headersFixture(t, false).Evaluate(Request{URL: "http://foo.com/split"})
	wantCommon := []HeaderChange{
		{Name: "x-level", Action: "set", Value: "route configuration"},
		{Name: "x-start", Action: "set", Value: "t=%START_TIME(%s)%"},
		{Name: "x-vh", Action: "set", Value: "1"},
		{Name: "x-debug", Action: "removed"},
	}
	if d := cmp.Diff(wantCommon, got.RequestHeaderChanges); d != "" {
		t.Errorf("common request header changes (-want +got):\n%s", d)
	}
	own := map[string][]HeaderChange{}
	ownResp := map[string][]HeaderChange{}
	for _, b := range got.Backends {
		own[b.Service], ownResp[b.Service] = b.RequestHeaderChanges, b.ResponseHeaderChanges
	}
	wantOwn := map[string][]HeaderChange{
		"a": {{Name: "x-cluster", Action: "set", Value: "a"}},
		"b": {{Name: "x-cluster", Action: "set", Value: "b"}},
		"c": nil,
	}
	if d := cmp.Diff(wantOwn, own); d != "" {
		t.Errorf("backends' own request header changes (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string][]HeaderChange{"a": nil, "b": {{Name: "x-from", Action: "set", Value: "b"}}, "c": nil}, ownResp); d != "" {
		t.Errorf("backends' own response header changes (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]HeaderChange{{Name: "server", Action: "removed"}}, got.ResponseHeaderChanges); d != "" {
		t.Errorf("common response header changes (-want +got):\n%s", d)
	}
}

// TestLocalAnswerHeaders: a redirect's answer gets the route's response
// headers; no request goes upstream, so there are no request changes.
func TestLocalAnswerHeaders(t *testing.T) {
	t.Parallel()
	got := headersFixture(t, false).Evaluate(Request{URL: "http://foo.com/old/x"})
	want := []HeaderChange{{Name: "x-moved", Action: "set", Value: "yes"}, {Name: "server", Action: "removed"}}
	if d := cmp.Diff(want, got.ResponseHeaderChanges); d != "" || got.RequestHeaderChanges != nil {
		t.Errorf("response changes (-want +got):\n%s\nrequest changes %v, want none", d, got.RequestHeaderChanges)
	}
}

// TestAppendActions: each append_action against the request's own
// headers, keep_empty_value, and the deprecated append flag.
func TestAppendActions(t *testing.T) {
	t.Parallel()
	keepEmpty := hvo("x-kept-empty", "%REQ(x-absent)%", overwriteOrAdd)
	keepEmpty.KeepEmptyValue = true
	legacy := hvo("x-legacy", "new", appendOrAdd)
	legacy.Append = wrapperspb.Bool(false) // overwrite, whatever append_action says
	level := headerMutations{add: []*corev3.HeaderValueOption{
		hvo("x-append", "2", appendOrAdd),
		hvo("x-absent-add", "new", addIfAbsent),
		hvo("x-present-add", "new", addIfAbsent),
		hvo("x-overwrite", "new", overwriteOrAdd),
		hvo("x-overwrite-only", "new", overwriteOnly),
		hvo("x-missing-overwrite-only", "new", overwriteOnly),
		hvo("x-dropped-empty", "%REQ(x-absent)%", overwriteOrAdd),
		keepEmpty,
		legacy,
		hvo("host", "evil", overwriteOrAdd),
		hvo(":path", "/evil", overwriteOrAdd),
	}}
	p, err := parseRequest(Request{URL: "http://foo.com/", Headers: map[string]string{
		"X-Append": "1", "x-present-add": "old", "x-overwrite": "old", "x-overwrite-only": "old", "x-legacy": "old", "x-untouched": "same"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := mutate(requestHeaders(p), []headerMutations{level}, pseudoHeaders(p))
	want := []HeaderChange{
		{Name: "x-absent-add", Action: "set", Value: "new"},
		{Name: "x-append", Action: "appended", Value: "1,2"},
		{Name: "x-kept-empty", Action: "set", Value: ""},
		{Name: "x-legacy", Action: "set", Value: "new"},
		{Name: "x-overwrite", Action: "set", Value: "new"},
		{Name: "x-overwrite-only", Action: "set", Value: "new"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestOneLevelChecksBeforeAdding: Envoy checks a level's ADD_IF_ABSENT
// against the headers before the level adds anything, overwrites, then
// appends.
func TestOneLevelChecksBeforeAdding(t *testing.T) {
	t.Parallel()
	level := headerMutations{add: []*corev3.HeaderValueOption{hvo("x-n", "a", appendOrAdd), hvo("x-n", "b", addIfAbsent)}}
	got, _ := mutate(headerMap{}, []headerMutations{level}, requestValues{})
	if d := cmp.Diff([]HeaderChange{{Name: "x-n", Action: "set", Value: "b,a"}}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestHeaderValue: %% is a %, a simple %REQ(name)% is the request's header
// (empty without it; Host and pseudo-headers too), and every other command
// operator, or a %REQ of a header Envoy adds itself, is left as written.
func TestHeaderValue(t *testing.T) {
	t.Parallel()
	p, err := parseRequest(Request{URL: "http://foo.com/a?b=1", Method: "post", Headers: map[string]string{"Authorization": "Bearer t", "X-Two": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	lookup := pseudoHeaders(p).lookup(requestHeaders(p))
	for in, want := range map[string]string{
		"plain":                          "plain",
		"100%% %%NOT_A_VARIABLE%%":       "100% %NOT_A_VARIABLE%",
		"%REQ(Authorization)%":           "Bearer t",
		"<%REQ(x-two)%|%REQ(x-absent)%>": "<v|>",
		"%REQ(:authority)% %REQ(Host)%":  "foo.com foo.com",
		"%REQ(:method)% %REQ(:path)%":    "POST /a?b=1",
		"%REQ(x-absent?x-two)%":          "%REQ(x-absent?x-two)%",
		"%REQ(x-two):1%":                 "%REQ(x-two):1%",
		"%REQ(x-request-id)%":            "%REQ(x-request-id)%",
		"%REQ(X-Forwarded-For)%":         "%REQ(X-Forwarded-For)%",
		"t=%START_TIME(%s.%3f)%":         "t=%START_TIME(%s.%3f)%",
		"%DOWNSTREAM_REMOTE_ADDRESS%":    "%DOWNSTREAM_REMOTE_ADDRESS%",
		"%HOSTNAME%-%RESP(server)%":      "%HOSTNAME%-%RESP(server)%",
		"a % b":                          "a % b",
	} {
		if got := headerValue(in, lookup); got != want {
			t.Errorf("headerValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHeaderExpectations: requestHeaders are checked against what each
// backend receives (the request's headers as changed), responseHeaders
// against the route's changes with the CORS filter's headers over them.
func TestHeaderExpectations(t *testing.T) {
	t.Parallel()
	rt := headersFixture(t, false)
	str := func(s string) *string { return &s }
	for name, tc := range map[string]struct {
		url     string
		headers map[string]string
		expect  Expect
		want    []string
	}{
		"single backend": {url: "http://foo.com/exact", headers: map[string]string{"X-Keep": "k", "x-debug": "1"},
			expect: Expect{RequestHeaders: map[string]*string{"X-Keep": str("k"), "x-level": str("route configuration"), "x-debug": nil},
				ResponseHeaders: map[string]*string{"Cache-Control": str("no-store"), "server": nil}}},
		"single backend, wrong": {url: "http://foo.com/exact",
			expect: Expect{RequestHeaders: map[string]*string{"x-level": str("route"), "x-vh": nil, "x-keep": str("k")},
				ResponseHeaders: map[string]*string{"cache-control": nil, "x-only-if-sent": str("1")}},
			want: []string{
				`response header cache-control: want none, got "no-store"`,
				`response header x-only-if-sent: want "1", got none`,
				`request header x-keep: want "k", got none`,
				`request header x-level: want "route", got "route configuration"`,
				`request header x-vh: want none, got "1"`,
			}},
		"every backend of a split": {url: "http://foo.com/split",
			expect: Expect{RequestHeaders: map[string]*string{"x-cluster": str("a"), "x-vh": str("1")},
				ResponseHeaders: map[string]*string{"x-from": nil}},
			want: []string{
				`response header from ns/b:80 x-from: want none, got "b"`,
				`request header at ns/b:80 x-cluster: want "a", got "b"`,
				`request header at ns/c:80 x-cluster: want "a", got none`,
			}},
		"no backend": {url: "http://foo.com/old", expect: Expect{RequestHeaders: map[string]*string{"x-vh": nil},
			ResponseHeaders: map[string]*string{"x-moved": str("yes")}},
			want: []string{"request headers: no backend receives the request"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := Case{URL: tc.url, Headers: tc.headers, Expect: &tc.expect}
			if d := cmp.Diff(tc.want, Check(c, rt.Evaluate(c.Request()))); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestFormatHeaders: the text output's header lines, once for what every
// backend gets and under a backend for its own.
func TestFormatHeaders(t *testing.T) {
	t.Parallel()
	r := Result{Request: Request{URL: "http://foo.com/", Method: "GET"}, Status: 200, Routed: true,
		Backends: []Backend{
			{Namespace: "ns", Service: "a", Port: 80, Weight: 50, Endpoints: 1, RequestHeaderChanges: []HeaderChange{{Name: "x-cluster", Action: "set", Value: "a"}}},
			{Namespace: "ns", Service: "b", Port: 80, Weight: 50, Endpoints: 1, ResponseHeaderChanges: []HeaderChange{{Name: "x-from", Action: "set", Value: "b"}}},
		},
		RequestHeaderChanges:  []HeaderChange{{Name: "x-env", Action: "set", Value: "prod"}, {Name: "x-tag", Action: "appended", Value: "1,2"}, {Name: "x-debug", Action: "removed"}},
		ResponseHeaderChanges: []HeaderChange{{Name: "access-control-allow-origin", Action: "set", Value: "*"}, {Name: "server", Action: "removed"}},
		ResponseHeaders:       map[string]string{"access-control-allow-origin": "https://app.com"},
	}
	var b bytes.Buffer
	Format(&b, r)
	want := `GET http://foo.com/
  status:   200 (routed)
  backend:  ns/a:80  50%  (1 endpoints)
    headers:  set x-cluster: a
  backend:  ns/b:80  50%  (1 endpoints)
    response: set x-from: b
  headers:  set x-env: prod; appended x-tag: 1,2; removed x-debug
  response: set access-control-allow-origin: https://app.com; removed server
  trace:
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if strings.Count(b.String(), "x-env") != 1 {
		t.Errorf("a common change is told more than once")
	}
}
