package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/isobar-dev/isobar/controlplane/source"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// checkFinding is a finding as `isobar check -o json` prints it: the
// finding, and where its objects were read, for those read from a file.
type checkFinding struct {
	status.Finding
	Locations []location `json:"locations,omitempty"`
}

// location is where one object of a finding was read: the file as given
// on the command line ("-" for stdin), the document's 1-based index in it
// and the line the document starts on.
type location struct {
	status.Ref
	File string `json:"file"`
	Doc  int    `json:"doc"`
	Line int    `json:"line,omitempty"`
}

// locate pairs each finding with the locations of its objects, in the
// finding's order of objects; an object with no origin has none.
func locate(findings []status.Finding, origins map[status.Ref]source.Origin) []checkFinding {
	out := make([]checkFinding, len(findings))
	for i, f := range findings {
		out[i].Finding = f
		for _, o := range f.Objects {
			if at, ok := origins[o]; ok {
				out[i].Locations = append(out[i].Locations, location{Ref: o, File: at.File, Doc: at.Doc, Line: at.Line})
			}
		}
	}
	return out
}

// at is where in its file l is: the line, or "document N" when the line
// is unknown.
func (l location) at() string {
	if l.Line > 0 {
		return strconv.Itoa(l.Line)
	}
	return "document " + strconv.Itoa(l.Doc)
}

// String is "file:line", or "file document N" when the line is unknown.
func (l location) String() string { return l.inFile() + l.at() }

// inFile is what precedes at in String: "file:", or "file " when the line
// is unknown.
func (l location) inFile() string {
	if l.Line > 0 {
		return l.File + ":"
	}
	return l.File + " "
}

// where is the distinct places of f's objects, the places in one file
// after its name ("a.yaml:6,21, b.yaml:3"); "-" when none is known.
func (f checkFinding) where() string {
	var files []location // the first location in each file
	places := map[string][]string{}
	for _, l := range f.Locations {
		p, ok := places[l.File]
		if !ok {
			files = append(files, l)
		}
		if !slices.Contains(p, l.at()) {
			places[l.File] = append(p, l.at())
		}
	}
	if len(files) == 0 {
		return "-"
	}
	out := make([]string, len(files))
	for i, first := range files {
		out[i] = first.inFile() + strings.Join(places[first.File], ",")
	}
	return strings.Join(out, ", ")
}

// objectNames is the objects of f, as the text and GitHub outputs name them.
func objectNames(f status.Finding) string {
	objs := make([]string, len(f.Objects))
	for i, o := range f.Objects {
		objs[i] = o.String()
	}
	return strings.Join(objs, ", ")
}

// writeCheckGitHub prints the report as GitHub Actions workflow commands:
// each problem an error annotation on its file and line, each finding an
// annotation (error, warning or notice by severity) on the file and line
// of each of its objects that was read from a file (once per place; once
// with no place when none was), titled with its code. The summary line
// follows as plain text. A pull request's diff then shows the findings
// where the objects are.
func writeCheckGitHub(w io.Writer, rep checkReport, problems []source.Problem) {
	for _, p := range problems {
		fmt.Fprintf(w, "::error %s::%s\n", annotationProperties(p.File, p.Line, "InvalidInput"), escapeData(p.Error()))
	}
	for _, f := range rep.Findings {
		level := map[status.Severity]string{status.SeverityError: "error", status.SeverityWarning: "warning"}[f.Severity]
		if level == "" {
			level = "notice"
		}
		msg := escapeData(objectNames(f.Finding) + ": " + f.Message)
		seen := map[string]bool{}
		for _, l := range f.Locations {
			if s := l.String(); !seen[s] {
				seen[s] = true
				fmt.Fprintf(w, "::%s %s::%s\n", level, annotationProperties(l.File, l.Line, f.Code), msg)
			}
		}
		if len(seen) == 0 {
			fmt.Fprintf(w, "::%s %s::%s\n", level, annotationProperties("", 0, f.Code), msg)
		}
	}
	writeSummary(w, rep.Summary)
}

// annotationProperties renders a workflow command's properties: file and
// line when known, and the title.
func annotationProperties(file string, line int, title string) string {
	var props []string
	if file != "" && file != "-" {
		props = append(props, "file="+escapeProperty(file))
		if line > 0 {
			props = append(props, "line="+strconv.Itoa(line))
		}
	}
	return strings.Join(append(props, "title="+escapeProperty(title)), ",")
}

// escapeData escapes a workflow command's message as GitHub reads it.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
