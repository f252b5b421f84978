package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/isobar-dev/isobar/controlplane/graph"
)

// rateLimitFlags are the flags of Contour's rateLimitService (Contour has
// only the configuration file keys): the ExtensionService of global rate
// limits and how Envoy asks it.
type rateLimitFlags struct {
	service string
	graph.RateLimitService
}

// rateLimitFlagNames are the flags that need --rate-limit-service.
var rateLimitFlagNames = []string{"rate-limit-domain", "rate-limit-fail-open", "rate-limit-x-headers", "rate-limit-resource-exhausted-code"}

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
	if s.Domain == "" {
		return graph.RateLimitService{}, fmt.Errorf("--rate-limit-domain: required with --rate-limit-service (Envoy's ratelimit filter needs a domain)")
	}
	return s, nil
}
