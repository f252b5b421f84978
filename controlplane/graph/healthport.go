package graph

import (
	corev1 "k8s.io/api/core/v1"

	contourv1 "github.com/isobar-dev/isobar/controlplane/apis/projectcontour/v1"
)

// healthPort resolves a service's healthPort: the Service port that the
// active health checks of its cluster go to instead of the traffic port,
// as Contour does. It counts only with a health check policy and a port
// other than the service's own (nil otherwise); a port the Service does
// not have is a lookup error, as an unresolved service port.
func (b *builder) healthPort(p *contourv1.HTTPProxy, svc *contourv1.Service, hc *HealthCheck) (*corev1.ServicePort, error) {
	if hc == nil || svc.HealthPort <= 0 || svc.HealthPort == svc.Port {
		return nil, nil
	}
	c, err := b.lookupServicePort(p.Namespace, svc.Name, svc.HealthPort)
	if err != nil {
		return nil, err
	}
	return &c.Port, nil
}
