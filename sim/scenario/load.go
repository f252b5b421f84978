package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// Scenario is one scenario file.
type Scenario struct {
	// Name is the file name without extension; it names the golden folder.
	Name string `json:"-"`
	// Path is the file the scenario was read from.
	Path string `json:"-"`
	// Story is the comment block at the top of the file.
	Story   string  `json:"-"`
	Options Options `json:"options"`
	Steps   []Step  `json:"steps"`
}

// Options are the core options of a scenario (the flags of translate).
type Options struct {
	RootNamespaces        []string `json:"rootNamespaces,omitempty"`
	IngressClass          string   `json:"ingressClass,omitempty"`
	DisablePermitInsecure bool     `json:"disablePermitInsecure,omitempty"`
	EnableExternalName    bool     `json:"enableExternalName,omitempty"`
}

// Step applies and deletes objects, then checks expectations.
type Step struct {
	Name string `json:"name"`
	// Apply holds items that are either {file: PATH} (relative to the
	// scenario file) or a whole Kubernetes manifest.
	Apply []json.RawMessage `json:"apply,omitempty"`
	// Delete holds {kind, namespace, name} references.
	Delete []status.Ref `json:"delete,omitempty"`
	// AllowUnrouted lists URLs of probes that may stop being routed in this
	// step (a deliberate removal).
	AllowUnrouted []string `json:"allowUnrouted,omitempty"`
	Expect        Expect   `json:"expect"`
}

// Expect is what must hold after a step.
type Expect struct {
	Status   []StatusExpect    `json:"status,omitempty"`
	Findings []FindingExpect   `json:"findings,omitempty"`
	Requests []json.RawMessage `json:"requests,omitempty"`
}

// StatusExpect names an object and the currentStatus it must have.
type StatusExpect struct {
	status.Ref
	CurrentStatus status.CurrentStatus `json:"currentStatus"`
}

// FindingExpect must match at least one finding: the code, and when given
// the severity, an object ("Kind ns/name") and a message substring.
type FindingExpect struct {
	Code     string          `json:"code"`
	Severity status.Severity `json:"severity,omitempty"`
	Object   string          `json:"object,omitempty"`
	Message  string          `json:"message,omitempty"`
}

var stepName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Load reads a scenario file. Step names must be unique lower-case words
// joined by dashes (they name golden files).
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sc Scenario
	if err := yaml.UnmarshalStrict(data, &sc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sc.Path = path
	sc.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	sc.Story = story(data)
	if len(sc.Steps) == 0 {
		return nil, fmt.Errorf("%s: no steps", path)
	}
	seen := map[string]bool{}
	for i, st := range sc.Steps {
		if !stepName.MatchString(st.Name) {
			return nil, fmt.Errorf("%s: steps[%d]: name %q must be lower-case words joined by dashes", path, i, st.Name)
		}
		if seen[st.Name] {
			return nil, fmt.Errorf("%s: steps[%d]: duplicate step name %q", path, i, st.Name)
		}
		seen[st.Name] = true
	}
	return &sc, nil
}

// story returns the leading comment lines of a file, without "# ".
func story(data []byte) string {
	var lines []string
	for _, l := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimSpace(string(l))
		if !strings.HasPrefix(s, "#") {
			break
		}
		lines = append(lines, strings.TrimSpace(strings.TrimPrefix(s, "#")))
	}
	return strings.Join(lines, "\n")
}
