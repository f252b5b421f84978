package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
	"github.com/isobar-dev/isobar/controlplane/graph"
)

// rateLimitFlags are the flags of Contour's rateLimitService (Contour has
// only the configuration file keys): the ExtensionService of global rate
// limits and how Envoy asks it.
type rateLimitFlags struct {
	service       string
	defaultPolicy string
	graph.RateLimitService
}

// rateLimitFlagNames are the flags that need --rate-limit-service.
var rateLimitFlagNames = []string{"rate-limit-domain", "rate-limit-fail-open", "rate-limit-x-headers", "rate-limit-resource-exhausted-code",
	"rate-limit-default-policy"}

func (f *rateLimitFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.service, "rate-limit-service", "",
		"namespace/name of the ExtensionService of global rate limits (Contour's rateLimitService.extensionService): "+
			"every connection manager then asks it about HTTPProxy rateLimitPolicy.global descriptors")
	cmd.Flags().StringVar(&f.Domain, "rate-limit-domain", "", "rate limit domain sent to the rate limit service (rateLimitService.domain; required with --rate-limit-service)")
	cmd.Flags().BoolVar(&f.FailOpen, "rate-limit-fail-open", false,
		"let requests through when the rate limit service fails or does not answer in time (rateLimitService.failOpen)")
	cmd.Flags().BoolVar(&f.XRateLimitHeaders, "rate-limit-x-headers", false,
		"add the X-RateLimit-Limit, -Remaining and -Reset headers to answers (rateLimitService.enableXRateLimitHeaders)")
	cmd.Flags().BoolVar(&f.ResourceExhaustedCode, "rate-limit-resource-exhausted-code", false,
		"answer limited gRPC requests RESOURCE_EXHAUSTED rather than UNAVAILABLE (rateLimitService.enableResourceExhaustedCode)")
	cmd.Flags().StringVar(&f.defaultPolicy, "rate-limit-default-policy", "",
		"global rate limit policy, as JSON ({\"descriptors\":[{\"entries\":[...]}]}), of every HTTPProxy virtual host without its own "+
			"(rateLimitService.defaultGlobalRateLimitPolicy)")
}

// parseDefaultPolicy reads a defaultGlobalRateLimitPolicy given as JSON:
// unknown fields are refused, and its descriptors checked as an
// HTTPProxy's.
func parseDefaultPolicy(s string) ([]graph.RateLimitDescriptor, error) {
	var p contourv1.GlobalRateLimitPolicy
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a global rate limit policy: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("not a global rate limit policy: more than one JSON value")
	}
	return graph.DefaultGlobalRateLimit(&p)
}

// resolve checks the flags and returns the service they describe.
func (f *rateLimitFlags) resolve(cmd *cobra.Command) (graph.RateLimitService, error) {
	s := f.RateLimitService
	if f.service == "" {
		for _, name := range rateLimitFlagNames {
			if cmd.Flags().Changed(name) {
				return graph.RateLimitService{}, fmt.Errorf("--%s needs --rate-limit-service", name)
			}
		}
		return graph.RateLimitService{}, nil
	}
	if err := s.ParseRateLimitService(f.service); err != nil {
		return graph.RateLimitService{}, fmt.Errorf("--rate-limit-service: %w", err)
	}
	if f.defaultPolicy != "" {
		d, err := parseDefaultPolicy(f.defaultPolicy)
		if err != nil {
			return graph.RateLimitService{}, fmt.Errorf("--rate-limit-default-policy: %w", err)
		}
		s.Default = d
	}
	if s.Domain == "" {
		return graph.RateLimitService{}, fmt.Errorf("--rate-limit-domain: required with --rate-limit-service (Envoy's ratelimit filter needs a domain)")
	}
	return s, nil
}
