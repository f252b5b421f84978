package router

import (
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// HeaderChange is what the route configuration makes Envoy do to one
// header of the request it sends upstream or of the response it sends back
// (request_headers_to_add/_remove, response_headers_to_add/_remove).
type HeaderChange struct {
	// Name is lower case.
	Name string `json:"name"`
	// Action is "set" (the header holds Value, whatever it held before),
	// "appended" (Value is the header's own values followed by those Envoy
	// adds) or "removed" (it is not sent, whether or not it was there).
	Action string `json:"action"`
	// Value is the header's value once changed, several values joined by
	// commas. Envoy's command operators are left as written (see
	// headerValue), so %START_TIME(...)% or %DOWNSTREAM_REMOTE_ADDRESS% stand
	// for what Envoy fills in.
	Value string `json:"value,omitempty"`
}

// Actions of a HeaderChange.
const (
	headerSet      = "set"
	headerAppended = "appended"
	headerRemoved  = "removed"
)

// headerMutations is one level's header mutations: names removed, then
// headers added.
type headerMutations struct {
	add    []*corev3.HeaderValueOption
	remove []string
}

// headerScope is where the header mutations of a matched route come from.
type headerScope struct {
	rc *routev3.RouteConfiguration
	vh *routev3.VirtualHost
	rt *routev3.Route
}

// levels lists the mutations in the order Envoy applies them (its
// finalizeRequestHeaders and finalizeResponseHeaders): the weighted
// cluster's first, always; then the route's, the virtual host's and the
// route configuration's, so that the outer level has the last word on a
// header two levels overwrite — the reverse (route configuration first,
// route last) when the route configuration sets
// most_specific_header_mutations_wins. Envoy's documentation describes
// that flag as reversing the whole order, but its code (the weighted
// cluster entry's finalizeRequestHeaders) applies the weighted cluster's
// first either way, which is what is modelled. w is nil for a single
// cluster, a redirect or a direct response.
func (s headerScope) levels(w *routev3.WeightedCluster_ClusterWeight, response bool) []headerMutations {
	pick := func(addReq, addResp []*corev3.HeaderValueOption, rmReq, rmResp []string) headerMutations {
		if response {
			return headerMutations{addResp, rmResp}
		}
		return headerMutations{addReq, rmReq}
	}
	rt := pick(s.rt.GetRequestHeadersToAdd(), s.rt.GetResponseHeadersToAdd(), s.rt.GetRequestHeadersToRemove(), s.rt.GetResponseHeadersToRemove())
	vh := pick(s.vh.GetRequestHeadersToAdd(), s.vh.GetResponseHeadersToAdd(), s.vh.GetRequestHeadersToRemove(), s.vh.GetResponseHeadersToRemove())
	rc := pick(s.rc.GetRequestHeadersToAdd(), s.rc.GetResponseHeadersToAdd(), s.rc.GetRequestHeadersToRemove(), s.rc.GetResponseHeadersToRemove())
	out := []headerMutations{pick(w.GetRequestHeadersToAdd(), w.GetResponseHeadersToAdd(), w.GetRequestHeadersToRemove(), w.GetResponseHeadersToRemove())}
	if s.rc.GetMostSpecificHeaderMutationsWins() {
		return append(out, rc, vh, rt)
	}
	return append(out, rt, vh, rc)
}

// headerMap is a set of headers by lower-case name, each with its values.
type headerMap map[string][]string

// requestHeaders is the request's own headers as Envoy's header map has
// them (the Host is :authority, apart).
func requestHeaders(p *parsed) headerMap {
	h := headerMap{}
	for k, v := range p.headers {
		h[k] = []string{v}
	}
	return h
}

func (h headerMap) clone() headerMap {
	out := make(headerMap, len(h))
	for k, v := range h {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// pending is one header a level adds: overwriting or appending.
type pending struct {
	name, value string
	overwrite   bool
}

// apply runs one level as Envoy's header parser does: the names to remove
// go first; then every header to add is formatted (against the headers as
// they are after the removals) and checked against its append_action, the
// overwrites are made, and the appends last. A value formatted to nothing
// is not added unless keep_empty_value. It returns the names removed.
// Pseudo-headers and Host cannot be changed this way (Envoy refuses such a
// configuration): they are skipped.
func (h headerMap) apply(m headerMutations, req requestValues) []string {
	var removed []string
	for _, n := range m.remove {
		n = strings.ToLower(n)
		delete(h, n)
		removed = append(removed, n)
	}
	var todo []pending
	for _, o := range m.add {
		name := strings.ToLower(o.GetHeader().GetKey())
		if name == "" || name == "host" || strings.HasPrefix(name, ":") {
			continue
		}
		raw := o.GetHeader().GetValue()
		if raw == "" {
			raw = string(o.GetHeader().GetRawValue())
		}
		value := headerValue(raw, req.lookup(h))
		if value == "" && !o.GetKeepEmptyValue() {
			continue
		}
		_, present := h[name]
		switch appendAction(o) {
		case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
			todo = append(todo, pending{name, value, false})
		case corev3.HeaderValueOption_ADD_IF_ABSENT:
			if !present {
				todo = append(todo, pending{name, value, true})
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			todo = append(todo, pending{name, value, true})
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
			if present {
				todo = append(todo, pending{name, value, true})
			}
		}
	}
	h.write(todo)
	return removed
}

// write makes the overwrites, then the appends.
func (h headerMap) write(todo []pending) {
	for _, t := range todo {
		if t.overwrite {
			h[t.name] = []string{t.value}
		}
	}
	for _, t := range todo {
		if !t.overwrite {
			h[t.name] = append(h[t.name], t.value)
		}
	}
}

// appendAction is the option's append_action, or what its deprecated
// append flag says when set (true: append, false: overwrite or add).
func appendAction(o *corev3.HeaderValueOption) corev3.HeaderValueOption_HeaderAppendAction {
	if a := o.GetAppend(); a != nil {
		if a.GetValue() {
			return corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
		}
		return corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
	}
	return o.GetAppendAction()
}

// requestValues is what %REQ(...)% reads: the pseudo-headers of the
// request and its headers, which are those being changed when headers is
// nil (request headers) and headers otherwise (response headers).
type requestValues struct {
	authority, method, path, scheme string
	headers                         headerMap
}

func pseudoHeaders(p *parsed) requestValues {
	path := p.path
	if p.rawQuery != "" {
		path += "?" + p.rawQuery
	}
	return requestValues{authority: p.authority, method: p.method, path: path, scheme: p.scheme}
}

// lookup reads a request header by lower-case name (from r.headers, else
// from h, the headers being changed), or a pseudo-header (Host is
// :authority).
func (r requestValues) lookup(h headerMap) func(string) (string, bool) {
	if r.headers != nil {
		h = r.headers
	}
	return func(name string) (string, bool) {
		switch name {
		case ":authority", "host":
			return r.authority, true
		case ":method":
			return r.method, true
		case ":path":
			return r.path, true
		case ":scheme":
			return r.scheme, true
		}
		v, ok := h[name]
		return strings.Join(v, ","), ok
	}
}

// commandOperator is one of Envoy's command operators in a header value:
// %NAME%, %NAME(arguments)% or %NAME(arguments):length%.
var commandOperator = regexp.MustCompile(`^%[A-Z][A-Z0-9_]*(\([^)]*\))?(:[0-9]+)?%`)

// headerValue is the value Envoy writes for a configured one, as far as
// the simulator can tell from the request alone: %% is a %, and a simple
// %REQ(name)% (no alternative header after ?, no length) is the request
// header's value — empty when the request does not have it, as Envoy makes
// it — except for the headers Envoy adds itself before routing
// (X-Forwarded-*, X-Request-Id, X-Envoy-*), which the simulator does not
// know and leaves as written. Every other operator (%START_TIME(...)%,
// %DOWNSTREAM_REMOTE_ADDRESS%, %HOSTNAME%, %RESP(...)%...) is left as
// written.
func headerValue(format string, lookup func(string) (string, bool)) string {
	var b strings.Builder
	for i := 0; i < len(format); {
		if format[i] != '%' {
			j := strings.IndexByte(format[i:], '%')
			if j < 0 {
				j = len(format) - i
			}
			b.WriteString(format[i : i+j])
			i += j
			continue
		}
		if strings.HasPrefix(format[i:], "%%") {
			b.WriteByte('%')
			i += 2
			continue
		}
		op := commandOperator.FindString(format[i:])
		if op == "" {
			b.WriteByte('%')
			i++
			continue
		}
		b.WriteString(substitute(op, lookup))
		i += len(op)
	}
	return b.String()
}

// substitute replaces a simple %REQ(name)% by the request's header; it
// returns other operators as written.
func substitute(op string, lookup func(string) (string, bool)) string {
	name, ok := strings.CutPrefix(op, "%REQ(")
	if !ok {
		return op
	}
	name, ok = strings.CutSuffix(name, ")%")
	if !ok || name == "" || strings.ContainsAny(name, "?)") {
		return op
	}
	name = strings.ToLower(name)
	if envoyAdds(name) {
		return op
	}
	v, _ := lookup(name)
	return v
}

// envoyAdds reports the request headers Envoy's connection manager sets
// before routing, whose values the simulator does not know.
func envoyAdds(name string) bool {
	return strings.HasPrefix(name, "x-forwarded-") || strings.HasPrefix(name, "x-envoy-") || name == "x-request-id"
}

// headerChanges lists, by name, how final differs from initial, with every
// name removed on the way that final does not have as removed (even when
// initial did not have it: Envoy would remove it).
func headerChanges(initial, final headerMap, removed []string) []HeaderChange {
	names := map[string]bool{}
	for n := range final {
		names[n] = true
	}
	for n := range initial {
		names[n] = true
	}
	for _, n := range removed {
		names[n] = true
	}
	var out []HeaderChange
	for n := range names {
		before, had := initial[n]
		after, has := final[n]
		switch {
		case !has:
			out = append(out, HeaderChange{Name: n, Action: headerRemoved})
		case had && reflect.DeepEqual(before, after):
		case had && len(after) > len(before) && reflect.DeepEqual(before, after[:len(before)]):
			out = append(out, HeaderChange{Name: n, Action: headerAppended, Value: strings.Join(after, ",")})
		default:
			out = append(out, HeaderChange{Name: n, Action: headerSet, Value: strings.Join(after, ",")})
		}
	}
	sortChanges(out)
	return out
}

// sortChanges puts the headers set or appended first, then those removed,
// each by name.
func sortChanges(cs []HeaderChange) {
	sort.Slice(cs, func(i, j int) bool {
		if ri, rj := cs[i].Action == headerRemoved, cs[j].Action == headerRemoved; ri != rj {
			return rj
		}
		return cs[i].Name < cs[j].Name
	})
}

// mutate applies levels to a copy of initial and returns the changes and
// the headers that result.
func mutate(initial headerMap, levels []headerMutations, req requestValues) ([]HeaderChange, headerMap) {
	h := initial.clone()
	var removed []string
	for _, l := range levels {
		removed = append(removed, h.apply(l, req)...)
	}
	return headerChanges(initial, h, removed), h
}

// headerChangesFor is what Envoy does to the headers of a request sent to
// weighted cluster w (nil: the route's single cluster) and of its
// response. Response headers are changed as if the upstream's response
// carried none of the headers concerned (so OVERWRITE_IF_EXISTS does
// nothing and ADD_IF_ABSENT adds); %REQ(...)% in them reads the request as
// it went upstream.
func (s headerScope) headerChangesFor(w *routev3.WeightedCluster_ClusterWeight, p *parsed) (req, resp []HeaderChange) {
	values := pseudoHeaders(p)
	req, values.headers = mutate(requestHeaders(p), s.levels(w, false), values)
	resp, _ = mutate(headerMap{}, s.levels(w, true), values)
	return req, resp
}

// localResponseChanges is what Envoy does to the headers of the answer a
// route gives itself (a redirect or a direct response): the request is
// not sent upstream, so its own headers are what %REQ(...)% reads.
func (s headerScope) localResponseChanges(p *parsed) []HeaderChange {
	values := pseudoHeaders(p)
	values.headers = requestHeaders(p)
	resp, _ := mutate(headerMap{}, s.levels(nil, true), values)
	return resp
}

// hoistHeaderChanges moves the header changes every backend has to the
// result, so that they are told once; the backends keep those of their
// own (a header they change differently).
func hoistHeaderChanges(res *Result) {
	if len(res.Backends) == 0 {
		return
	}
	reqs := make([]*[]HeaderChange, len(res.Backends))
	resps := make([]*[]HeaderChange, len(res.Backends))
	for i := range res.Backends {
		reqs[i], resps[i] = &res.Backends[i].RequestHeaderChanges, &res.Backends[i].ResponseHeaderChanges
	}
	res.RequestHeaderChanges = commonChanges(reqs)
	res.ResponseHeaderChanges = commonChanges(resps)
}

// commonChanges removes from every list the changes all of them have and
// returns those.
func commonChanges(lists []*[]HeaderChange) []HeaderChange {
	var common []HeaderChange
	for _, c := range *lists[0] {
		everywhere := true
		for _, l := range lists[1:] {
			everywhere = everywhere && slices.Contains(*l, c)
		}
		if everywhere {
			common = append(common, c)
		}
	}
	for _, l := range lists {
		kept := slices.DeleteFunc(*l, func(c HeaderChange) bool { return slices.Contains(common, c) })
		if len(kept) == 0 {
			kept = nil
		}
		*l = kept
	}
	return common
}
