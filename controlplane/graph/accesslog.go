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
	// RouteMetadata says when routes carry the metadata naming their
	// source object (RouteMetadataAuto or RouteMetadataAlways).
	RouteMetadata string
}

// When routes carry their source object's metadata (AccessLog.RouteMetadata).
const (
	// RouteMetadataAuto puts it on routes only when the access log reads
	// it (see AccessLog.ReadsRouteMetadata): it is most of the bytes of a
	// route configuration, which every Envoy is sent.
	RouteMetadataAuto = "auto"
	// RouteMetadataAlways puts it on every route, as Contour does.
	RouteMetadataAlways = "always"
)

// routeMetadataOperator is how Envoy's command operators read a route's
// metadata.
const routeMetadataOperator = "METADATA(ROUTE:"

// SourceMetadata reports whether routes carry the metadata naming their
// source object: always with RouteMetadataAlways; otherwise when Envoy's
// access log reads some route metadata (a field of the JSON line, or the
// text line, with a %METADATA(ROUTE:...)% operator). Isobar's default JSON
// fields kind, namespace and name read it; Envoy's default text line does
// not, and a disabled log reads nothing. a's values are taken as checked.
func (a AccessLog) SourceMetadata() bool {
	a = a.Defaults()
	switch {
	case a.RouteMetadata == RouteMetadataAlways:
		return true
	case a.Level == envoy.LogDisabled:
		return false
	case a.Format == envoy.LogEnvoy:
		return strings.Contains(a.Text, routeMetadataOperator)
	}
	fields, err := a.Fields()
	if err != nil {
		return true // not checked: keep Contour's behaviour
	}
	if fields == nil {
		fields = envoy.JSONLogFields
	}
	for _, f := range fields {
		if strings.Contains(f, routeMetadataOperator) {
			return true
		}
	}
	return false
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
	if a.RouteMetadata == "" {
		a.RouteMetadata = RouteMetadataAuto
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
	case a.RouteMetadata != RouteMetadataAuto && a.RouteMetadata != RouteMetadataAlways:
		return fmt.Errorf("route metadata %q: use auto or always", a.RouteMetadata)
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
