package source

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"

	"github.com/isobar-dev/isobar/controlplane/status"
	"github.com/isobar-dev/isobar/internal/parallel"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// DefaultNamespace is the namespace of namespaced objects that name
	// none, as with `kubectl apply` (default "default").
	DefaultNamespace string
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Reuse, when set, shares decoded documents with other loads that use
	// it (see Reuse).
	Reuse *Reuse
	// Trim drops what the core never reads of Services and endpoints as
	// they are read (see Trim), as the cluster informers do: `serve
	// --fixtures`, and the commands that only compile (translate, check,
	// route), whose whole S10k process it takes from 490 to 440 MB.
	// Commands that show objects or compare them (`diff`, scenarios) leave
	// it off, so that a change to a Service's selector still shows. Not for
	// use with Reuse: trimming changes the objects a Reuse shares.
	Trim bool
	// Origins records where each object was read (Index.Origins), for
	// commands that point at files (`check`). Off, the map stays empty:
	// nothing else reads it, and at S10k it is 55,000 entries (5 MB).
	Origins bool
}

// RequestsFile reports whether a file holds requests for `isobar route`
// rather than objects: requests.yaml or *.requests.yaml. Load skips them
// when reading folders, so a fixture folder can hold both.
func RequestsFile(path string) bool {
	base := filepath.Base(path)
	return base == "requests.yaml" || base == "requests.yml" || strings.HasSuffix(base, ".requests.yaml")
}

// Load reads every path — a file, a folder (recursively: *.yaml, *.yml,
// *.json, in lexical order, skipping requests files) or "-" for stdin —
// into a new Index. Documents it cannot use are returned as Problems; every
// other document is still indexed. The Index does not depend on the order
// of the paths or of the documents in them, except that when the same
// object appears twice the one read last wins (with a warning note).
func Load(opts LoadOptions, paths ...string) (*Index, []Problem) {
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = "default"
	}
	l := &loader{opts: opts, idx: NewIndex(), seen: map[refKey]Origin{}}
	for _, p := range paths {
		l.path(p)
	}
	sort.SliceStable(l.idx.Notes, func(i, j int) bool { return l.idx.Notes[i].Message < l.idx.Notes[j].Message })
	return l.idx, l.problems
}

// LoadBytes reads one document stream (YAML or JSON) named name into a new
// Index, as Load does for a file.
func LoadBytes(opts LoadOptions, name string, data []byte) (*Index, []Problem) {
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = "default"
	}
	l := &loader{opts: opts, idx: NewIndex(), seen: map[refKey]Origin{}}
	l.stream(name, string(data))
	return l.idx, l.problems
}

type loader struct {
	opts     LoadOptions
	idx      *Index
	problems []Problem
	seen     map[refKey]Origin
}

type refKey struct{ kind, ns, name string }

func (l *loader) path(p string) {
	if p == "-" {
		if l.opts.Stdin == nil {
			l.problems = append(l.problems, Problem{File: "-", Message: "no standard input"})
			return
		}
		data, err := io.ReadAll(l.opts.Stdin)
		if err != nil {
			l.problems = append(l.problems, Problem{File: "-", Message: err.Error()})
			return
		}
		l.stream("-", owned(data))
		return
	}
	info, err := os.Stat(p)
	if err != nil {
		l.problems = append(l.problems, Problem{File: p, Message: err.Error()})
		return
	}
	if !info.IsDir() {
		l.file(p)
		return
	}
	var files []string
	err = filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || RequestsFile(f) {
			return nil
		}
		switch strings.ToLower(filepath.Ext(f)) {
		case ".yaml", ".yml", ".json":
			files = append(files, f)
		}
		return nil
	})
	if err != nil {
		l.problems = append(l.problems, Problem{File: p, Message: err.Error()})
	}
	sort.Strings(files)
	for _, f := range files {
		l.file(f)
	}
}

func (l *loader) file(f string) {
	data, err := os.ReadFile(f)
	if err != nil {
		l.problems = append(l.problems, Problem{File: f, Message: err.Error()})
		return
	}
	l.stream(f, owned(data))
}

// owned views bytes the loader read itself, and that nothing writes again,
// as a string without copying them (S10k is 27 MB).
func owned(data []byte) string {
	return unsafe.String(unsafe.SliceData(data), len(data))
}

// document is one YAML document of a stream.
type document struct {
	index int      // 1-based
	start int      // 1-based line of its first line
	lines []string // its lines, once split (splitLines)
	raw   string   // its text, lines joined as in the file
}

// splitDocuments splits a YAML stream on "---" separator lines; documents
// are substrings of it. Only the separators are looked at here: a
// document's lines are split by (*document).splitLines, on the decoding
// workers.
func splitDocuments(text string) []document {
	var docs []document
	cur := document{index: 1, start: 1}
	line, pos, docStart := 1, 0, 0 // line is the number of the line starting at pos
	for pos < len(text) {
		if !strings.HasPrefix(text[pos:], "---") {
			i := strings.Index(text[pos:], "\n---")
			if i < 0 {
				break
			}
			line += strings.Count(text[pos:pos+i+1], "\n")
			pos += i + 1
		}
		end, next := len(text), len(text)
		if i := strings.IndexByte(text[pos:], '\n'); i >= 0 {
			end, next = pos+i, pos+i+1
		}
		if s := strings.TrimRight(text[pos:end], "\r"); s == "---" || strings.HasPrefix(s, "--- ") {
			cur.raw = text[docStart:pos]
			docs = append(docs, cur)
			cur = document{index: cur.index + 1, start: line + 1}
			docStart = next
		}
		pos, line = next, line+1
	}
	cur.raw = text[min(docStart, len(text)):]
	return append(docs, cur)
}

// splitLines fills d.lines from d.raw: its lines without line breaks.
func (d *document) splitLines() {
	if d.lines != nil || d.raw == "" {
		return
	}
	raw := strings.TrimSuffix(d.raw, "\n")
	d.lines = make([]string, 0, strings.Count(raw, "\n")+1)
	for {
		i := strings.IndexByte(raw, '\n')
		if i < 0 {
			d.lines = append(d.lines, strings.TrimRight(raw, "\r"))
			return
		}
		d.lines = append(d.lines, strings.TrimRight(raw[:i], "\r"))
		raw = raw[i+1:]
	}
}

// stream reads every document of one file. Documents are decoded in
// parallel (YAML parsing is most of the cost) and applied in order as they
// are decoded, so the result is the same as a sequential read.
func (l *loader) stream(name string, text string) {
	trimmed := strings.TrimSpace(text)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		decodeJSON(l, name, 1, 1, []byte(trimmed))
		return
	}
	docs := splitDocuments(text)
	if len(l.seen) == 0 && len(l.idx.Origins) == 0 { // size the maps once, not by doubling
		l.seen = make(map[refKey]Origin, len(docs))
		if l.opts.Origins {
			l.idx.Origins = make(map[status.Ref]Origin, len(docs))
		}
	}
	recs := make([]recorder, len(docs))
	reuse := l.opts.Reuse
	if !reuse.usable(l.opts.DefaultNamespace) {
		reuse = nil
	}
	// Documents are applied to the index in order while later ones decode.
	parallel.Ordered(len(docs), 64, func(i int) {
		if docs[i].splitLines(); !isEmpty(docs[i].lines) {
			decodeReusing(reuse, &recs[i], name, docs[i])
		}
	}, func(i int) {
		recs[i].replay(l)
		recs[i], docs[i].lines = recorder{}, nil
	})
}

func isEmpty(lines []string) bool {
	for _, s := range lines {
		s = strings.TrimSpace(s)
		if s != "" && !strings.HasPrefix(s, "#") {
			return false
		}
	}
	return true
}

// firstContentLine is the file line of a document's first non-comment line.
func firstContentLine(d document) int {
	for i, s := range d.lines {
		s = strings.TrimSpace(s)
		if s != "" && !strings.HasPrefix(s, "#") {
			return d.start + i
		}
	}
	return d.start
}

func (l *loader) problem(p Problem) { l.problems = append(l.problems, p) }

func describeKinds() string {
	kinds := make([]string, 0, len(decoders))
	for gvk := range decoders {
		kinds = append(kinds, gvk.kind+" ("+gvk.apiVersion+")")
	}
	sort.Strings(kinds)
	return strings.Join(kinds, ", ")
}
