package linediff

import (
	"fmt"
	"strings"
)

// Unified returns the unified diff turning a (named aName) into b (named
// bName) with context lines around each change, or "" when they are equal.
// It uses a longest-common-subsequence alignment, which is exact; inputs of
// more than maxCells line pairs fall back to reporting the first differing
// region only.
func Unified(aName, bName, a, b string, context int) string {
	if a == b {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	ops := align(al, bl)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(ops, context) {
		writeHunk(&out, h)
	}
	return out.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// op is one line of the alignment: ' ' kept, '-' only in a, '+' only in b.
type op struct {
	kind   byte
	line   string
	ai, bi int // 1-based line numbers in a and b (of the next line for the other side)
}

// maxCells bounds the LCS table (lines of a × lines of b after trimming the
// common head and tail).
const maxCells = 25_000_000

func align(a, b []string) []op {
	// Trim the common head and tail: most diffs are small edits.
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	ma, mb := a[head:len(a)-tail], b[head:len(b)-tail]
	var ops []op
	for i := 0; i < head; i++ {
		ops = append(ops, op{' ', a[i], i + 1, i + 1})
	}
	ops = append(ops, middle(ma, mb, head)...)
	for i := 0; i < tail; i++ {
		ai, bi := len(a)-tail+i, len(b)-tail+i
		ops = append(ops, op{' ', a[ai], ai + 1, bi + 1})
	}
	return ops
}

// middle aligns the differing middle parts, offset lines into the files.
func middle(a, b []string, offset int) []op {
	var ops []op
	if len(a)*len(b) > maxCells {
		for i, l := range a {
			ops = append(ops, op{'-', l, offset + i + 1, offset + 1})
		}
		for j, l := range b {
			ops = append(ops, op{'+', l, offset + len(a) + 1, offset + j + 1})
		}
		return ops
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, op{' ', a[i], offset + i + 1, offset + j + 1})
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', a[i], offset + i + 1, offset + j + 1})
			i++
		default:
			ops = append(ops, op{'+', b[j], offset + i + 1, offset + j + 1})
			j++
		}
	}
	return ops
}

// hunks groups changed lines with up to context unchanged lines around them.
func hunks(ops []op, context int) [][]op {
	var out [][]op
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-context)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			// Look ahead: another change within 2*context lines joins the hunk.
			k := end
			for k < len(ops) && ops[k].kind == ' ' && k-end < 2*context {
				k++
			}
			if k < len(ops) && ops[k].kind != ' ' {
				end = k
				continue
			}
			end = min(len(ops), end+context)
			break
		}
		out = append(out, ops[start:end])
		i = end
	}
	return out
}

func writeHunk(out *strings.Builder, h []op) {
	aStart, bStart, aLen, bLen := h[0].ai, h[0].bi, 0, 0
	for _, o := range h {
		if o.kind != '+' {
			aLen++
		}
		if o.kind != '-' {
			bLen++
		}
	}
	if aLen == 0 {
		aStart--
	}
	if bLen == 0 {
		bStart--
	}
	fmt.Fprintf(out, "@@ -%d,%d +%d,%d @@\n", aStart, aLen, bStart, bLen)
	for _, o := range h {
		out.WriteByte(o.kind)
		out.WriteString(o.line)
		if !strings.HasSuffix(o.line, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}
