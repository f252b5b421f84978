package main

import (
	"fmt"
	"io"
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

// String is "file:line", or "file document N" when the line is unknown.
func (l location) String() string {
	if l.Line > 0 {
		return l.File + ":" + strconv.Itoa(l.Line)
	}
	return l.File + " document " + strconv.Itoa(l.Doc)
}

// where is the distinct places of f's objects, the lines of one file
// after its name ("a.yaml:6,21, b.yaml:3"); "-" when none is known.
func (f checkFinding) where() string {
	var files []string
	places := map[string][]string{}
	for _, l := range f.Locations {
		at := strconv.Itoa(l.Line)
		if l.Line == 0 {
			at = "document " + strconv.Itoa(l.Doc)
		}
		if _, ok := places[l.File]; !ok {
			files = append(files, l.File)
		}
		if p := places[l.File]; len(p) == 0 || p[len(p)-1] != at {
			places[l.File] = append(p, at)
		}
	}
	if len(files) == 0 {
		return "-"
	}
	out := make([]string, len(files))
	for i, file := range files {
		sep := ":"
		if strings.HasPrefix(places[file][0], "document") {
			sep = " "
		}
		out[i] = file + sep + strings.Join(places[file], ",")
	}
	return strings.Join(out, ", ")
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
		objs := make([]string, len(f.Objects))
		for i, o := range f.Objects {
			objs[i] = o.String()
		}
		msg := escapeData(strings.Join(objs, ", ") + ": " + f.Message)
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
