package source

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// scanHeader reads apiVersion, kind and metadata.name/namespace from a
// compact JSON object without decoding the rest, which decodeJSON does once
// it knows the kind. It declines (false) whatever it does not handle simply —
// lists, escaped strings, keys differing from ours only in case (which
// encoding/json would match), malformed input — and the caller then decodes
// the header with encoding/json, which also explains errors.
func scanHeader(data []byte, h *header) bool {
	s := jsonScanner{data: data}
	return s.object(func(key string) bool {
		switch key {
		case "apiVersion":
			return s.str(&h.APIVersion)
		case "kind":
			return s.str(&h.Kind)
		case "metadata":
			if s.peek() != '{' {
				return false
			}
			return s.object(func(key string) bool {
				switch key {
				case "name":
					return s.str(&h.Metadata.Name)
				case "namespace":
					return s.str(&h.Metadata.Namespace)
				}
				if strings.EqualFold(key, "name") || strings.EqualFold(key, "namespace") {
					return false
				}
				return s.skip()
			})
		}
		for _, k := range []string{"apiVersion", "kind", "metadata", "items"} {
			if strings.EqualFold(key, k) {
				return false
			}
		}
		return s.skip()
	}) && s.pos == len(s.data)
}

type jsonScanner struct {
	data []byte
	pos  int
}

func (s *jsonScanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// object walks the members of an object, calling member after each key
// with the cursor on the value.
func (s *jsonScanner) object(member func(key string) bool) bool {
	return s.members(func(key []byte) bool { return member(string(key)) })
}

// members walks the members of an object like object, passing each key as
// bytes of the input.
func (s *jsonScanner) members(member func(key []byte) bool) bool {
	if s.peek() != '{' {
		return false
	}
	s.pos++
	if s.peek() == '}' {
		s.pos++
		return true
	}
	for {
		key, ok := s.plainString()
		if !ok || s.peek() != ':' {
			return false
		}
		s.pos++
		if !member(key) {
			return false
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return true
		default:
			return false
		}
	}
}

// str reads a string without escapes, control characters or invalid
// UTF-8 (which encoding/json would rewrite).
func (s *jsonScanner) str(out *string) bool {
	raw, ok := s.plainString()
	*out = string(raw)
	return ok
}

// plainString reads a string literal with no escape, control character or
// invalid UTF-8 and returns its bytes.
func (s *jsonScanner) plainString() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	start := s.pos + 1
	ascii := true
	for i := start; i < len(s.data); i++ {
		switch c := s.data[i]; {
		case c == '"':
			raw := s.data[start:i]
			if !ascii && !utf8.Valid(raw) {
				return nil, false
			}
			s.pos = i + 1
			return raw, true
		case c == '\\' || c < ' ':
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// array walks the elements of an array, calling element with the cursor on
// each; element must pass over it.
func (s *jsonScanner) array(element func() bool) bool {
	if s.peek() != '[' {
		return false
	}
	s.pos++
	if s.peek() == ']' {
		s.pos++
		return true
	}
	for {
		if !element() {
			return false
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return true
		default:
			return false
		}
	}
}

// skip passes over one value of compact JSON, checking its syntax.
func (s *jsonScanner) skip() bool {
	switch s.peek() {
	case '"':
		s.pos++
		for s.pos < len(s.data) && s.data[s.pos] != '"' {
			if s.data[s.pos] < ' ' {
				return false
			}
			if s.data[s.pos] == '\\' {
				s.pos++
				if s.pos >= len(s.data) || !bytes.ContainsRune([]byte(`"\\/bfnrtu`), rune(s.data[s.pos])) {
					return false
				}
				if s.data[s.pos] == 'u' && !json.Valid([]byte(`"\`+string(s.data[s.pos:min(len(s.data), s.pos+5)])+`"`)) {
					return false
				}
			}
			s.pos++
		}
		if s.pos >= len(s.data) {
			return false
		}
		s.pos++
		return true
	case '{':
		return s.object(func(string) bool { return s.skip() })
	case '[':
		return s.array(s.skip)
	}
	start := s.pos
	for s.pos < len(s.data) {
		if c := s.data[s.pos]; c == ',' || c == '}' || c == ']' {
			break
		}
		s.pos++
	}
	switch tok := s.data[start:s.pos]; string(tok) {
	case "true", "false", "null":
		return true
	default:
		return validNumber(tok)
	}
}

// validNumber matches JSON's number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}
