package graph

import (
	"fmt"
	"strings"

	"github.com/isobar-dev/isobar/controlplane/envoy"
)

// AccessLog is how Envoy's ingress listeners log requests, as Contour's
// accesslog-format, accesslog-level and access log path settings. The zero
// value is Contour's default: Envoy's text line for every request, on
// Envoy's standard output.
type AccessLog struct {
	// Format is "envoy" (Envoy's default text line) or "json" (one object
	// per request; see envoy.JSONLogFields).
	Format string
	// Path is the file Envoy writes to.
	Path string
	// Level is "info" (every request), "error" (status 400 or more),
	// "critical" (500 or more) or "disabled".
	Level string
	// Text, when set, is the line of the envoy format (Contour's
	// accesslog-format-string; see envoy.CheckTextFormat).
	Text string
	// JSONFields are the fields of a JSON line, one entry of Contour's
	// json-fields a line (see envoy.JSONFields); empty: envoy.JSONLogFields.
	// A string, so that an AccessLog stays comparable.
	JSONFields string
}

// Fields returns the JSON fields by name: nil for the default ones.
func (a AccessLog) Fields() (map[string]string, error) {
	if a.JSONFields == "" {
		return nil, nil
	}
	return envoy.JSONFields(strings.Split(a.JSONFields, "\n"))
}

// Defaults fills the zero fields of a.
func (a AccessLog) Defaults() AccessLog {
	if a.Format == "" {
		a.Format = envoy.LogEnvoy
	}
	if a.Path == "" {
		a.Path = "/dev/stdout"
	}
	if a.Level == "" {
		a.Level = envoy.LogInfo
	}
	return a
}

// Check returns an error naming the first value of a that is not one of
// those AccessLog lists.
func (a AccessLog) Check() error {
	a = a.Defaults()
	switch {
	case a.Format != envoy.LogEnvoy && a.Format != envoy.LogJSON:
		return fmt.Errorf("access log format %q: use envoy or json", a.Format)
	case a.Level != envoy.LogInfo && a.Level != envoy.LogError && a.Level != envoy.LogCritical && a.Level != envoy.LogDisabled:
		return fmt.Errorf("access log level %q: use info, error, critical or disabled", a.Level)
	}
	for _, r := range a.Path {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("access log path %q has a control character", a.Path)
		}
	}
	if a.Text != "" {
		if err := envoy.CheckTextFormat(a.Text); err != nil {
			return err
		}
	}
	_, err := a.Fields()
	return err
}
