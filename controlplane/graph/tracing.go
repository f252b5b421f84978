package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/isobar-dev/isobar/controlplane/status"
)

// FindingTracingServiceNotFound says the tracing setting names an
// ExtensionService that does not exist or is not valid.
const FindingTracingServiceNotFound = "TracingServiceNotFound"

// Tracing is Contour's tracing setting, as its configuration file writes
// it: every connection manager traces requests with OpenTelemetry and
// sends the spans to an ExtensionService (a collector).
type Tracing struct {
	// ExtensionService is the collector, namespace/name.
	ExtensionService string `json:"extensionService"`
	// ServiceName names Envoy in the spans ("": contour).
	ServiceName *string `json:"serviceName,omitempty"`
	// IncludePodDetail tags spans with the Envoy pod's name and namespace
	// (the HOSTNAME and CONTOUR_NAMESPACE environment variables; nil:
	// true).
	IncludePodDetail *bool `json:"includePodDetail,omitempty"`
	// OverallSampling, ClientSampling and RandomSampling are percentages
	// (nil or 0: 100), as Contour writes them: strings.
	OverallSampling *string `json:"overallSampling,omitempty"`
	ClientSampling  *string `json:"clientSampling,omitempty"`
	RandomSampling  *string `json:"randomSampling,omitempty"`
	// MaxPathTagLength bounds the path in the URL tag (nil: 256).
	MaxPathTagLength *uint32 `json:"maxPathTagLength,omitempty"`
	// CustomTags are tags of every span, each a literal or a request
	// header's value.
	CustomTags []TracingTag `json:"customTags,omitempty"`
}

// TracingTag is a custom tag: exactly one of Literal and
// RequestHeaderName.
type TracingTag struct {
	TagName           string `json:"tagName"`
	Literal           string `json:"literal,omitempty"`
	RequestHeaderName string `json:"requestHeaderName,omitempty"`
}

// ParseTracing reads a tracing setting given as JSON (unknown fields
// refused) and checks it.
func ParseTracing(s string) (*Tracing, error) {
	var t Tracing
	if err := decodeSetting(s, &t); err != nil {
		return nil, fmt.Errorf("not a tracing setting: %w", err)
	}
	return &t, t.Check()
}

// decodeSetting decodes one JSON value, s, into v, refusing unknown
// fields.
func decodeSetting(s string, v any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

// Check returns an error naming the first part of t that is not valid:
// Contour's rules (a collector; each tag named, once, with exactly one of
// a literal and a header) and percentages from 0 to 100.
func (t *Tracing) Check() error {
	if _, _, err := parseExtensionServiceRef(t.ExtensionService); err != nil {
		return fmt.Errorf("extensionService: %w", err)
	}
	for _, p := range []struct {
		name string
		v    *string
	}{{"overallSampling", t.OverallSampling}, {"clientSampling", t.ClientSampling}, {"randomSampling", t.RandomSampling}} {
		if _, err := samplingRate(p.v); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	seen := map[string]bool{}
	for i, tag := range t.CustomTags {
		switch {
		case tag.TagName == "":
			return fmt.Errorf("customTags[%d]: tagName must be defined", i)
		case seen[tag.TagName]:
			return fmt.Errorf("customTags[%d]: tagName %s is duplicate", i, tag.TagName)
		case (tag.Literal == "") == (tag.RequestHeaderName == ""):
			return fmt.Errorf("customTags[%d]: must set exactly one of literal or requestHeaderName", i)
		case strings.ContainsAny(tag.TagName+tag.Literal+tag.RequestHeaderName, "\x00\r\n"):
			return fmt.Errorf("customTags[%d]: a line break or NUL byte is not allowed", i)
		}
		seen[tag.TagName] = true
	}
	return nil
}

// samplingRate is a sampling percentage: 100 when unset or 0 (Contour's).
func samplingRate(v *string) (float64, error) {
	if v == nil {
		return 100, nil
	}
	f, err := strconv.ParseFloat(*v, 64)
	if err != nil || f < 0 || f > 100 {
		return 0, fmt.Errorf("%q is not a percentage (0 to 100)", *v)
	}
	if f == 0 {
		return 100, nil
	}
	return f, nil
}

// TracingSettings is a tracing setting resolved against its collector's
// ExtensionService, as the connection managers use it; comparable, so
// that Connections stay a map key. The zero value traces nothing.
type TracingSettings struct {
	// Cluster is the collector's cluster, Authority the gRPC authority
	// (its SNI, else the cluster name with dots), Timeout its
	// ExtensionService's response timeout.
	Cluster, Authority string
	Timeout            Timeout
	ServiceName        string
	// Overall, Client and Random are the sampling percentages.
	Overall, Client, Random float64
	MaxPathTagLength        uint32
	// Tags are the custom tags, one a line: name, kind (literal,
	// environment or header) and value, separated by NUL bytes.
	Tags string
}

// On reports whether t traces requests.
func (t TracingSettings) On() bool { return t.Cluster != "" }

// tracingService resolves Options.Tracing into the graph's Connections;
// a collector that does not exist or is not valid is a finding, and
// nothing is traced (Contour refuses to start).
func (b *builder) tracingService() {
	t := b.opts.Tracing
	if t == nil {
		return
	}
	ns, name, _ := strings.Cut(t.ExtensionService, "/")
	x, ok := b.extension(ns, name)
	if !ok {
		b.report.Find(status.Finding{Code: FindingTracingServiceNotFound, Severity: status.SeverityError,
			Objects: []status.Ref{{Kind: status.KindExtensionService, Namespace: ns, Name: name}},
			Message: fmt.Sprintf("tracing.extensionService: ExtensionService %s/%s does not exist or is not valid: "+
				"no request is traced (Contour refuses to start)", ns, name)})
		return
	}
	b.findNotHTTP2(x, "tracing")
	b.g.Connections.Tracing = t.settings(x)
}

// settings is t resolved with its collector x (t checked).
func (t *Tracing) settings(x *Extension) TracingSettings {
	cluster := ExtensionClusterName(x.Cluster.Namespace, x.Cluster.Extension.Name)
	out := TracingSettings{Cluster: cluster, Authority: strings.ReplaceAll(cluster, "/", "."), Timeout: x.Timeout,
		ServiceName: "contour", MaxPathTagLength: 256}
	if x.Cluster.SNI != "" {
		out.Authority = x.Cluster.SNI
	}
	if t.ServiceName != nil && *t.ServiceName != "" {
		out.ServiceName = *t.ServiceName
	}
	if t.MaxPathTagLength != nil {
		out.MaxPathTagLength = *t.MaxPathTagLength
	}
	out.Overall, _ = samplingRate(t.OverallSampling)
	out.Client, _ = samplingRate(t.ClientSampling)
	out.Random, _ = samplingRate(t.RandomSampling)
	var tags []string
	if t.IncludePodDetail == nil || *t.IncludePodDetail {
		tags = append(tags, "podName\x00environment\x00HOSTNAME", "podNamespace\x00environment\x00CONTOUR_NAMESPACE")
	}
	for _, tag := range t.CustomTags {
		if tag.Literal != "" {
			tags = append(tags, tag.TagName+"\x00literal\x00"+tag.Literal)
		} else {
			tags = append(tags, tag.TagName+"\x00header\x00"+tag.RequestHeaderName)
		}
	}
	out.Tags = strings.Join(tags, "\n")
	return out
}
