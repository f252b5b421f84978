package envoy

import (
	"strings"
	"testing"

	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	"github.com/google/go-cmp/cmp"
)

// TestJSONFields resolves Contour's json-fields entries by hand-written
// expectations: known names, operator names, name=format, and what is
// refused.
func TestJSONFields(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		entries []string
		want    map[string]string
		err     string
	}{
		{name: "names", entries: []string{"@timestamp", "ts", "uber_trace_id", "upstream_local_address", "kind"},
			want: map[string]string{"@timestamp": "%START_TIME%", "ts": "%START_TIME%", "uber_trace_id": "%REQ(UBER-TRACE-ID)%",
				"upstream_local_address": "%UPSTREAM_LOCAL_ADDRESS%",
				"kind":                   "%METADATA(ROUTE:envoy.access_loggers.file:io.projectcontour.kind)%"}},
		{name: "operator names", entries: []string{"grpc_status", "response_code_details"},
			want: map[string]string{"grpc_status": "%GRPC_STATUS%", "response_code_details": "%RESPONSE_CODE_DETAILS%"}},
		{name: "formats", entries: []string{"host=%REQ(:AUTHORITY)%", "when=%START_TIME(%s.%3f)%", "msg=took %DURATION% ms", "plain=text"},
			want: map[string]string{"host": "%REQ(:AUTHORITY)%", "when": "%START_TIME(%s.%3f)%", "msg": "took %DURATION% ms", "plain": "text"}},
		{name: "unknown name", entries: []string{"colour"}, err: `"colour": not a field`},
		{name: "unknown operator", entries: []string{"x=%COLOUR%"}, err: "no command operator COLOUR"},
		{name: "operator without its argument", entries: []string{"x=%REQ%"}, err: "REQ needs an argument"},
		{name: "truncated start time", entries: []string{"x=%START_TIME:10%"}, err: "START_TIME cannot be truncated"},
		{name: "no name", entries: []string{"=%DURATION%"}, err: "no name"},
		{name: "empty format", entries: []string{"x="}, err: "empty format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := JSONFields(tc.entries)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestTextFormat: Contour's accesslog-format-string must end with a line
// break and use Envoy's operators; the logger then writes that line.
func TestTextFormat(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"%START_TIME% %REQ(:PATH)% %RESPONSE_CODE%\n": "",
		"%START_TIME%":       "must end with a line break",
		"%REQ% %DURATION%\n": "REQ needs an argument",
		"%FOO_BAR%\n":        "no command operator FOO_BAR",
	} {
		err := CheckTextFormat(text)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
	logs := AccessLogs(LogSettings{Format: LogEnvoy, Path: "/dev/stdout", Level: LogInfo, Text: "%DURATION%\n"}, false)
	var fl filev3.FileAccessLog
	if err := logs[0].GetTypedConfig().UnmarshalTo(&fl); err != nil {
		t.Fatal(err)
	}
	if got := fl.GetLogFormat().GetTextFormatSource().GetInlineString(); got != "%DURATION%\n" {
		t.Errorf("the logger writes %q", got)
	}
}
