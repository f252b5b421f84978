package graph

import (
	"fmt"
	"math"
	"strconv"
	"time"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/status"
)

// ReasonSlowStartInvalid is Contour's reason for a slowStartPolicy that
// cannot be applied.
const ReasonSlowStartInvalid = "SlowStartInvalid"

// SlowStart ramps the traffic a cluster's new endpoints receive over
// Window (Envoy's slow start): an endpoint starts at MinWeightPercent of
// its weight, and Aggression shapes the curve (1 is linear).
type SlowStart struct {
	Window           time.Duration
	Aggression       float64
	MinWeightPercent uint32
}

// Slow start defaults, as Contour's CRD sets them.
const (
	defaultSlowStartAggression = 1.0
	defaultSlowStartMinWeight  = 10
)

// slowStart converts service j's slowStartPolicy for a route balanced with
// lb: nil without a policy, an error (SlowStartInvalid, naming the field)
// when Envoy cannot apply it. Envoy ramps only the RoundRobin and
// WeightedLeastRequest strategies; the window must be a non-negative
// duration, the aggression a positive decimal number and the minimum
// weight a percentage.
func slowStart(p *contourv1.SlowStartPolicy, lb LoadBalancer, j int) (*SlowStart, error) {
	if p == nil {
		return nil, nil
	}
	bad := func(format string, args ...any) error {
		return routeError{status.ServiceError, ReasonSlowStartInvalid,
			fmt.Sprintf("Services[%d].slowStartPolicy", j) + fmt.Sprintf(format, args...)}
	}
	if lb != RoundRobin && lb != WeightedLeastRequest {
		return nil, bad(": slow start needs the RoundRobin or WeightedLeastRequest strategy, not %s", lb)
	}
	window, err := time.ParseDuration(p.Window)
	if err != nil || window < 0 {
		return nil, bad(".window %q is not a duration of 0 or more", p.Window)
	}
	s := &SlowStart{Window: window, Aggression: defaultSlowStartAggression, MinWeightPercent: defaultSlowStartMinWeight}
	if p.Aggression != "" {
		a, err := strconv.ParseFloat(p.Aggression, 64)
		if err != nil || !(a > 0) || math.IsInf(a, 0) {
			return nil, bad(".aggression %q is not a decimal number above 0", p.Aggression)
		}
		s.Aggression = a
	}
	if m := p.MinimumWeightPercent; m != nil {
		if *m > 100 {
			return nil, bad(".minWeightPercent %d is above 100", *m)
		}
		s.MinWeightPercent = *m
	}
	return s, nil
}
