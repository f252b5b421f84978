package graph

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// FindingShadowedRoute: a route can never be reached because an earlier
// route in Envoy's order matches every request it would.
const FindingShadowedRoute = "ShadowedRoute"

// maxShadowRoutes bounds the pairwise check per virtual host.
const maxShadowRoutes = 2000

// findShadowedRoutes reports, for every virtual host, routes that an earlier
// route (in the order Envoy tries them) always wins over: an earlier route
// whose path covers the later one's and whose header and query conditions
// are a subset of the later one's. With Contour's order (exact, then regex,
// then prefixes, longer first) this mostly happens when a broad regex sorts
// before prefixes. Redirect copies on port 80 are skipped, so each conflict
// is reported once; only the first earlier route that shadows is named.
func (b *builder) findShadowedRoutes() {
	// In map order: what is found on a host is its own (its findings name
	// it), and a report is a set.
	hosts := make([]*VirtualHost, 0, len(b.g.VirtualHosts)+len(b.g.SecureVirtualHosts))
	for _, vh := range b.g.VirtualHosts {
		hosts = append(hosts, vh)
	}
	for _, vh := range b.g.SecureVirtualHosts {
		hosts = append(hosts, &vh.VirtualHost)
	}
	// Hosts are independent: check them on every core, then report.
	found := make([][]status.Finding, len(hosts))
	// Each host's routes are final here: their order is computed once, for
	// this check and for translation.
	parallel.For(len(hosts), 64, func(i int) {
		hosts[i].sorted = SortedRoutes(hosts[i])
		found[i] = shadows(hosts[i])
	})
	for i, fs := range found {
		if len(fs) == 0 {
			continue
		}
		rep := b.report
		if part := b.hostPart(hosts[i].Name); part != nil {
			rep = part.Report
		}
		for _, f := range fs {
			rep.Find(f)
		}
	}
}

// shadows returns the findings of the shadowed routes of vh.
func shadows(vh *VirtualHost) []status.Finding {
	if len(vh.Routes) < 2 || len(vh.Routes) > maxShadowRoutes {
		return nil
	}
	routes := SortedRoutes(vh)
	var small [16]shadowInfo // most hosts have few routes: no allocation
	infos := small[:0]
	if len(routes) > len(small) {
		infos = make([]shadowInfo, 0, len(routes))
	}
	for _, r := range routes {
		infos = append(infos, newShadowInfo(r))
	}
	var out []status.Finding
	for j := range routes {
		if routes[j].HTTPSRedirect {
			continue
		}
		for i := range routes[:j] {
			if routes[i].HTTPSRedirect || !infos[i].covers(&infos[j]) {
				continue
			}
			out = append(out, shadowFinding(vh, routes[i], routes[j]))
			break
		}
	}
	return out
}

func shadowFinding(vh *VirtualHost, earlier, later *Route) status.Finding {
	who := "the same object"
	if earlier.Source != later.Source {
		who = earlier.Source.String()
	}
	return status.Finding{Code: FindingShadowedRoute, Severity: status.SeverityWarning,
		Objects: []status.Ref{earlier.Source, later.Source},
		Message: fmt.Sprintf("host %q: %s of %s can never match: %s of %s comes first in Envoy's order and matches every request it would",
			vh.Name, describeMatch(later), later.Source, describeMatch(earlier), who)}
}

// shadowInfo is what covers needs of one route, computed once per route.
type shadowInfo struct {
	route *Route
	// conds are the route's conditionKeys, computed when first needed
	// (only when two routes with conditions are compared: few are).
	conds []string
	// prog is the compiled path regex of a regex route (nil when it does
	// not compile); literal is the prefix every match of it starts with.
	prog    *syntax.Prog
	literal string
}

func newShadowInfo(r *Route) shadowInfo {
	in := shadowInfo{route: r}
	if r.Path.Kind != PathRegex {
		return in
	}
	if re, err := regexp.Compile(r.Path.Value); err == nil {
		in.literal, _ = re.LiteralPrefix()
	}
	if parsed, err := syntax.Parse(r.Path.Value, syntax.Perl); err == nil {
		if prog, err := syntax.Compile(parsed.Simplify()); err == nil {
			in.prog = prog
		}
	}
	return in
}

// conditionKeys renders the header conditions, then the query conditions,
// of r with every field that changes what they match, each kind sorted, in
// one slice.
func conditionKeys(r *Route) []string {
	if len(r.Headers)+len(r.Query) == 0 {
		return nil
	}
	out := make([]string, 0, len(r.Headers)+len(r.Query))
	for _, h := range r.Headers {
		out = append(out, strings.ToLower(h.Name)+"\x00"+strconv.Itoa(int(h.Kind))+"\x00"+h.Value+"\x00"+
			strconv.FormatBool(h.Invert)+"\x00"+strconv.FormatBool(h.IgnoreCase)+"\x00"+strconv.FormatBool(h.TreatMissingAsEmpty))
	}
	for _, q := range r.Query {
		out = append(out, q.Name+"\x00"+strconv.Itoa(int(q.Kind))+"\x00"+q.Value+"\x00"+strconv.FormatBool(q.IgnoreCase))
	}
	slices.Sort(out[:len(r.Headers)])
	slices.Sort(out[len(r.Headers):])
	return out
}

// covers reports whether every request later matches also matches e: e's
// header and query conditions are a subset of later's and e's path matches
// every path later's does. It answers false when it cannot tell. The
// cheaper check goes first: the path's, unless e's is a regex.
func (e *shadowInfo) covers(later *shadowInfo) bool {
	if e.route.Path.Kind == PathRegex {
		return e.condsIn(later) && pathCovers(e, later)
	}
	return pathCovers(e, later) && e.condsIn(later)
}

// condsIn reports whether e's header and query conditions are a subset of
// later's.
func (e *shadowInfo) condsIn(later *shadowInfo) bool {
	eh, lh := len(e.route.Headers), len(later.route.Headers)
	switch {
	case eh+len(e.route.Query) == 0:
		return true
	case eh > lh || len(e.route.Query) > len(later.route.Query):
		return false // (as subset answers)
	}
	ek, lk := e.keys(), later.keys()
	return subset(ek[:eh], lk[:lh]) && subset(ek[eh:], lk[lh:])
}

// keys returns the route's conditionKeys, computing them once.
func (e *shadowInfo) keys() []string {
	if e.conds == nil {
		e.conds = conditionKeys(e.route)
	}
	return e.conds
}

func pathCovers(e, later *shadowInfo) bool {
	ep, lp := e.route.Path, later.route.Path
	switch ep.Kind {
	case PathExact:
		return lp.Kind == PathExact && lp.Value == ep.Value
	case PathPrefix:
		if lp.Kind == PathRegex {
			return strings.HasPrefix(later.literal, ep.Value)
		}
		return strings.HasPrefix(lp.Value, ep.Value)
	case PathSegmentPrefix:
		base := strings.TrimSuffix(ep.Value, "/")
		under := func(p string) bool { return base == "" || p == base || strings.HasPrefix(p, base+"/") }
		switch lp.Kind {
		case PathRegex:
			return base == "" || strings.HasPrefix(later.literal, base+"/")
		case PathPrefix:
			// A string prefix stays under the segment only when it already
			// ends the segment: "/api/" under "/api", not "/api".
			return base == "" || strings.HasPrefix(lp.Value, base+"/")
		}
		return under(lp.Value)
	case PathRegex:
		if e.prog == nil || lp.Kind == PathRegex {
			return false // regex against regex: not decided here
		}
		if !strings.HasPrefix(lp.Value, e.literal) {
			return false // every match of e starts with its literal prefix
		}
		if lp.Kind == PathExact {
			return acceptsAllAfter(e.prog, lp.Value, false)
		}
		value := lp.Value
		if lp.Kind == PathSegmentPrefix && value != "/" {
			value = strings.TrimSuffix(value, "/")
		}
		return acceptsAllAfter(e.prog, value, true)
	}
	return false
}

// subset reports whether every element of a is in b (both sorted).
func subset(a, b []string) bool {
	i := 0
	for _, x := range b {
		if i < len(a) && a[i] == x {
			i++
		}
	}
	return i == len(a)
}

// acceptsAllAfter reports whether the whole-path regex prog accepts s
// (anySuffix false) or s followed by any string (anySuffix true): after s,
// the regex must be able to match here and sit in a loop of "any
// character" from which it can still match. It follows prog as a Thompson
// NFA and treats word-boundary assertions as failing, so it may answer
// false for a regex that does accept, but a true answer is always right.
func acceptsAllAfter(prog *syntax.Prog, s string, anySuffix bool) bool {
	cur := []uint32{uint32(prog.Start)}
	for i, r := range s {
		var next []uint32
		for _, pc := range closure(prog, cur, i == 0, false) {
			if in := &prog.Inst[pc]; consumes(in.Op) && in.MatchRune(r) {
				next = append(next, in.Out)
			}
		}
		if len(next) == 0 {
			return false
		}
		cur = next
	}
	atStart := s == ""
	if !hasMatch(prog, closure(prog, cur, atStart, true)) {
		return false
	}
	if !anySuffix {
		return true
	}
	for _, pc := range closure(prog, cur, atStart, false) {
		in := &prog.Inst[pc]
		if in.Op != syntax.InstRuneAny && in.Op != syntax.InstRuneAnyNotNL {
			continue
		}
		after := []uint32{in.Out}
		if hasMatch(prog, closure(prog, after, false, true)) && slices.Contains(closure(prog, after, false, false), pc) {
			return true
		}
	}
	return false
}

// consumes reports whether op reads one character.
func consumes(op syntax.InstOp) bool {
	switch op {
	case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		return true
	}
	return false
}

// closure returns every instruction reachable from pcs without reading a
// character, at the start and/or the end of the path as told.
func closure(prog *syntax.Prog, pcs []uint32, atStart, atEnd bool) []uint32 {
	var ok syntax.EmptyOp
	if atStart {
		ok |= syntax.EmptyBeginText | syntax.EmptyBeginLine
	}
	if atEnd {
		ok |= syntax.EmptyEndText | syntax.EmptyEndLine
	}
	seen := make([]bool, len(prog.Inst))
	var out []uint32
	stack := append([]uint32(nil), pcs...)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		out = append(out, pc)
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(in.Arg)&^ok == 0 {
				stack = append(stack, in.Out)
			}
		}
	}
	return out
}

func hasMatch(prog *syntax.Prog, pcs []uint32) bool {
	for _, pc := range pcs {
		if prog.Inst[pc].Op == syntax.InstMatch {
			return true
		}
	}
	return false
}
