package source

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// fastJSON converts the plain subset of YAML that Kubernetes manifests are
// almost always written in — block mappings and sequences, plain and quoted
// one-line scalars, one-line flow collections, comments — to JSON, several
// times faster than the general parser. Anything outside that subset, or
// any scalar whose YAML 1.1 type is not obvious (yes/no/on/off, floats,
// octals, timestamps...), returns ok=false and the caller uses the full
// parser, so the result is always what the full parser would give.
func fastJSON(lines []string) (out []byte, ok bool) {
	return new(fastConverter).convert(lines)
}

// fastConverter is fastJSON with its buffers kept from one document to the
// next: the bytes convert returns are valid until its next call.
type fastConverter struct {
	p   fastParser
	buf bytes.Buffer
}

// converters keeps fastConverters for the decoding workers.
var converters = sync.Pool{New: func() any { return new(fastConverter) }}

func (c *fastConverter) convert(lines []string) (out []byte, ok bool) {
	p := &c.p
	p.lines, p.pos = p.lines[:0], 0
	size := 0
	for _, l := range lines {
		size += len(l)
		if !printable(l) {
			return nil, false
		}
		trimmed := strings.TrimSpace(l)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasPrefix(trimmed, "%") || trimmed == "..." {
			return nil, false
		}
		content, ok := stripComment(l)
		if !ok {
			return nil, false
		}
		p.lines = append(p.lines, fastLine{indent: indent(content), text: strings.TrimSpace(content)})
	}
	if len(p.lines) == 0 {
		return []byte("null"), true
	}
	defer func() {
		if recover() != nil {
			out, ok = nil, false
		}
	}()
	buf := &c.buf
	buf.Reset()
	buf.Grow(2*size + 64) // JSON adds quotes and braces, drops indentation
	if !p.node(buf, p.lines[0].indent) || p.pos != len(p.lines) {
		return nil, false
	}
	return buf.Bytes(), true
}

type fastLine struct {
	indent int
	text   string
}

type fastParser struct {
	lines []fastLine
	pos   int
}

// stripComment removes a trailing " # comment"; lines mixing quotes and
// "#" are left to the full parser.
func stripComment(l string) (string, bool) {
	i := strings.Index(l, " #")
	if i < 0 {
		return strings.TrimRight(l, " "), true
	}
	if strings.ContainsAny(l, `"'`) {
		return "", false
	}
	return strings.TrimRight(l[:i], " "), true
}

// node parses the block node starting at the current line, whose indent is
// ind.
func (p *fastParser) node(buf *bytes.Buffer, ind int) bool {
	l := p.lines[p.pos]
	if l.indent != ind {
		return false
	}
	if l.text == "-" || strings.HasPrefix(l.text, "- ") {
		return p.sequence(buf, ind)
	}
	return p.mapping(buf, ind, "")
}

// mapping parses "key: value" lines at indent ind. first, when not empty,
// is the text of the first entry (after a sequence dash).
func (p *fastParser) mapping(buf *bytes.Buffer, ind int, first string) bool {
	buf.WriteByte('{')
	seen := map[string]bool{}
	for n := 0; ; n++ {
		var text string
		if n == 0 && first != "" {
			text = first
		} else {
			if p.pos >= len(p.lines) || p.lines[p.pos].indent != ind {
				break
			}
			text = p.lines[p.pos].text
			if text == "-" || strings.HasPrefix(text, "- ") {
				return false
			}
		}
		p.pos++
		key, rest, ok := splitKey(text)
		if !ok || seen[key] {
			return false
		}
		seen[key] = true
		if n > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, key)
		buf.WriteByte(':')
		if rest != "" {
			if !scalarOrFlow(buf, rest) {
				return false
			}
			continue
		}
		// A nested block: deeper, or an indentless sequence at ind.
		if p.pos < len(p.lines) {
			next := p.lines[p.pos]
			isSeq := next.text == "-" || strings.HasPrefix(next.text, "- ")
			if next.indent > ind || (next.indent == ind && isSeq) {
				if !p.node(buf, next.indent) {
					return false
				}
				continue
			}
		}
		buf.WriteString("null")
	}
	buf.WriteByte('}')
	return true
}

// sequence parses "- item" lines at indent ind.
func (p *fastParser) sequence(buf *bytes.Buffer, ind int) bool {
	buf.WriteByte('[')
	for n := 0; p.pos < len(p.lines); n++ {
		l := p.lines[p.pos]
		if l.indent != ind || !(l.text == "-" || strings.HasPrefix(l.text, "- ")) {
			break
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		item := strings.TrimSpace(strings.TrimPrefix(l.text, "-"))
		switch {
		case item == "":
			p.pos++
			if p.pos < len(p.lines) && p.lines[p.pos].indent > ind {
				if !p.node(buf, p.lines[p.pos].indent) {
					return false
				}
			} else {
				buf.WriteString("null")
			}
		case item == "-" || strings.HasPrefix(item, "- "):
			return false // nested sequence on one line
		case isMappingEntry(item):
			// "- key: value": a mapping whose other keys sit at the
			// column of "key".
			if !p.mapping(buf, ind+len(l.text)-len(item), item) {
				return false
			}
		default:
			p.pos++
			if !scalarOrFlow(buf, item) {
				return false
			}
		}
	}
	buf.WriteByte(']')
	return true
}

// isMappingEntry reports whether text is "key: value" or "key:".
func isMappingEntry(text string) bool {
	_, _, ok := splitKey(text)
	return ok
}

// splitKey splits "key: rest" / "key:"; keys are plain or quoted.
func splitKey(text string) (key, rest string, ok bool) {
	if text == "" || strings.Index(text, ":") > 1000 { // YAML limits implicit keys to 1024 characters
		return "", "", false
	}
	if text == "" {
		return "", "", false
	}
	if text[0] == '"' || text[0] == '\'' {
		s, n, ok := quoted(text)
		if !ok || n >= len(text) || text[n] != ':' {
			return "", "", false
		}
		rest = text[n+1:]
		if rest != "" && rest[0] != ' ' {
			return "", "", false
		}
		return s, strings.TrimSpace(rest), true
	}
	i := strings.Index(text, ":")
	for i >= 0 && i+1 < len(text) && text[i+1] != ' ' {
		j := strings.Index(text[i+1:], ":")
		if j < 0 {
			return "", "", false
		}
		i += 1 + j
	}
	if i <= 0 {
		return "", "", false
	}
	key = strings.TrimRight(text[:i], " ")
	if !isPlainKey(key) || plainKind(key, true) != "string" {
		return "", "", false
	}
	return key, strings.TrimSpace(text[i+1:]), true
}

// scalarOrFlow writes the JSON of a one-line value.
func scalarOrFlow(buf *bytes.Buffer, v string) bool {
	if v[0] == '[' || v[0] == '{' {
		n, ok := flow(buf, v)
		return ok && strings.TrimSpace(v[n:]) == ""
	}
	return scalar(buf, v, false)
}

// flow parses a flow collection at the start of v and returns its length.
func flow(buf *bytes.Buffer, v string) (int, bool) {
	closer := byte(']')
	isMap := v[0] == '{'
	if isMap {
		closer = '}'
		buf.WriteByte('{')
	} else {
		buf.WriteByte('[')
	}
	i := 1
	for n := 0; ; n++ {
		for i < len(v) && v[i] == ' ' {
			i++
		}
		if i >= len(v) {
			return 0, false
		}
		if v[i] == closer {
			break
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		if isMap {
			end := flowToken(v, i, true)
			if end >= len(v) || v[end] != ':' || end-i > 1000 {
				return 0, false
			}
			key, rest, ok := splitKey(strings.TrimSpace(v[i:end]) + ":")
			if !ok || rest != "" {
				return 0, false
			}
			writeString(buf, key)
			buf.WriteByte(':')
			i = end + 1 // past ':'
			for i < len(v) && v[i] == ' ' {
				i++
			}
		}
		if i < len(v) && (v[i] == '[' || v[i] == '{') {
			m, ok := flow(buf, v[i:])
			if !ok {
				return 0, false
			}
			i += m
		} else {
			end := flowToken(v, i, false)
			tok := strings.TrimSpace(v[i:end])
			if tok == "" || !scalar(buf, tok, true) {
				return 0, false
			}
			i = end
		}
		for i < len(v) && v[i] == ' ' {
			i++
		}
		if i < len(v) && v[i] == ',' {
			i++
			continue
		}
		if i >= len(v) || v[i] != closer {
			return 0, false
		}
	}
	buf.WriteByte(closer)
	return i + 1, true
}

// flowToken returns where the token starting at i ends: at ",", "]", "}"
// (or ": " for a key), skipping quoted text.
func flowToken(v string, i int, key bool) int {
	if i < len(v) && (v[i] == '"' || v[i] == '\'') {
		if _, n, ok := quoted(v[i:]); ok {
			i += n
		}
	}
	for ; i < len(v); i++ {
		switch v[i] {
		case ',', ']', '}':
			return i
		case ':':
			if key && (i+1 == len(v) || v[i+1] == ' ') {
				return i
			}
		}
	}
	return i
}

// scalar writes the JSON of a plain or quoted scalar, or refuses when its
// YAML 1.1 type is not obvious.
func scalar(buf *bytes.Buffer, v string, inFlow bool) bool {
	if v[0] == '"' || v[0] == '\'' {
		s, n, ok := quoted(v)
		if !ok || strings.TrimSpace(v[n:]) != "" {
			return false
		}
		writeString(buf, s)
		return true
	}
	kind := plainKind(v, inFlow)
	switch kind {
	case "":
		return false
	case "string":
		writeString(buf, v)
	case "int":
		buf.WriteString(v)
	default:
		buf.WriteString(kind) // null, true, false
	}
	return true
}

// plainKind resolves a plain scalar: "string", "int", "null", "true",
// "false", or "" when the fast path does not decide.
func plainKind(v string, inFlow bool) string {
	switch v {
	case "~", "null", "Null", "NULL":
		return "null"
	case "true", "True", "TRUE":
		return "true"
	case "false", "False", "FALSE":
		return "false"
	}
	if len(v) <= len("-.inf") {
		switch strings.ToLower(v) {
		case "yes", "no", "on", "off", "y", "n", ".inf", "-.inf", "+.inf", ".nan", "<<", "=":
			return ""
		}
	}
	if isInt(v) && len(v) < 16 {
		return "int"
	}
	if numberLike(v) {
		return ""
	}
	if strings.ContainsAny(v[:1], "[]{}&*!|>%@`?#,\"'") || (v[0] == '-' && (len(v) == 1 || v[1] == ' ')) ||
		strings.Contains(v, ": ") || strings.HasSuffix(v, ":") || (inFlow && !isFlowPlain(v)) {
		return ""
	}
	return "string"
}

// quoted decodes a one-line single- or double-quoted scalar at the start
// of v and returns its length; escapes other than the common ones refuse.
func quoted(v string) (string, int, bool) {
	q := v[0]
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case q == '\'' && c == '\'':
			if i+1 < len(v) && v[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1, true
		case q == '"' && c == '"':
			return b.String(), i + 1, true
		case q == '"' && c == '\\':
			if i+1 >= len(v) {
				return "", 0, false
			}
			i++
			switch v[i] {
			case '"', '\\':
				b.WriteByte(v[i])
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if i+4 >= len(v) {
					return "", 0, false
				}
				r, err := strconv.ParseUint(v[i+1:i+5], 16, 32)
				if err != nil {
					return "", 0, false
				}
				b.WriteRune(rune(r))
				i += 4
			default:
				return "", 0, false
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

// printable reports whether a line holds only characters YAML allows
// unescaped (valid UTF-8, no control characters, no tab).
func printable(l string) bool {
	ascii := true
	for i := 0; i < len(l); i++ {
		if l[i] < 0x20 || l[i] >= 0x7f {
			ascii = false
			break
		}
	}
	if ascii {
		return true
	}
	if !utf8.ValidString(l) {
		return false
	}
	for _, r := range l {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r > 0x7f && unicode.IsSpace(r)) || r == 0xfeff || r == 0xfffe || r == 0xffff || (r >= 0xd800 && r <= 0xdfff) {
			return false
		}
	}
	return true
}

// isInt matches -?(0|[1-9][0-9]*).
func isInt(v string) bool {
	if v != "" && v[0] == '-' {
		v = v[1:]
	}
	if v == "" || (v[0] == '0' && len(v) > 1) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// numberLike reports scalars YAML 1.1 may read as a number, date or time
// (floats, octal, hex, binary, sexagesimal, timestamps): the full parser
// decides those. Plain strings such as IP addresses or "10s" are not.
func numberLike(v string) bool {
	c := v[0]
	if !(c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9')) {
		return false
	}
	if mayParseAsNumber(v) {
		if _, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64); err == nil {
			return true
		}
		if _, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 0, 64); err == nil {
			return true
		}
	}
	if strings.ContainsRune(v, ':') {
		return true
	}
	return len(v) >= 5 && v[4] == '-' && isInt(v[:4])
}

// numberBytes are the letters strconv.ParseFloat and ParseInt (base 0)
// may accept: hex digits, the prefixes' x, o and b, the binary exponent's
// p, and those of inf, infinity and nan.
const numberBytes = "abcdefABCDEFxXoOpPiInNtTyY"

// mayParseAsNumber is false when neither strconv.ParseFloat nor ParseInt
// (base 0) can accept v with its underscores removed: it holds a byte
// neither accepts, or two dots (an IPv4 address). numberLike then skips the
// parses, whose errors allocate (63,000 endpoint addresses at S10k).
func mayParseAsNumber(v string) bool {
	dots := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9', c == '+', c == '-', c == '_':
		case c == '.':
			if dots++; dots > 1 {
				return false
			}
		case strings.IndexByte(numberBytes, c) < 0:
			return false
		}
	}
	return true
}

// isPlainKey matches [A-Za-z0-9_][A-Za-z0-9_./-]*: every key of a
// Kubernetes object, annotation or label.
func isPlainKey(k string) bool {
	if k == "" || k[0] == '.' || k[0] == '/' || k[0] == '-' {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isWordByte(k[i]) && k[i] != '.' && k[i] != '/' && k[i] != '-' {
			return false
		}
	}
	return true
}

// isFlowPlain matches [A-Za-z0-9_./@=+-]+, what a plain scalar inside a
// flow collection may hold on the fast path.
func isFlowPlain(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isWordByte(v[i]) && !strings.ContainsRune("./@=+-", rune(v[i])) {
			return false
		}
	}
	return v != ""
}

func isWordByte(b byte) bool {
	return b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
}

// writeString writes s as a JSON string, copying plain ASCII directly.
func writeString(buf *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b, _ := json.Marshal(s)
			buf.Write(b)
			return
		}
	}
	buf.WriteByte('"')
	buf.WriteString(s)
	buf.WriteByte('"')
}
