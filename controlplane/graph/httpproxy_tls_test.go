package graph

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTLSProtocolVersions: as in Contour, whose CRD admits any string, a
// root's minimum or maximum TLS version other than 1.2 or 1.3 is not an
// error: the default applies, with an IgnoredField warning naming it. A
// minimum above the maximum still is one.
func TestTLSProtocolVersions(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		versions         string
		wantMin, wantMax string
		wantStatus       []string
		wantWarnings     []string
	}{
		"1.2 and 1.3 are kept": {
			versions: `minimumProtocolVersion: "1.3", maximumProtocolVersion: "1.3"`, wantMin: "1.3", wantMax: "1.3",
			wantStatus: []string{"HTTPProxy ns/p: valid"},
		},
		"other values are ignored": {
			versions:   `minimumProtocolVersion: "0.999", maximumProtocolVersion: "1.4"`,
			wantStatus: []string{"HTTPProxy ns/p: valid warn:IgnoredField,warn:IgnoredField"},
			wantWarnings: []string{
				`Spec.VirtualHost.TLS.maximumProtocolVersion "1.4" is ignored: it is not 1.2 or 1.3, so the default version is used`,
				`Spec.VirtualHost.TLS.minimumProtocolVersion "0.999" is ignored: it is not 1.2 or 1.3, so the default version is used`,
			},
		},
		"an ignored maximum leaves the minimum": {
			versions: `minimumProtocolVersion: "1.3", maximumProtocolVersion: "TLSv1.3"`, wantMin: "1.3",
			wantStatus: []string{"HTTPProxy ns/p: valid warn:IgnoredField"},
			wantWarnings: []string{
				`Spec.VirtualHost.TLS.maximumProtocolVersion "TLSv1.3" is ignored: it is not 1.2 or 1.3, so the default version is used`,
			},
		},
		"a minimum above the maximum is an error": {
			versions:   `minimumProtocolVersion: "1.3", maximumProtocolVersion: "1.2"`,
			wantStatus: []string{"HTTPProxy ns/p: invalid TLSConfigNotValid"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g, r := build(t, Options{}, `
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: p, namespace: ns}
spec:
  virtualhost: {fqdn: a.com, tls: {secretName: cert, `+tc.versions+`}}
  routes: [{services: [{name: s, port: 80}]}]
`+svcs("ns", "s")+certSecret(t, "ns", "cert"))
			if d := cmp.Diff(tc.wantStatus, statuses(r)); d != "" {
				t.Errorf("statuses (-want +got):\n%s", d)
			}
			var warnings []string
			for _, w := range r.Objects()[0].Conditions[0].Warnings {
				warnings = append(warnings, w.Message)
			}
			if d := cmp.Diff(tc.wantWarnings, warnings); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
			hosts := SortedSecureVirtualHosts(g)
			if valid := !strings.Contains(tc.wantStatus[0], "invalid"); len(hosts) != map[bool]int{false: 0, true: 1}[valid] {
				t.Fatalf("%d secure hosts for a root valid=%v", len(hosts), valid)
			}
			for _, vh := range hosts {
				if vh.MinTLS != tc.wantMin || vh.MaxTLS != tc.wantMax {
					t.Errorf("versions %q-%q, want %q-%q", vh.MinTLS, vh.MaxTLS, tc.wantMin, tc.wantMax)
				}
			}
		})
	}
}
