package graph

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// TestSlowStart: Contour's defaults (aggression 1, minimum weight 10 %) fill
// what the policy leaves out, an explicit 0 % is kept, and what Envoy cannot
// apply is a SlowStartInvalid error naming the field.
func TestSlowStart(t *testing.T) {
	zero, half, over := uint32(0), uint32(50), uint32(101)
	for _, tc := range []struct {
		name string
		p    *contourv1.SlowStartPolicy
		lb   LoadBalancer
		want *SlowStart
		err  string
	}{
		{name: "none", lb: RoundRobin},
		{name: "defaults", p: &contourv1.SlowStartPolicy{Window: "30s"}, lb: RoundRobin,
			want: &SlowStart{Window: 30 * time.Second, Aggression: 1, MinWeightPercent: 10}},
		{name: "all set, least request", p: &contourv1.SlowStartPolicy{Window: "1m30s", Aggression: "1.5", MinimumWeightPercent: &half},
			lb: WeightedLeastRequest, want: &SlowStart{Window: 90 * time.Second, Aggression: 1.5, MinWeightPercent: 50}},
		{name: "explicit zero weight", p: &contourv1.SlowStartPolicy{Window: "10s", MinimumWeightPercent: &zero}, lb: RoundRobin,
			want: &SlowStart{Window: 10 * time.Second, Aggression: 1, MinWeightPercent: 0}},
		{name: "random", p: &contourv1.SlowStartPolicy{Window: "10s"}, lb: Random,
			err: "Services[2].slowStartPolicy: slow start needs the RoundRobin or WeightedLeastRequest strategy, not Random"},
		{name: "cookie", p: &contourv1.SlowStartPolicy{Window: "10s"}, lb: Cookie, err: "not Cookie"},
		{name: "bad window", p: &contourv1.SlowStartPolicy{Window: "ten seconds"}, lb: RoundRobin,
			err: `Services[2].slowStartPolicy.window "ten seconds" is not a duration of 0 or more`},
		{name: "negative window", p: &contourv1.SlowStartPolicy{Window: "-1s"}, lb: RoundRobin, err: `window "-1s"`},
		{name: "zero aggression", p: &contourv1.SlowStartPolicy{Window: "1s", Aggression: "0"}, lb: RoundRobin,
			err: `Services[2].slowStartPolicy.aggression "0" is not a decimal number above 0`},
		{name: "word aggression", p: &contourv1.SlowStartPolicy{Window: "1s", Aggression: "fast"}, lb: RoundRobin, err: `aggression "fast"`},
		{name: "infinite aggression", p: &contourv1.SlowStartPolicy{Window: "1s", Aggression: "Inf"}, lb: RoundRobin, err: `aggression "Inf"`},
		{name: "weight above 100", p: &contourv1.SlowStartPolicy{Window: "1s", MinimumWeightPercent: &over}, lb: RoundRobin,
			err: "Services[2].slowStartPolicy.minWeightPercent 101 is above 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := slowStart(tc.p, tc.lb, 2)
			if tc.err != "" {
				re, ok := err.(routeError)
				if !ok || re.reason != "SlowStartInvalid" || re.t != "ServiceError" || !strings.Contains(re.msg, tc.err) {
					t.Fatalf("error %s, want a ServiceError/SlowStartInvalid containing %q", fmt.Sprintf("%#v", err), tc.err)
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
