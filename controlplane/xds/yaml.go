package xds

import (
	"bytes"
	"fmt"
)

// jsonToYAML appends to out the block YAML form of the JSON value in in,
// keeping the key order of the JSON. It accepts what encoding/json and
// protojson produce: no insignificant whitespace except spaces after ':'
// and ','.
// Strings that would read back as something else are written in JSON's
// double-quoted form, which YAML reads identically.
func jsonToYAML(out *bytes.Buffer, in []byte) error {
	c := converter{in: in, out: out}
	if err := c.value(0, false); err != nil {
		return err
	}
	out.WriteByte('\n')
	return nil
}

// itemToYAML appends one block-sequence item ("- " and the value, indented
// under the dash) for the compact JSON value in, without a line break
// before or after it.
func itemToYAML(out *bytes.Buffer, in []byte) error {
	c := converter{in: in, out: out}
	out.WriteByte('-')
	if c.peek() == '{' && len(in) > 1 && in[1] != '}' {
		out.WriteByte(' ') // the first key goes on the dash's line
		return c.object(2, false)
	}
	return c.value(2, true)
}

type converter struct {
	in  []byte
	pos int
	out *bytes.Buffer
}

func (c *converter) errorf(format string, args ...any) error {
	return fmt.Errorf("json to yaml at byte %d: "+format, append([]any{c.pos}, args...)...)
}

// skipSpace passes the single space protojson may put after ':' and ','
// (it varies its output on purpose).
func (c *converter) skipSpace() {
	for c.pos < len(c.in) && c.in[c.pos] == ' ' {
		c.pos++
	}
}

func (c *converter) peek() byte {
	if c.pos < len(c.in) {
		return c.in[c.pos]
	}
	return 0
}

// value writes the value at pos. inline says the cursor is already after a
// "key:" or "- " on the current line.
func (c *converter) value(indent int, inline bool) error {
	switch c.peek() {
	case '{':
		return c.object(indent, inline)
	case '[':
		return c.array(indent, inline)
	default:
		if inline {
			c.out.WriteByte(' ')
		}
		return c.scalar()
	}
}

func (c *converter) object(indent int, inline bool) error {
	c.pos++ // {
	if c.peek() == '}' {
		c.pos++
		if inline {
			c.out.WriteByte(' ')
		}
		c.out.WriteString("{}")
		return nil
	}
	first := true
	for {
		if !first || inline {
			c.out.WriteByte('\n')
			writeIndent(c.out, indent)
		}
		first = false
		if c.peek() != '"' {
			return c.errorf("expected a key")
		}
		if err := c.scalar(); err != nil {
			return err
		}
		if c.peek() != ':' {
			return c.errorf("expected ':'")
		}
		c.pos++
		c.skipSpace()
		c.out.WriteByte(':')
		next := indent + 2
		if c.peek() == '[' {
			next = indent // block sequences under a key are not indented
		}
		if err := c.value(next, true); err != nil {
			return err
		}
		switch c.peek() {
		case ',':
			c.pos++
			c.skipSpace()
		case '}':
			c.pos++
			return nil
		default:
			return c.errorf("expected ',' or '}'")
		}
	}
}

func (c *converter) array(indent int, inline bool) error {
	c.pos++ // [
	if c.peek() == ']' {
		c.pos++
		if inline {
			c.out.WriteByte(' ')
		}
		c.out.WriteString("[]")
		return nil
	}
	first := true
	for {
		if !first || inline {
			c.out.WriteByte('\n')
			writeIndent(c.out, indent)
		}
		first = false
		c.out.WriteByte('-')
		var err error
		switch c.peek() {
		case '{':
			if c.pos+1 < len(c.in) && c.in[c.pos+1] == '}' {
				err = c.value(indent+2, true)
				break
			}
			// The first key goes on the dash's line.
			c.out.WriteByte(' ')
			err = c.object(indent+2, false)
		default:
			err = c.value(indent+2, true)
		}
		if err != nil {
			return err
		}
		switch c.peek() {
		case ',':
			c.pos++
			c.skipSpace()
		case ']':
			c.pos++
			return nil
		default:
			return c.errorf("expected ',' or ']'")
		}
	}
}

// scalar copies a string, number or literal, unquoting strings that are safe
// as plain YAML scalars.
func (c *converter) scalar() error {
	start := c.pos
	if c.peek() == '"' {
		c.pos++
		escaped := false
		for c.pos < len(c.in) && c.in[c.pos] != '"' {
			if c.in[c.pos] == '\\' {
				escaped = true
				c.pos++
			}
			c.pos++
		}
		if c.pos >= len(c.in) {
			return c.errorf("unterminated string")
		}
		c.pos++
		raw := c.in[start:c.pos]
		if !escaped && plainSafe(raw[1:len(raw)-1]) {
			c.out.Write(raw[1 : len(raw)-1])
		} else {
			c.out.Write(raw)
		}
		return nil
	}
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ',', '}', ']', ' ':
			c.out.Write(c.in[start:c.pos])
			return nil
		}
		c.pos++
	}
	c.out.Write(c.in[start:c.pos])
	return nil
}

// plainSafe reports whether s can be written unquoted and read back as the
// same string.
func plainSafe(s []byte) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	switch s[0] {
	case '-', '.', ':', '@':
		return false
	}
	digitsOnly := true
	for _, ch := range s {
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch == '_', ch == '/', ch == '.', ch == '-', ch == '@':
			digitsOnly = false
		case ch >= '0' && ch <= '9':
		default:
			return false
		}
	}
	if digitsOnly || looksNumeric(s) {
		return false
	}
	if len(s) <= len("infinity") {
		for _, word := range yaml11Words {
			if bytes.EqualFold(s, []byte(word)) {
				return false
			}
		}
	}
	return true
}

// yaml11Words read back as booleans, null or special floats in YAML 1.1.
var yaml11Words = []string{"true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity"}

// looksNumeric catches strings YAML 1.1 would read as numbers (1e3, 0x1f,
// 1_000, 1.5).
func looksNumeric(s []byte) bool {
	if s[0] < '0' || s[0] > '9' {
		return false
	}
	for _, ch := range s {
		if ch == '/' || ch == '@' || (ch >= 'g' && ch <= 'z' && ch != 'x') || (ch >= 'G' && ch <= 'Z' && ch != 'X' && ch != 'E') {
			return false
		}
	}
	return true
}

func writeIndent(out *bytes.Buffer, n int) {
	for i := 0; i < n; i++ {
		out.WriteByte(' ')
	}
}
