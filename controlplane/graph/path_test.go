package graph

import (
	"strings"
	"testing"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// TestEnvoyLengthLimits: names and values longer than Envoy takes in its
// configuration are refused where they are read, so that they make their
// object invalid instead of reaching Envoy, which would refuse the whole
// route configuration holding them.
func TestEnvoyLengthLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", maxHeaderBytes+1)
	for _, tc := range []struct {
		what string
		err  error
		want string // a part of the error; "" for none
	}{
		{"a header name at the limit", validateHeaderName(long[1:], false), ""},
		{"a header name over it", validateHeaderName(long, false), "header name is 16385 bytes long; Envoy takes at most 16384"},
		{"a header value at the limit", validateHeaderValue(long[1:]), ""},
		{"a header value over it", validateHeaderValue(long), "header value is 16385 bytes long; Envoy takes at most 16384"},
		{"a header value that escaping takes over it", func() error {
			_, err := headersPolicy(&contourv1.HeadersPolicy{Set: []contourv1.HeaderValue{{Name: "x-a", Value: "%" + long[2:]}}}, "ns", &contourv1.Service{}, false)
			return err
		}(), `header "x-a": header value is 16385 bytes long`}, // 16384 bytes, "%" escaped to "%%"
		{"a query parameter name at the limit", func() error {
			_, err := queryConditions([]contourv1.MatchCondition{{QueryParameter: &contourv1.QueryParameterMatchCondition{Name: long[:maxQueryNameBytes], Present: true}}})
			return err
		}(), ""},
		{"a query parameter name over it", func() error {
			_, err := queryConditions([]contourv1.MatchCondition{{QueryParameter: &contourv1.QueryParameterMatchCondition{Name: long[:maxQueryNameBytes+1], Present: true}}})
			return err
		}(), "a query parameter name is 1025 bytes long; Envoy takes at most 1024"},
	} {
		switch {
		case tc.want == "" && tc.err != nil:
			t.Errorf("%s: unexpected error %v", tc.what, tc.err)
		case tc.want != "" && (tc.err == nil || !strings.Contains(tc.err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.what, tc.err, tc.want)
		}
	}
}
