package xds

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// appendString appends s as a JSON string, escaped exactly as protojson
// escapes it (google.golang.org/protobuf/internal/encoding/json): '"' and
// '\\' by a backslash, \b \f \n \r \t by their short forms, the other
// control characters below U+0020 as \u00xx in lower-case hex; everything
// else, including DEL, U+2028, U+2029 and U+FFFD, is copied. It reports
// false for invalid UTF-8, which protojson refuses.
func appendString(out []byte, s string) ([]byte, bool) {
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return out, false // invalid UTF-8
			}
			i += n
			continue
		}
		out = append(out, s[start:i]...)
		i++
		start = i
		out = append(out, '\\')
		switch c {
		case '"', '\\':
			out = append(out, c)
		case '\b':
			out = append(out, 'b')
		case '\f':
			out = append(out, 'f')
		case '\n':
			out = append(out, 'n')
		case '\r':
			out = append(out, 'r')
		case '\t':
			out = append(out, 't')
		default:
			const hex = "0123456789abcdef"
			out = append(out, 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
	}
	out = append(out, s[start:]...)
	return append(out, '"'), true
}

// plainASCII tells the bytes appendString copies without a look: the
// ASCII characters that need no escape.
var plainASCII = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendFloat appends n as protojson writes a float (bitSize 32) or double
// (64): NaN and the infinities as the strings "NaN", "Infinity" and
// "-Infinity"; otherwise the shortest representation that reads back to
// the same value, in exponent form below 1e-6 and from 1e21 up (where a
// negative exponent loses strconv's leading zero: 1e-7, not 1e-07), in
// decimal form in between.
func appendFloat(out []byte, n float64, bitSize int) []byte {
	switch {
	case math.IsNaN(n):
		return append(out, `"NaN"`...)
	case math.IsInf(n, +1):
		return append(out, `"Infinity"`...)
	case math.IsInf(n, -1):
		return append(out, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(n); abs != 0 {
		if bitSize == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bitSize == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	out = strconv.AppendFloat(out, n, format, -1, bitSize)
	if format == 'e' {
		k := len(out)
		if k >= 4 && out[k-4] == 'e' && out[k-3] == '-' && out[k-2] == '0' {
			out[k-2] = out[k-1]
			out = out[:k-1]
		}
	}
	return out
}
