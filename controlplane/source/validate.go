package source

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// invalidService returns the field and the reason when the API server
// would refuse s for something the core relies on: a Service with more
// than one port must name each, with distinct names, since a port's name
// names its endpoints (its EDS assignment, its EndpointSlice ports).
func invalidService(s *corev1.Service) (field, message string, bad bool) {
	ports := s.Spec.Ports
	if len(ports) < 2 {
		return "", "", false
	}
	seen := make(map[string]int, len(ports))
	for i, p := range ports {
		field = fmt.Sprintf("spec.ports[%d].name", i)
		if p.Name == "" {
			return field, "required when a Service has more than one port (the API server refuses this Service)", true
		}
		if j, dup := seen[p.Name]; dup {
			return field, fmt.Sprintf("%q is also the name of spec.ports[%d] (the API server refuses this Service)", p.Name, j), true
		}
		seen[p.Name] = i
	}
	return "", "", false
}
