package goldentest

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isobar-dev/isobar/controlplane"
)

// Case is one folder under fixtures/ holding an input.yaml.
type Case struct {
	Name  string // path below fixtures/, slash-separated
	Input string // absolute path of input.yaml
}

// Cases finds every fixtures/**/input.yaml outside fixtures/scenarios.
func Cases(t testing.TB) []Case {
	t.Helper()
	root := Path("fixtures")
	var cases []Case
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "scenarios" {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "input.yaml" {
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			cases = append(cases, Case{Name: filepath.ToSlash(rel), Input: p})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// CaseOptions reads a case's compile options and default namespace from
// a header line of its input.yaml (the flags of caseFlags, with the
// commands' names and meanings, and --namespace / -n):
//
//	# args: --root-namespaces=roots,marketing --ingress-class=x --disable-permit-insecure
//
// An unknown option or a bad value fails t.
func CaseOptions(t testing.TB, input []byte) (controlplane.Options, string) {
	t.Helper()
	opts, ns, err := ParseCaseOptions(input)
	if err != nil {
		t.Fatal(err)
	}
	return opts, ns
}

// ParseCaseOptions is CaseOptions, answering an error instead.
func ParseCaseOptions(input []byte) (controlplane.Options, string, error) {
	opts := controlplane.Options{}
	ns := "default"
	for _, line := range strings.Split(string(input), "\n") {
		args, ok := strings.CutPrefix(line, "# args:")
		if !ok {
			continue
		}
		for _, a := range strings.Fields(args) {
			k, v, _ := strings.Cut(a, "=")
			if k == "--namespace" || k == "-n" {
				ns = v
				continue
			}
			set, ok := caseFlags[k]
			if !ok {
				return controlplane.Options{}, "", fmt.Errorf("unknown option %q in the args header", a)
			}
			if err := set(&opts, k, v); err != nil {
				return controlplane.Options{}, "", fmt.Errorf("%s %q: %v", k, v, err)
			}
		}
	}
	opts.Options = opts.Options.Defaults()
	return opts, ns, nil
}

// ArgsHeader returns the args header lines of input, one a line ("" when
// it has none).
func ArgsHeader(input []byte) string {
	var out []string
	for _, line := range strings.Split(string(input), "\n") {
		if strings.HasPrefix(line, "# args:") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// joinLine appends v to a setting of one entry a line.
func joinLine(s, v string) string {
	if s == "" {
		return v
	}
	return s + "\n" + v
}
