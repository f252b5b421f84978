package graph

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/isobar-dev/isobar/controlplane/envoy"
)

// TestConnections reads Contour's timeout settings: empty is the default
// (60 s for idle connections, Envoy's for the rest), infinity and 0 are
// off, anything else must be a non-negative duration.
func TestConnections(t *testing.T) {
	t.Parallel()
	d := func(v time.Duration) envoy.Timeout { return envoy.Timeout{Set: true, Duration: v} }
	off := envoy.Timeout{Set: true, Off: true}
	for _, tc := range []struct {
		name string
		c    Connections
		want envoy.Connections
		err  string
	}{
		{name: "defaults", want: envoy.Connections{Idle: d(60 * time.Second)}},
		{name: "values", c: Connections{RequestTimeout: "30s", ConnectionIdleTimeout: "infinity", StreamIdleTimeout: "5m",
			MaxConnectionDuration: "1h", DelayedCloseTimeout: "0s", ConnectionShutdownGracePeriod: "infinite", NumTrustedHops: 1,
			DisableMergeSlashes: true, DisableAllowChunkedLength: true},
			want: envoy.Connections{Request: d(30 * time.Second), Idle: off, StreamIdle: d(5 * time.Minute), MaxDuration: d(time.Hour),
				DelayedClose: off, Drain: off, TrustedHops: 1, KeepSlashes: true, RejectChunkedLength: true}},
		{name: "listener limits", c: Connections{MaxRequestsPerConnection: 100, HTTP2MaxConcurrentStreams: 1<<31 - 1, ServerHeaderTransformation: "pass_through"},
			want: envoy.Connections{Idle: d(60 * time.Second), MaxRequests: 100, MaxStreams: 1<<31 - 1, ServerHeader: envoy.ServerPassThrough}},
		{name: "append_if_absent", c: Connections{ServerHeaderTransformation: "append_if_absent"},
			want: envoy.Connections{Idle: d(60 * time.Second), ServerHeader: envoy.ServerAppendIfAbsent}},
		{name: "overwrite", c: Connections{ServerHeaderTransformation: "overwrite"},
			want: envoy.Connections{Idle: d(60 * time.Second), ServerHeader: envoy.ServerOverwrite}},
		{name: "unknown server header", c: Connections{ServerHeaderTransformation: "Overwrite"}, err: `server-header-transformation "Overwrite": must be`},
		{name: "too many streams", c: Connections{HTTP2MaxConcurrentStreams: 1 << 31}, err: `listener-http2-max-concurrent-streams 2147483648: Envoy accepts at most 2147483647`},
		{name: "not a duration", c: Connections{StreamIdleTimeout: "5 minutes"}, err: `stream-idle-timeout "5 minutes": not a duration`},
		{name: "negative", c: Connections{RequestTimeout: "-1s"}, err: `request-timeout "-1s"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.Envoy()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
