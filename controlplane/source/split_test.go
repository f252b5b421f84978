package source

import (
	"reflect"
	"strings"
	"testing"
)

// referenceSplit is the plain line-by-line reading of a YAML stream that
// splitDocuments must agree with: every line is looked at, "---" and
// "--- ..." lines separate documents.
func referenceSplit(text string) []document {
	var docs []document
	cur := document{index: 1, start: 1}
	docStart := 0
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	pos := 0
	for n, l := range lines {
		s := strings.TrimRight(strings.TrimSuffix(l, "\n"), "\r")
		if s == "---" || strings.HasPrefix(s, "--- ") {
			cur.raw = text[docStart:pos]
			docs = append(docs, cur)
			cur = document{index: cur.index + 1, start: n + 2}
			docStart = pos + len(l)
		} else {
			cur.lines = append(cur.lines, s)
		}
		pos += len(l)
	}
	cur.raw = text[min(docStart, len(text)):]
	return append(docs, cur)
}

func checkSplit(t *testing.T, text string) {
	t.Helper()
	got := splitDocuments(text)
	for i := range got {
		got[i].splitLines()
	}
	want := referenceSplit(text)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("splitDocuments(%q):\n got %+v\nwant %+v", text, got, want)
	}
}

func TestSplitDocuments(t *testing.T) {
	for _, text := range []string{
		"", "\n", "---", "---\n", "a: 1", "a: 1\n", "a: 1\n---\nb: 2\n", "---\na: 1\n---\n",
		"a: 1\r\n---\r\nb: 2\r\n", "a: '---'\n----\n---x\n --- \n--- # c\nb: 1",
		"a:\n  - |\n    ---\n\n---\n\n\n", "\n\n---\n---\n---", "a: 1\n---",
	} {
		checkSplit(t, text)
	}
}

// FuzzSplitDocuments: splitting by separators, then lines, agrees with the
// line-by-line reading.
func FuzzSplitDocuments(f *testing.F) {
	for _, s := range []string{"a: 1\n---\nb: 2\n", "---\r\n--- x\n----\n", "x\n\n---"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) { checkSplit(t, text) })
}
