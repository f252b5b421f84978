package graph

import (
	"fmt"
	"regexp/syntax"
	"strings"
)

// Limits on what reaches Envoy.
const (
	maxPathLength  = 1024
	maxRegexLength = 1024
	maxRegexProg   = 1000 // RE2 program size; Envoy's default limit is 100 per pattern warning, 1000 hard
)

// validatePath checks a path condition: it must start with "/", hold no
// control characters, spaces, "#" or "?" (they are never part of a
// request's path), no "//", "/./" or "/../" segments (Envoy normalises
// them away, so the route could never match), and be at most 1024 bytes.
func validatePath(kind PathKind, p string) error {
	if kind == PathRegex {
		if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "^/") && !strings.HasPrefix(p, "(") && !strings.HasPrefix(p, "^(") {
			return fmt.Errorf("regex %q must start with /", p)
		}
		return validateRegex(p)
	}
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q must start with /", p)
	}
	if len(p) > maxPathLength {
		return fmt.Errorf("longer than %d bytes", maxPathLength)
	}
	for _, r := range p {
		if r < 0x21 || r == 0x7f || r == '#' || r == '?' || r == '\\' {
			return fmt.Errorf("%q contains %q, which is never part of a request path", p, r)
		}
	}
	if strings.Contains(p, "//") {
		return fmt.Errorf("%q contains //, which Envoy merges before matching", p)
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%q contains a %q segment, which Envoy removes before matching", p, seg)
		}
	}
	if strings.Contains(p, "%2f") || strings.Contains(p, "%2F") {
		return fmt.Errorf("%q contains an encoded slash", p)
	}
	return nil
}

// mergeSlashes replaces each run of "/" in p by one, as Contour does to an
// HTTPProxy's joined path conditions (a regex's too), whether or not Envoy
// merges them in request paths (--disable-merge-slashes).
func mergeSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// unmatchablePath says why an HTTPProxy's prefix or exact path p can never
// match a request path as Envoy routes it, or returns "": it holds
// whitespace or a control character, or "#" (never part of a request
// path), or a "." or ".." segment, which Envoy's path normalisation
// removes (a prefix's last segment may be the start of a longer one, so
// only an exact path's counts).
func unmatchablePath(kind PathKind, p string) string {
	for _, r := range p {
		if r < 0x21 || r == 0x7f || r == '#' {
			return fmt.Sprintf("it holds %q, which is never part of a request path", r)
		}
	}
	if kind == PathPrefix { // its last segment may go on in a request
		p = p[:strings.LastIndexByte(p, '/')+1]
	}
	for rest := p; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
		if seg == "." || seg == ".." {
			return fmt.Sprintf("Envoy removes its %q segment from request paths before matching", seg)
		}
	}
	return ""
}

// validateRegex checks that re is RE2 syntax (Go's regexp/syntax is RE2),
// valid UTF-8, and small enough.
func validateRegex(re string) error {
	if len(re) > maxRegexLength {
		return fmt.Errorf("regex longer than %d bytes", maxRegexLength)
	}
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return fmt.Errorf("regex %q: %w", re, err)
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return fmt.Errorf("regex %q: %w", re, err)
	}
	if len(prog.Inst) > maxRegexProg {
		return fmt.Errorf("regex %q is too complex (%d instructions, limit %d)", re, len(prog.Inst), maxRegexProg)
	}
	return nil
}

// maxHeaderBytes is the longest header name or value Envoy takes in its
// configuration.
const maxHeaderBytes = 16384

// validateHeaderName checks an HTTP header name (an RFC 7230 token, lower
// or upper case; pseudo-headers only when pseudo is true) of at most
// maxHeaderBytes.
func validateHeaderName(n string, pseudo bool) error {
	if n == "" {
		return fmt.Errorf("header name is empty")
	}
	if len(n) > maxHeaderBytes {
		return fmt.Errorf("header name is %d bytes long; Envoy takes at most %d", len(n), maxHeaderBytes)
	}
	if strings.HasPrefix(n, ":") {
		if !pseudo {
			return fmt.Errorf("header %q: pseudo-headers cannot be used here", n)
		}
		n = n[1:]
	}
	for _, r := range n {
		if !isTokenChar(r) {
			return fmt.Errorf("header name %q contains %q", n, r)
		}
	}
	return nil
}

func isTokenChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// validateHeaderValue refuses CR, LF and NUL, and values longer than
// maxHeaderBytes.
func validateHeaderValue(v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("header value %q contains a line break or NUL", v)
	}
	return headerValueLength(v)
}

// headerValueLength refuses a value longer than maxHeaderBytes (once
// escaped for Envoy, a value can grow: check what Envoy is sent).
func headerValueLength(v string) error {
	if len(v) > maxHeaderBytes {
		return fmt.Errorf("header value is %d bytes long; Envoy takes at most %d", len(v), maxHeaderBytes)
	}
	return nil
}

// isImplementationSpecificRegex reports whether an Ingress
// ImplementationSpecific path is a regex (it holds one of ^+*[]%), as
// Contour decides.
func isImplementationSpecificRegex(p string) bool { return strings.ContainsAny(p, "^+*[]%") }
