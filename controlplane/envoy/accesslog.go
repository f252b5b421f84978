package envoy

import (
	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	"google.golang.org/protobuf/types/known/structpb"
)

// Access log formats and levels, as Contour's accesslog-format and
// accesslog-level settings.
const (
	// LogEnvoy is Envoy's default text line.
	LogEnvoy = "envoy"
	// LogJSON is one JSON object per request, with JSONLogFields.
	LogJSON = "json"

	LogInfo     = "info"     // every request
	LogError    = "error"    // responses with a status of 400 or more
	LogCritical = "critical" // responses with a status of 500 or more
	LogDisabled = "disabled" // none
)

// AccessLogFileLogger is the name of Envoy's file access logger; route
// metadata under it names the object that routed a request.
const AccessLogFileLogger = "envoy.access_loggers.file"

// JSONLogFields are the fields of a JSON access log line and the Envoy
// command operators that fill them. kind, namespace and name come from the
// routes' metadata: the object that routed the request. Envoy escapes every
// value, so a line stays valid JSON whatever a client sends.
var JSONLogFields = map[string]string{
	"@timestamp":                "%START_TIME%",
	"authority":                 "%REQ(:AUTHORITY)%",
	"bytes_received":            "%BYTES_RECEIVED%",
	"bytes_sent":                "%BYTES_SENT%",
	"downstream_local_address":  "%DOWNSTREAM_LOCAL_ADDRESS%",
	"downstream_remote_address": "%DOWNSTREAM_REMOTE_ADDRESS%",
	"duration":                  "%DURATION%",
	"method":                    "%REQ(:METHOD)%",
	"path":                      "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
	"protocol":                  "%PROTOCOL%",
	"request_id":                "%REQ(X-REQUEST-ID)%",
	"requested_server_name":     "%REQUESTED_SERVER_NAME%",
	"response_code":             "%RESPONSE_CODE%",
	"response_flags":            "%RESPONSE_FLAGS%",
	"upstream_cluster":          "%UPSTREAM_CLUSTER%",
	"upstream_host":             "%UPSTREAM_HOST%",
	"upstream_service_time":     "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
	"user_agent":                "%REQ(USER-AGENT)%",
	"x_forwarded_for":           "%REQ(X-FORWARDED-FOR)%",
	"kind":                      "%METADATA(ROUTE:" + AccessLogFileLogger + ":io.projectcontour.kind)%",
	"namespace":                 "%METADATA(ROUTE:" + AccessLogFileLogger + ":io.projectcontour.namespace)%",
	"name":                      "%METADATA(ROUTE:" + AccessLogFileLogger + ":io.projectcontour.name)%",
}

// LogSettings describe an access log: Format (LogEnvoy or LogJSON), the
// file Path, the Level of requests kept; Text, when set, is the line of the
// envoy format (Contour's accesslog-format-string, with Envoy's command
// operators); JSONFields the JSON line's fields by name (JSONLogFields when
// nil).
type LogSettings struct {
	Format, Path, Level, Text string
	JSONFields                map[string]string
}

// AccessLogs returns the access loggers of Envoy's ingress listeners: a
// file logger as s describes; none for LogDisabled. For a TCP proxy (tcp),
// which has no status codes, LogError and LogCritical keep the connections
// Envoy flagged (upstream failures, timeouts, overflows). The caller checks
// the values (see the Log constants, JSONFields and CheckTextFormat);
// unknown ones are taken as the defaults.
func AccessLogs(s LogSettings, tcp bool) []*accesslogv3.AccessLog {
	if s.Level == LogDisabled {
		return nil
	}
	fl := &filev3.FileAccessLog{Path: s.Path}
	switch {
	case s.Format == LogJSON:
		jsonFields := s.JSONFields
		if jsonFields == nil {
			jsonFields = JSONLogFields
		}
		fields := make(map[string]*structpb.Value, len(jsonFields))
		for k, v := range jsonFields {
			fields[k] = structpb.NewStringValue(v)
		}
		fl.AccessLogFormat = &filev3.FileAccessLog_LogFormat{LogFormat: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_JsonFormat{JsonFormat: &structpb.Struct{Fields: fields}}}}
	case s.Text != "":
		fl.AccessLogFormat = &filev3.FileAccessLog_LogFormat{LogFormat: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_TextFormatSource{TextFormatSource: &corev3.DataSource{
				Specifier: &corev3.DataSource_InlineString{InlineString: s.Text}}}}}
	}
	log := &accesslogv3.AccessLog{Name: AccessLogFileLogger, ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: Any(fl)}}
	min := map[string]uint32{LogError: 400, LogCritical: 500}[s.Level]
	if min > 0 && tcp {
		log.Filter = &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_ResponseFlagFilter{
			ResponseFlagFilter: &accesslogv3.ResponseFlagFilter{}}}
	} else if min > 0 {
		log.Filter = &accesslogv3.AccessLogFilter{FilterSpecifier: &accesslogv3.AccessLogFilter_StatusCodeFilter{
			StatusCodeFilter: &accesslogv3.StatusCodeFilter{Comparison: &accesslogv3.ComparisonFilter{
				Op:    accesslogv3.ComparisonFilter_GE,
				Value: &corev3.RuntimeUInt32{DefaultValue: min, RuntimeKey: "isobar.accesslog.min_status"},
			}}}}
	}
	return []*accesslogv3.AccessLog{log}
}
