package goldentest

import (
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
// a header line of its input.yaml:
//
//	# args: --root-namespaces=roots,marketing --ingress-class=x --disable-permit-insecure
func CaseOptions(t testing.TB, input []byte) (controlplane.Options, string) {
	t.Helper()
	opts := controlplane.Options{}
	ns := "default"
	for _, line := range strings.Split(string(input), "\n") {
		args, ok := strings.CutPrefix(line, "# args:")
		if !ok {
			continue
		}
		for _, a := range strings.Fields(args) {
			k, v, _ := strings.Cut(a, "=")
			switch k {
			case "--root-namespaces":
				opts.RootNamespaces = strings.Split(v, ",")
			case "--ingress-class":
				opts.IngressClass = v
			case "--disable-permit-insecure":
				opts.DisablePermitInsecure = true
			case "--enable-external-name":
				opts.EnableExternalName = true
			case "--accesslog-format":
				opts.AccessLog.Format = v
			case "--accesslog-level":
				opts.AccessLog.Level = v
			case "--accesslog-path":
				opts.AccessLog.Path = v
			case "--now":
				now, err := time.Parse(time.RFC3339, v)
				if err != nil {
					t.Fatalf("--now %q: %v", v, err)
				}
				opts.Now = now
			case "--num-trusted-hops":
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					t.Fatalf("--num-trusted-hops %q: %v", v, err)
				}
				opts.Connections.NumTrustedHops = uint32(n)
			case "--namespace", "-n":
				ns = v
			default:
				t.Fatalf("unknown option %q in the args header", a)
			}
		}
	}
	opts.Options = opts.Options.Defaults()
	return opts, ns
}
